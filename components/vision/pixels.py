"""Images from documents: the pixel columns of each `meta["row"]` (the `table` reader's rows).

`pixel_columns` resolves `pixels.columns` (a glob, in natural order, or a list) against
the first row; `collect_images` streams the corpus once into ids, an array
(N, channels, height, width) scaled to [0, 1], and labels. A document without a row, with
a missing or non-numeric pixel, or without its label is counted in `skipped` (by reason),
never fatal; settings that fit no document are a `ConfigError` naming the key.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.config import ConfigError
from pipeline.document import Document

from .settings import PixelSettings

__all__ = ["ImageData", "collect_images", "document_image", "natural_key", "pixel_columns"]


@dataclass
class ImageData:
    """The usable documents: `ids`, `images` (N, C, H, W) float32 and `labels` (str)."""

    ids: list[str]
    images: np.ndarray
    labels: list[str]
    skipped: Counter[str] = field(default_factory=Counter)

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, index: Sequence[int] | np.ndarray) -> ImageData:
        """The documents at `index`, in that order."""
        index = np.asarray(index, dtype=np.int64)
        return ImageData(
            [self.ids[i] for i in index], self.images[index], [self.labels[i] for i in index]
        )


def natural_key(name: str) -> list[Any]:
    """Sort key of names in natural order: "pixel_2" before "pixel_10", "2" before "10"."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def pixel_columns(row: Mapping[str, Any], pixels: PixelSettings, *, where: str) -> list[str]:
    """The pixel column names, in pixel order, as `row` (the first document's) has them."""
    needed = pixels.shape[0] * pixels.shape[1] * pixels.channels
    if isinstance(pixels.columns, list):
        columns = list(pixels.columns)
        missing = [c for c in columns if c not in row]
        if missing:
            raise ConfigError(
                f"{where}.pixels.columns: {len(missing)} listed column(s) are not in the rows "
                f"(first: {', '.join(map(repr, missing[:3]))}; the rows have "
                f"{', '.join(map(repr, list(row)[:5]))}, ...)"
            )
        return columns
    columns = sorted(fnmatch.filter(list(row), pixels.columns), key=natural_key)
    if len(columns) != needed:
        raise ConfigError(
            f"{where}.pixels.columns: {len(columns)} columns match {pixels.columns!r}, but "
            f"shape {list(pixels.shape)} × {pixels.channels} channel(s) needs {needed}; "
            f"the rows have {len(row)} columns ({', '.join(map(repr, list(row)[:4]))}, ...): "
            "fix the glob, list the columns, or change pixels.shape"
        )
    return columns


def document_image(
    doc: Document, columns: Sequence[str], pixels: PixelSettings
) -> tuple[np.ndarray | None, str]:
    """`(image (C, H, W) float32 in [0, 1] before clipping, "")`, or `(None, reason)`."""
    row = doc.meta.get("row")
    if not isinstance(row, Mapping):
        return None, "no meta['row'] (read the corpus with the table reader)"
    values = []
    for name in columns:
        value = row.get(name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            return None, "missing or non-numeric pixel"
        values.append(value)
    height, width = pixels.shape
    image = np.asarray(values, dtype=np.float32).reshape(height, width, pixels.channels)
    return np.transpose(image, (2, 0, 1)) / np.float32(pixels.scale), ""


def collect_images(
    corpus: Iterable[Document], *, pixels: PixelSettings, label: str, where: str
) -> tuple[ImageData, list[str]]:
    """Every usable labelled image of `corpus` (one pass) and the pixel columns used."""
    ids: list[str] = []
    images: list[np.ndarray] = []
    labels: list[str] = []
    skipped: Counter[str] = Counter()
    columns: list[str] | None = None
    for doc in corpus:
        row = doc.meta.get("row")
        if columns is None and isinstance(row, Mapping):
            columns = pixel_columns(row, pixels, where=where)
        if columns is None:
            skipped["no meta['row'] (read the corpus with the table reader)"] += 1
            continue
        image, reason = document_image(doc, columns, pixels)
        if image is None:
            skipped[reason] += 1
            continue
        value = doc.meta.get(label)
        if value is None or value == "":
            skipped[f"no meta[{label!r}]"] += 1
            continue
        ids.append(doc.id)
        images.append(image)
        labels.append(str(value))
    if not ids:
        reasons = "; ".join(f"{n} {reason}" for reason, n in skipped.most_common(3)) or "none read"
        raise ConfigError(
            f"{where}.pixels: no document gave a labelled image ({reasons}); read the "
            "images with the table reader (one pixel per column) and set label / pixels"
        )
    shape = (0, pixels.channels, *pixels.shape)
    array = np.stack(images) if images else np.zeros(shape, dtype=np.float32)
    return ImageData(ids, array, labels, skipped), columns or []
