"""Our `TextEstimator`s as scikit-learn estimators, and a task's bias/variance curves.

`SklearnTextEstimator` wraps an estimator class and its parameters with `get_params` /
`set_params`, so scikit-learn's `clone`, `learning_curve` and `validation_curve` work on
any of our classifiers (the baselines and the torch networks alike) over token lists.
`task_curves` runs the curves a task's `curves:` asks for on its training part
(`components.ml.curve_plots.write_curves` writes them).
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from .estimator import FitContext, Tokens
from .task_data import Examples, run_folder

__all__ = [
    "SklearnTextEstimator",
    "task_curves",
]

logger = logging.getLogger(__name__)


class SklearnTextEstimator(ClassifierMixin, BaseEstimator):
    """A `TextEstimator` class and its parameters as a scikit-learn classifier over token
    lists (`X`: a list of token lists, `y`: class names).

    `estimator_class`: the class; `run_dir`: the run folder (for models using the run's
    word vectors); `fit_seed`: the fit context's seed; any other keyword is a parameter of
    the estimator, read and changed by `get_params` / `set_params`. Each fit trains in a
    temporary folder (torch checkpoints and plots), removed afterwards.
    """

    def __init__(
        self, estimator_class: type, *, run_dir: Path | None = None, fit_seed: int = 1, **params
    ):
        self.estimator_class = estimator_class
        self.run_dir = run_dir
        self.fit_seed = fit_seed
        self.params = params

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The wrapper's own settings and the estimator's parameters, flat."""
        own = {"estimator_class": self.estimator_class, "run_dir": self.run_dir}
        return {**own, "fit_seed": self.fit_seed, **self.params}

    def set_params(self, **params: Any) -> Self:
        """Change parameters; a name the estimator does not take is a `ValueError`."""
        from pipeline.registry import parameters

        known = set(parameters(self.estimator_class))
        for name, value in params.items():
            if name in ("estimator_class", "run_dir", "fit_seed"):
                setattr(self, name, value)
            elif name in known:
                self.params[name] = value
            else:
                raise ValueError(
                    f"{name!r} is not a parameter of {self.estimator_class.__name__} "
                    f"(its parameters: {', '.join(sorted(known))})"
                )
        return self

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({self.estimator_class.__name__}, {shown})"[:N_CHAR_MAX]

    def fit(self, X: Sequence[Tokens], y: Sequence[Any]) -> Self:
        """Train a fresh estimator on `X` and `y` (in a temporary working folder)."""
        labels = [str(v) for v in y]
        key = hashlib.sha256(json.dumps([labels, repr(self)]).encode("utf-8")).hexdigest()
        with tempfile.TemporaryDirectory(prefix="curve-fit-") as workdir:
            context = FitContext(
                workdir=Path(workdir), run_dir=self.run_dir, key=key, seed=self.fit_seed
            )
            self.estimator_ = self.estimator_class(**self.params).fit(
                list(X), labels, context=context
            )
        self.classes_ = np.asarray(self.estimator_.classes_)
        return self

    def predict_proba(self, X: Sequence[Tokens]) -> np.ndarray:
        """Class probabilities, columns in `classes_` order."""
        return self.estimator_.predict_proba(list(X))

    def predict(self, X: Sequence[Tokens]) -> np.ndarray:
        """The most probable class of each token list."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def task_curves(
    task: Any, train: Examples, cv: Any, split_seed: int, folder: Path
) -> dict[str, Any]:
    """The curves a task's `curves:` asks for, on its training part `train`: folds of the
    task's `cv:` (`curves.folds` of them when given), else stratified `curves.folds` (3),
    seeded with the split's seed; `folder`: the task folder (errors name its key). Returns `{"folds", "documents", "learning", "validation"}`
    (each curve present when asked for; see `components.ml.curves`)."""
    from components.ml.curves import CurveSettings, curve_folds, run_curves
    from components.ml.splits import parse_dates

    where, run_dir = f"tasks.{folder.name}", run_folder(folder)
    params = task.get_params()
    settings = CurveSettings.model_validate(params["curves"])
    dates = None
    if cv is not None and cv.resolved_method() == "time":
        dates = parse_dates(train.dates, train.ids, cv.date_field or "")
    folds = curve_folds(train.labels, settings, cv, split_seed, where=where, dates=dates)
    own = {name: params[name] for name in task.estimator_parameter_names()}
    estimator = SklearnTextEstimator(
        task.estimator_class(), run_dir=run_dir, fit_seed=task.seed, **own
    )
    return run_curves(estimator, train.tokens, train.labels, settings, folds, seed=split_seed)
