"""Small file helpers of the classification tasks: JSON files, predictions, scores, staging.

Kept apart from `classify.py` so the task reads as the steps it takes. Everything a task
writes goes first into a staging folder beside the task folder and is moved in at the
end (`move_into`), so a fit that fails part way leaves the previous results whole.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from components.ml.predictions import prediction, write_predictions

__all__ = [
    "MODEL_FOLDER",
    "PIPELINE_FILE",
    "TASK_FILE",
    "EpochLogger",
    "read_task_record",
    "write_task_record",
    "plain",
    "prediction",
    "read_json",
    "move_into",
    "scores",
    "write_folds",
    "write_json",
    "write_predictions",
]


TASK_FILE = "task.json"  # the task's name, version and parameters
PIPELINE_FILE = "pipeline.json"  # how its documents were read and processed (the run writes it)
MODEL_FOLDER = "model"  # the trained model's own files


def write_task_record(folder: Path, task: Any, **extra: Any) -> None:
    """`task.json` (`model`, `version`, `params` and `extra`) and, when the task knows its
    pipeline (`pipeline_`) and the folder has none, `pipeline.json`."""
    record = {"model": task.model, "version": getattr(task, "version", "1")}
    write_json(folder / TASK_FILE, {**record, "params": task.get_params(), **extra})
    if getattr(task, "pipeline_", None) is not None and not (folder / PIPELINE_FILE).exists():
        write_json(folder / PIPELINE_FILE, task.pipeline_)


def read_task_record(folder: Path, model: str) -> dict[str, Any]:
    """`task.json` of `folder`, refusing one written by another kind of task."""
    record = json.loads((folder / TASK_FILE).read_text(encoding="utf-8"))
    if record.get("model") != model:
        raise ValueError(
            f"{folder / TASK_FILE} holds a {record.get('model')!r} task, not {model!r}"
        )
    return record


def plain(value: Any) -> Any:
    """A parameter value as JSON-ready data (settings models as mappings, tuples as lists)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def read_json(path: Path) -> Any:
    """The JSON in `path`, or `None` when there is no such file."""
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def write_json(path: Path, data: Any) -> None:
    """Write `data` as indented JSON (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")


def scores(labels: Sequence[str], proba: np.ndarray, classes: Sequence[str]) -> dict[str, Any]:
    """`classification_metrics` of the argmax predictions; classes the model never saw
    (in `labels` only) get zero-probability columns, so they count as errors."""
    from components.ml.metrics import classification_metrics

    unseen = sorted(set(labels) - set(classes))
    all_classes = [*classes, *unseen]
    if unseen:
        proba = np.hstack([proba, np.zeros((len(labels), len(unseen)))])
    predicted = [classes[i] for i in np.argmax(proba[:, : len(classes)], axis=1)]
    return classification_metrics(labels, predicted, proba, classes=all_classes)


def move_into(staging: Path, folder: Path, outputs: Sequence[str]) -> None:
    """Move every file under `staging` to the same place under `folder` (replacing what is
    there), after removing the `outputs` names this fit did not write (stale results)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in outputs:
        stale = folder / name
        if not (staging / name).exists():
            if stale.is_dir():
                shutil.rmtree(stale)
            elif stale.exists():
                stale.unlink()
    for source in sorted(p for p in staging.rglob("*") if p.is_file()):
        target = folder / source.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)


def write_folds(
    staging: Path,
    ids: Sequence[str],
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    per_fold: Sequence[dict[str, Any]],
    method: str,
) -> None:
    """`folds/K/metrics.json` per fold and `folds.json`: each document's test fold (a list
    of folds for repeated cross-validation; documents a time split never tests are left out)."""
    for fold in per_fold:
        write_json(staging / "folds" / str(fold["fold"]) / "metrics.json", fold)
    assignment: dict[str, Any] = {}
    for k, (_, test_idx) in enumerate(folds):
        for i in test_idx:
            if method == "repeated":
                assignment.setdefault(ids[i], []).append(k)
            else:
                assignment[ids[i]] = k
    write_json(staging / "folds.json", assignment)


@dataclass(frozen=True)
class EpochLogger:
    """A fit's `FitContext.log`: one line per finished epoch, naming the fit (`topic`,
    `topic/folds/2`) so several tasks and folds can be told apart; a plain dataclass, not a
    closure, so it crosses process boundaries."""

    where: str

    def __call__(self, row: dict[str, Any]) -> None:
        scores = ", ".join(
            f"{k} {v:.4g}" for k, v in row.items() if isinstance(v, float) and k != "seconds"
        )
        logging.getLogger("components.models").info(
            "%s epoch %s: %s (%.1f s)", self.where, row.get("epoch"), scores, row.get("seconds", 0)
        )
