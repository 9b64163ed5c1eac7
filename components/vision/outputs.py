"""What the image-cnn task writes: JSON files, predictions, plots and its report section.

Kept apart from `task.py` so the task reads as the steps it takes. Everything goes into a
staging folder first and is moved into the task folder at the end (`move_into`), so a fit
that fails part way leaves the previous results whole.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.report_sections import (
    image_block,
    metrics_block,
    table_block,
    text_block,
    write_section,
)

__all__ = ["move_into", "prediction", "write_json", "write_predictions", "write_report"]


def write_json(path: Path, data: Any) -> None:
    """Write `data` as indented UTF-8 JSON (parents created; numpy values as numbers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=_plain), encoding="utf-8")


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def prediction(row: np.ndarray, classes: Sequence[str]) -> dict[str, Any]:
    """The most probable class and every class's probability."""
    return {
        "label": classes[int(np.argmax(row))],
        "probabilities": {c: round(float(p), 6) for c, p in zip(classes, row, strict=True)},
    }


def write_predictions(
    path: Path,
    ids: Sequence[str],
    labels: Sequence[str],
    proba: np.ndarray,
    classes: Sequence[str],
    parts: Sequence[str],
) -> None:
    """`predictions.jsonl`: per image `{"id", "label", "probabilities", "split", "true"}`."""
    with path.open("w", encoding="utf-8") as fh:
        for doc_id, true, row, part in zip(ids, labels, proba, parts, strict=True):
            line = {"id": doc_id, **prediction(row, classes), "split": part, "true": true}
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")


def move_into(staging: Path, folder: Path) -> None:
    """Move every file under `staging` to the same place under `folder`, replacing files."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in sorted(p for p in staging.rglob("*") if p.is_file()):
        target = folder / source.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)


def write_report(staging: Path, name: str, metrics: dict[str, Any]) -> None:
    """The task's report section: scores beside the baseline, the split, the layers, the
    confusion matrix and the learning curve."""
    test = metrics["test"]
    sizes = metrics["split"]["sizes"]
    settings = metrics["split"]["settings"]
    blocks = [
        text_block(
            f"{sizes['train']:,} training, {sizes['validation']:,} validation and "
            f"{sizes['test']:,} test images ({'stratified' if settings['stratify'] else 'random'} "
            f"split, seed {settings['seed']}); "
            f"trained {metrics['epochs_run']} epochs in {metrics['training_seconds']:.1f} s "
            f"on {metrics['device']}, best epoch {metrics['best_epoch']}"
            + (f"; augmentation {metrics['augment']}" if metrics.get("augment") else "")
            + (
                f"; conv blocks from {metrics['transfer']['from']}"
                if metrics.get("transfer")
                else ""
            )
            + "."
        )
    ]
    if test:
        values: dict[str, Any] = {"accuracy": test["accuracy"], "macro-F1": test["f1_macro"]}
        baseline = metrics.get("baseline")
        if baseline:
            values[f"baseline accuracy ({baseline['model']})"] = baseline["accuracy"]
        blocks.append(metrics_block("Test scores", values))
    rows = [
        [row["layer"], " × ".join(map(str, row["output"])), row["parameters"], row["note"]]
        for row in metrics["summary"]
    ]
    blocks.append(
        table_block(
            "Layers (output shape, parameters)", ["layer", "output", "parameters", "note"], rows
        )
    )
    if test:
        blocks.append(image_block("Confusion matrix (test)", "confusion_matrix.png"))
    blocks.append(image_block("Learning curve", "learning_curve.png"))
    write_section(staging, f"Image CNN: {name}", blocks, order=60)
