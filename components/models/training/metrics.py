"""The per-epoch classification metrics the Trainer records (accuracy, macro-F1)."""

from __future__ import annotations

import numpy as np

__all__ = ["accuracy", "macro_f1"]


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of equal labels."""
    return float(np.mean(y_true == y_pred)) if len(y_true) else 0.0


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Unweighted mean of per-class F1 over the classes in `y_true` or `y_pred`
    (as scikit-learn's `f1_score(average="macro")`)."""
    scores = []
    for c in np.union1d(y_true, y_pred):
        tp = np.sum((y_pred == c) & (y_true == c))
        fp_fn = np.sum((y_pred == c) != (y_true == c))
        scores.append(2 * tp / (2 * tp + fp_fn) if 2 * tp + fp_fn else 0.0)
    return float(np.mean(scores)) if scores else 0.0
