"""Data splits for the tasks: a seeded holdout (train / validation / test) and cross-validation.

Both are scikit-learn's (`train_test_split`, `KFold`, `StratifiedKFold`, `LeaveOneOut`,
`RepeatedStratifiedKFold`, `TimeSeriesSplit`) called with the settings of a task's
`split:` and `cv:` keys, whose schema is `HoldoutSettings` and `CrossValidation` here
(the config validates them like any component parameter). Splits are index arrays into
the task's documents, in corpus order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from .dates import read_date

__all__ = [
    "CrossValidation",
    "Holdout",
    "HoldoutSettings",
    "SplitError",
    "cross_validation_folds",
    "cv_problems",
    "holdout_split",
    "parse_dates",
    "split_problems",
]

CvMethod = Literal["kfold", "stratified", "loo", "repeated", "time"]


class SplitError(ValueError):
    """The documents cannot be split as configured; the message names the key to change."""


class HoldoutSettings(BaseModel):
    """`split:` of a task. `test` and `validation` are fractions of all documents (the
    validation part is carved out of the training part); `stratify` keeps each class's
    share in every part; `seed` fixes the shuffle."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    test: float = 0.2
    validation: float = 0.1
    seed: int = 1
    stratify: bool = True


class CrossValidation(BaseModel):
    """`cv:` of a task. `method`: kfold | stratified | loo (leave one out) | repeated
    (stratified k-fold `repeats` times, or plain k-fold when `stratified` is false) | time
    (`TimeSeriesSplit` over the documents ordered by the date in `meta[date_field]`).
    Without `method`, `stratified` picks stratified or plain k-fold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    folds: int = 5
    stratified: bool = True
    seed: int = 1
    method: CvMethod | None = None
    repeats: int = 2
    date_field: str | None = None

    def resolved_method(self) -> CvMethod:
        """The splitter this setting picks (`method`, else from `stratified`)."""
        if self.method is not None:
            return self.method
        return "stratified" if self.stratified else "kfold"


def split_problems(split: Mapping[str, Any] | None, path: str = "split") -> list[str]:
    """What is wrong with validated `split:` settings, as "key: message" lines (cheap)."""
    if split is None:
        return []
    settings = HoldoutSettings.model_validate(split)
    problems = []
    for key in ("test", "validation"):
        value = getattr(settings, key)
        if not 0.0 <= value < 1.0:
            problems.append(f"{path}.{key}: {value} is invalid: must be in [0, 1)")
    if not problems and settings.test + settings.validation >= 1.0:
        problems.append(
            f"{path}: test ({settings.test}) + validation ({settings.validation}) leave no "
            "training documents: make their sum less than 1"
        )
    return problems


def cv_problems(cv: Mapping[str, Any] | None, path: str = "cv") -> list[str]:
    """What is wrong with validated `cv:` settings, as "key: message" lines (cheap)."""
    if cv is None:
        return []
    settings = CrossValidation.model_validate(cv)
    method = settings.resolved_method()
    problems = []
    if method != "loo" and settings.folds < 2:
        problems.append(f"{path}.folds: {settings.folds} is invalid: use at least 2 folds")
    if method == "repeated" and settings.repeats < 1:
        problems.append(f"{path}.repeats: {settings.repeats} is invalid: use at least 1")
    if method == "time" and not settings.date_field:
        problems.append(
            f"{path}.date_field: required for method 'time': name the meta key holding each "
            "document's date (e.g. date_field: published)"
        )
    return problems


@dataclass(frozen=True)
class Holdout:
    """Index arrays (into the documents, sorted) of the train, validation and test parts."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray

    def sizes(self) -> dict[str, int]:
        """The number of documents in each part."""
        return {
            "train": len(self.train),
            "validation": len(self.validation),
            "test": len(self.test),
        }


def holdout_split(
    labels: Sequence[str],
    *,
    test: float = 0.2,
    validation: float = 0.1,
    seed: int = 1,
    stratify: bool = True,
) -> Holdout:
    """Split document indices into train / validation / test with `train_test_split`.

    `test` and `validation` are fractions of all documents; validation is carved from the
    training part (so its fraction of that part is `validation / (1 - test)`). Raises
    `SplitError` when stratifying is impossible (a class with too few documents).
    """
    indices = np.arange(len(labels))
    y = np.asarray([str(label) for label in labels])
    train, test_idx = _carve(indices, y, test, seed, stratify, "split.test")
    rest = validation / (1.0 - test) if validation else 0.0
    train, val_idx = _carve(train, y, rest, seed, stratify, "split.validation")
    return Holdout(np.sort(train), np.sort(val_idx), np.sort(test_idx))


def _carve(
    indices: np.ndarray, y: np.ndarray, fraction: float, seed: int, stratify: bool, key: str
) -> tuple[np.ndarray, np.ndarray]:
    """`indices` split into (kept, carved) with `fraction` of them carved out."""
    if fraction <= 0.0:
        return indices, indices[:0]
    from sklearn.model_selection import train_test_split

    strata = y[indices] if stratify else None
    try:
        kept, carved = train_test_split(
            indices, test_size=fraction, random_state=seed, shuffle=True, stratify=strata
        )
    except ValueError as exc:
        counts = Counter(y[indices].tolist())
        rarest = ", ".join(f"{c!r}: {n}" for c, n in sorted(counts.items(), key=lambda x: x[1])[:3])
        raise SplitError(
            f"{key}: cannot take {fraction:.3g} of {len(indices)} documents"
            f"{' stratified' if stratify else ''} ({exc}); rarest classes: {rarest}. "
            "Add documents, lower the fraction, or set split.stratify: false"
        ) from None
    return np.asarray(kept), np.asarray(carved)


def parse_dates(values: Sequence[Any], ids: Sequence[str], field: str) -> list[datetime]:
    """Each document's date from `meta[field]` (ISO 8601 or anything `dateutil` reads),
    timezone-aware ones converted to UTC. Raises `SplitError` naming `cv.date_field`, the
    count and the first ids of documents without a readable date."""
    dates: list[datetime] = []
    missing: list[str] = []
    unreadable: list[str] = []
    for value, doc_id in zip(values, ids, strict=True):
        if value is None or value == "":
            missing.append(doc_id)
            continue
        parsed = read_date(value)
        if parsed is None:
            unreadable.append(doc_id)
            continue
        dates.append(parsed)
    if missing or unreadable:
        bad, what = (missing, "lack") if missing else (unreadable, "have an unreadable date in")
        raise SplitError(
            f"cv.date_field: {len(bad)} of {len(ids)} documents {what} meta[{field!r}] "
            f"(first: {', '.join(map(repr, bad[:3]))}); time-ordered cross-validation "
            "needs a date on every document"
        )
    return dates


def cross_validation_folds(
    labels: Sequence[str],
    settings: CrossValidation | Mapping[str, Any],
    *,
    dates: Sequence[datetime] | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per-fold `(train indices, test indices)` with scikit-learn's splitter for `settings`.

    Method `time` needs `dates` (one per document, see `parse_dates`): documents are
    ordered by date and `TimeSeriesSplit` never trains on a date later than a test date.
    Raises `SplitError` when the documents are too few for the folds asked for.
    """
    from sklearn import model_selection as ms

    cv = CrossValidation.model_validate(settings)
    method = cv.resolved_method()
    y = np.asarray([str(label) for label in labels])
    x = np.zeros((len(y), 1))
    if method == "time":
        if dates is None:
            raise SplitError("cv.method 'time' needs each document's date (cv.date_field)")
        order = np.asarray(sorted(range(len(y)), key=lambda i: (dates[i], i)))
        splitter = ms.TimeSeriesSplit(n_splits=cv.folds)
        return _folds(lambda: ((order[a], order[b]) for a, b in splitter.split(order)), cv, y)
    splitters = {
        "kfold": lambda: ms.KFold(n_splits=cv.folds, shuffle=True, random_state=cv.seed),
        "stratified": lambda: ms.StratifiedKFold(
            n_splits=cv.folds, shuffle=True, random_state=cv.seed
        ),
        "loo": ms.LeaveOneOut,
        "repeated": lambda: (ms.RepeatedStratifiedKFold if cv.stratified else ms.RepeatedKFold)(
            n_splits=cv.folds, n_repeats=cv.repeats, random_state=cv.seed
        ),
    }
    splitter = splitters[method]()
    return _folds(lambda: splitter.split(x, y), cv, y)


def _folds(make: Any, cv: CrossValidation, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The splitter's folds as sorted index arrays; its refusal as a `SplitError`."""
    try:
        folds = [(np.sort(train), np.sort(test)) for train, test in make()]
    except ValueError as exc:
        raise SplitError(
            f"cv.folds: cannot make {cv.folds} folds of {len(y)} documents "
            f"({cv.resolved_method()}): {exc}. Lower cv.folds or add documents"
        ) from None
    return folds
