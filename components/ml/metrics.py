"""Classification metrics as one JSON-ready mapping, computed by scikit-learn.

Nothing here re-implements a score: accuracy, precision/recall/F1 (macro, micro,
weighted and per class), the confusion matrix, one-vs-rest ROC-AUC and log loss are
scikit-learn's functions called with an explicit class order, so two runs (or a run and
a notebook) agree on every number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["AVERAGES", "classification_metrics", "summarize_folds"]

AVERAGES = ("macro", "micro", "weighted")


def classification_metrics(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    proba: np.ndarray | Sequence[Sequence[float]] | None = None,
    classes: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """Scores of predictions `y_pred` against `y_true`, as plain floats and lists.

    `classes` fixes the class order (default: the sorted labels seen in either); `proba`
    (one column per class, in that order) adds `roc_auc` (one-vs-rest macro; binary: the
    second class is the positive one) and `log_loss`. A score scikit-learn cannot define
    on these labels (ROC-AUC when a class is absent from `y_true`) is `None`.
    """
    from sklearn import metrics as skm

    y_true = [str(y) for y in y_true]
    y_pred = [str(y) for y in y_pred]
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}")
    if not y_true:
        raise ValueError("no labels to score: y_true is empty")
    labels = [str(c) for c in classes] if classes is not None else sorted({*y_true, *y_pred})
    out: dict[str, Any] = {
        "documents": len(y_true),
        "classes": labels,
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
    }
    for average in AVERAGES:
        p, r, f, _ = skm.precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=average, zero_division=0
        )
        out[f"precision_{average}"] = float(p)
        out[f"recall_{average}"] = float(r)
        out[f"f1_{average}"] = float(f)
    p, r, f, s = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division=0
    )
    out["per_class"] = {
        label: {
            "precision": float(p[i]),
            "recall": float(r[i]),
            "f1": float(f[i]),
            "support": int(s[i]),
        }
        for i, label in enumerate(labels)
    }
    out["confusion_matrix"] = skm.confusion_matrix(y_true, y_pred, labels=labels).tolist()
    if proba is not None:
        out.update(_probability_scores(y_true, np.asarray(proba, dtype=float), labels))
    return out


def _probability_scores(y_true: list[str], proba: np.ndarray, labels: list[str]) -> dict[str, Any]:
    """ROC-AUC and log loss, where scikit-learn defines them for these labels."""
    from sklearn import metrics as skm

    if proba.shape != (len(y_true), len(labels)):
        raise ValueError(
            f"proba has shape {proba.shape}; expected ({len(y_true)}, {len(labels)}): "
            "one row per label and one column per class, in `classes` order"
        )
    # scikit-learn's log loss and ROC-AUC read the columns in sorted label order
    order = sorted(range(len(labels)), key=lambda i: labels[i])
    proba, labels = proba[:, order], [labels[i] for i in order]
    present = set(y_true)
    roc_auc: float | None = None
    if len(labels) == 2 and len(present) == 2:
        positive_column = 1 if order == [0, 1] else 0  # the second class *as given* is positive
        positive_label = labels[positive_column]
        positive = [int(y == positive_label) for y in y_true]
        roc_auc = float(skm.roc_auc_score(positive, proba[:, positive_column]))
    elif len(labels) > 2 and present == set(labels):
        roc_auc = float(
            skm.roc_auc_score(y_true, proba, multi_class="ovr", average="macro", labels=labels)
        )
    return {
        "roc_auc": roc_auc,
        "log_loss": float(skm.log_loss(y_true, proba, labels=labels)),
    }


def summarize_folds(fold_metrics: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean and standard deviation (population, as scikit-learn's `cross_validate` users
    compute it with numpy) of every scalar score over cross-validation folds."""
    keys = [
        key
        for key, value in fold_metrics[0].items()
        if isinstance(value, float) and all(m.get(key) is not None for m in fold_metrics)
    ]
    return {
        key: {
            "mean": float(np.mean([m[key] for m in fold_metrics])),
            "std": float(np.std([m[key] for m in fold_metrics])),
        }
        for key in keys
    }
