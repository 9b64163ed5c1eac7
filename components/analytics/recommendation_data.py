"""The `mf` task's data: its `split:` and `hybrid:` settings and the ratings read from
the documents' `meta["row"]` (bad rows counted, never fatal)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict
from pydantic import Field as Range

from pipeline.config import ConfigError
from pipeline.document import Document

__all__ = ["HybridSettings", "RatingSplit", "Ratings", "read_ratings"]


class RatingSplit(BaseModel):
    """`split:` of the `mf` task: each user holds out `fraction` of their ratings, chosen
    at random (`seed`) or the latest by the `timestamp` column (`by: latest`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fraction: float = Range(default=0.2, gt=0.0, lt=1.0)
    by: Literal["random", "latest"] = "random"
    timestamp: str = "timestamp"
    seed: int = 0


class HybridSettings(BaseModel):
    """`hybrid:` of the `mf` task: the `content` columns whose text describes an item, and
    the `weight` of the content score in the blend (a list: chosen on validation)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weight: float | list[float] = 0.3
    content: list[str] = Range(default_factory=lambda: ["title"], min_length=1)

    def weights(self) -> list[float]:
        """The candidate weights, as a list."""
        return list(self.weight) if isinstance(self.weight, list) else [self.weight]


class Ratings:
    """The usable ratings of a corpus as parallel arrays, the items' content text, every
    document's id with its skip reason (None when used), and the skipped counts."""

    def __init__(self) -> None:
        self.users: Any = []
        self.items: Any = []
        self.ratings: Any = []
        self.timestamps: Any = []
        self.item_text: dict[Any, str] = {}
        self.item_label: dict[Any, str] = {}
        self.documents: list[tuple[str, str | None]] = []
        self.skipped: Counter[str] = Counter()
        self.item_ids: np.ndarray = np.zeros(0)


def read_ratings(
    corpus: Iterable[Document],
    *,
    user: str,
    item: str,
    rating: str,
    split: RatingSplit,
    hybrid: HybridSettings | None,
    where: str,
) -> Ratings:
    """One pass over the corpus: the ratings of `meta["row"]`, bad rows counted; a corpus
    where no row has the configured columns is a `ConfigError` naming the key."""
    data = Ratings()
    content = hybrid.content if hybrid is not None else []
    columns: set[str] = set()
    latest = split.by == "latest"
    for doc in corpus:
        row = doc.meta.get("row")
        reason = None
        if not isinstance(row, Mapping):
            reason = "no_row"
        else:
            columns.update(row)
            user_id, item_id, value = (
                row.get(user),
                row.get(item),
                _number(row.get(rating)),
            )
            stamp = _number(row.get(split.timestamp)) if latest else 0.0
            if user_id is None or user_id == "":
                reason = "missing_user"
            elif item_id is None or item_id == "":
                reason = "missing_item"
            elif value is None:
                reason = "bad_rating"
            elif stamp is None:
                reason = "bad_timestamp"
        data.documents.append((doc.id, reason))
        if reason is not None:
            data.skipped[reason] += 1
            continue
        data.users.append(user_id)
        data.items.append(item_id)
        data.ratings.append(value)
        data.timestamps.append(stamp)
        if content and item_id not in data.item_text:
            data.item_text[item_id] = " ".join(_text(row.get(c)) for c in content).strip()
            data.item_label[item_id] = _text(row.get(content[0]), keep_bars=True)
    wanted = {"user": user, "item": item, "rating": rating}
    if latest:
        wanted["split.timestamp"] = split.timestamp
    for index, name in enumerate(content):
        wanted[f"hybrid.content[{index}]"] = name
    if not columns:
        raise ConfigError(
            f"{where}: no document carries a meta['row']: read the ratings "
            "with the table reader (corpus: {reader: table, path: ...})"
        )
    for key, name in wanted.items():
        if name not in columns:
            raise ConfigError(
                f"{where}.{key}: column {name!r} is not among the rows' columns "
                f"{sorted(columns)[:12]}"
            )
    if not data.users:
        raise ConfigError(
            f"{where}.rating: no usable rating: every row was skipped {dict(data.skipped)}"
        )
    data.users, data.items = _ids(data.users), _ids(data.items)
    data.ratings = np.asarray(data.ratings, dtype=np.float64)
    data.timestamps = np.asarray(data.timestamps, dtype=np.float64)
    as_id = int if data.items.dtype.kind in "iu" else str
    data.item_text = {as_id(k): v for k, v in data.item_text.items()}
    data.item_label = {as_id(k): v for k, v in data.item_label.items()}
    data.item_ids = np.unique(data.items)
    return data


def _number(value: Any) -> float | None:
    """A finite float from a number or numeric text, else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _ids(values: list[Any]) -> np.ndarray:
    """Integer ids stay integers (also when read as 12.0); anything else becomes text."""
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64)
    if all(isinstance(v, float) and v.is_integer() for v in values):
        return np.asarray(values, dtype=np.int64)
    return np.asarray([str(v) for v in values], dtype=str)


def _text(value: Any, *, keep_bars: bool = False) -> str:
    """A row value as text (12.0 as 12; "a|b" lists as words unless `keep_bars`)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if keep_bars else str(value).replace("|", " ")
