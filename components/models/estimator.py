"""The contract between a classification task and the model it trains (`TextEstimator`).

A classification task (`components.models.classify`) owns the data side: it reads the
run's documents, takes each one's tokens and label, splits, cross-validates, writes
`metrics.json`, `predictions.jsonl` and the card. The estimator owns the model side: the
scikit-learn baselines (`components.models.baselines`) and the torch networks
(`components.models.neural`) implement this one protocol, so the task knows neither.

Estimators take token lists (strings, already selected by the task), never raw text, and
hold their own vocabulary. Their constructors only store keyword parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np

__all__ = ["FitContext", "TextEstimator", "Tokens"]

Tokens = Sequence[str]


@dataclass(frozen=True)
class FitContext:
    """Where and how one fit runs.

    `workdir`: a folder the estimator may write into during training (checkpoints, plots,
    `history.json`); for a cross-validation fold it is that fold's own folder.
    `run_dir`: the run folder (learners of this run live in `run_dir / "represent"`), or
    `None` outside a run. `key`: a fingerprint of the data and settings of this fit; a
    checkpoint saved under another key is stale and must be ignored (training then starts
    afresh). `seed`: the seed for every random generator of the fit. `log`: called with one
    dict per finished epoch (for progress display); may be `None`.
    """

    workdir: Path
    run_dir: Path | None = None
    key: str = ""
    seed: int = 0
    log: Callable[[dict[str, Any]], None] | None = None


@runtime_checkable
class TextEstimator(Protocol):
    """A classifier over token lists.

    After `fit`, `classes_` lists the class names (strings, sorted) and `predict_proba`
    returns one row per input whose columns follow `classes_` and sum to 1. `history_` is
    a list with one dict per epoch (`epoch`, `train_loss`, `val_loss`, validation metrics,
    `lr`, `seconds`, ...), empty for models trained in one go. `save(folder)` writes plain
    files only (JSON, `.npy` read with `allow_pickle=False`, torch state dicts loaded with
    `weights_only=True`): never a pickle. `load(folder)` returns an estimator that predicts
    identically.
    """

    classes_: list[str]
    history_: list[dict[str, Any]]

    def fit(
        self,
        texts: Sequence[Tokens],
        labels: Sequence[str],
        *,
        validation: tuple[Sequence[Tokens], Sequence[str]] | None = None,
        context: FitContext,
    ) -> Self:
        """Train on `texts` (token lists) and their `labels`; `validation` drives early
        stopping and the per-epoch validation metrics where the model has epochs."""
        ...

    def predict_proba(self, texts: Sequence[Tokens]) -> np.ndarray:
        """Class probabilities, shape `(len(texts), len(classes_))`, columns as `classes_`."""
        ...

    def save(self, folder: Path) -> None:
        """Write the fitted estimator into `folder` (created if needed)."""
        ...

    @classmethod
    def load(cls, folder: Path) -> Self:
        """Rebuild a fitted estimator saved by `save`."""
        ...
