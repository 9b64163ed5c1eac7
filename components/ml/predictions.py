"""How a classifier's predictions are written: one line per document or row.

Shared by the text classifiers (`components.models`), the tabular task and the image CNN
(`components.vision`), which may not import the text models.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["prediction", "write_predictions"]


def prediction(row: np.ndarray, classes: Sequence[str]) -> dict[str, Any]:
    """One prediction: the most probable class and every class's probability."""
    return {
        "label": classes[int(np.argmax(row))],
        "probabilities": {c: float(p) for c, p in zip(classes, row, strict=True)},
    }


def write_predictions(
    path: Path,
    ids: Sequence[str],
    labels: Sequence[Any],
    proba: np.ndarray,
    classes: Sequence[str],
    parts: Sequence[str],
) -> None:
    """`predictions.jsonl`: per item `{"id", "label", "probabilities", "split", "true"}`."""
    with path.open("w", encoding="utf-8") as fh:
        for item_id, true, row, part in zip(ids, labels, proba, parts, strict=True):
            line = {"id": item_id, **prediction(row, classes), "split": str(part), "true": true}
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
