"""What the image-cnn task writes: JSON files, predictions, plots and its report section.

Kept apart from `task.py` so the task reads as the steps it takes. Everything goes into a
staging folder first and is moved into the task folder at the end (`pipeline.files.move_files`), so a fit
that fails part way leaves the previous results whole.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from components.ml.predictions import prediction, write_predictions
from pipeline.files import move_files
from pipeline.report_sections import (
    image_block,
    metrics_block,
    table_block,
    text_block,
    write_section,
)

__all__ = [
    "pixel_baseline",
    "prediction",
    "split_scores",
    "write_json",
    "write_outputs",
    "write_predictions",
    "write_report",
]


def write_json(path: Path, data: Any) -> None:
    """Write `data` as indented UTF-8 JSON (parents created; numpy values as numbers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=_plain), encoding="utf-8")


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def write_report(staging: Path, name: str, metrics: dict[str, Any]) -> None:
    """The task's report section: scores beside the baseline, the split, the layers, the
    confusion matrix and the learning curve."""
    from components.ml.curve_plots import curve_blocks

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
    blocks += curve_blocks(metrics.get("curves"))
    write_section(staging, f"Image CNN: {name}", blocks, order=60)


def split_scores(
    labels: Sequence[str], proba: np.ndarray, index: np.ndarray, classes: Sequence[str]
) -> dict[str, Any] | None:
    """`classification_metrics` of the images at `index` (None when there are none)."""
    from components.ml.metrics import classification_metrics

    if not len(index):
        return None
    predicted = [classes[i] for i in proba[index].argmax(axis=1)]
    truth = [labels[i] for i in index]
    return classification_metrics(truth, predicted, proba[index], classes=list(classes))


def pixel_baseline(
    images: np.ndarray, labels: Sequence[str], train: np.ndarray, test: np.ndarray
) -> dict[str, Any]:
    """Logistic regression on the raw pixels of the same training part, scored on the same
    test part: what the CNN should beat."""
    from sklearn.linear_model import LogisticRegression

    flat = images.reshape(len(images), -1)
    t0 = time.perf_counter()
    model = LogisticRegression(max_iter=2000).fit(flat[train], [labels[i] for i in train])
    truth = np.asarray([labels[i] for i in test])
    return {
        "model": "logistic regression on the raw pixels",
        "accuracy": float(np.mean(model.predict(flat[test]) == truth)),
        "seconds": round(time.perf_counter() - t0, 3),
    }


def write_outputs(
    folder: Path,
    metrics: dict[str, Any],
    data: Any,
    proba: np.ndarray,
    classes: Sequence[str],
    parts: Sequence[str],
    history: Sequence[dict[str, Any]],
    monitor: str,
) -> None:
    """`metrics.json`, `predictions.jsonl`, `confusion_matrix.png` (with a test part),
    `learning_curve.png`, the bias/variance curves (with `curves:`) and `report.json`, through a staging folder beside `folder`."""
    from components.ml.curve_plots import write_curves
    from components.ml.plots import confusion_png
    from components.models.training import plot_learning_curve

    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.staging-", dir=folder.parent))
    try:
        write_json(staging / "metrics.json", metrics)
        write_predictions(
            staging / "predictions.jsonl", data.ids, data.labels, proba, classes, parts
        )
        if metrics["test"]:
            matrix = metrics["test"]["confusion_matrix"]
            confusion_png(matrix, classes, staging / "confusion_matrix.png")
        plot_learning_curve(history, staging / "learning_curve.png", monitor=monitor)
        write_curves(staging, metrics.get("curves"), "image-cnn")
        write_report(staging, folder.name, metrics)
        move_files(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
