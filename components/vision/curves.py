"""Bias/variance curves of the `image-cnn` task: its network as a scikit-learn classifier.

`ImageCnnEstimator` trains the task's CNN on pixel arrays (`X`: N × C × H × W floats, `y`:
class names) with `fit` / `predict` / `predict_proba` / `score` and `get_params` /
`set_params`, so scikit-learn's `clone`, `learning_curve` and `validation_curve` (through
`components.ml.curves`) work on it. `image_curves` runs what a task's `curves:` asks for on
its training part.

Cost: every point of a curve is a full training from scratch (all `epochs`, early stopping
on the training loss: a curve fit has no validation part) per fold, so a learning curve of
S sizes over K folds costs S × K trainings and a validation curve of V values V × K; on
CPU with the default 30 epochs that is minutes per curve even for 8 × 8 digits. Lower
`epochs` or use few sizes and 2-3 folds. Conv blocks from `transfer:` are not used in
curve fits (each trains from scratch).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from .pixels import natural_key

__all__ = ["CURVE_PARAMS", "ImageCnnEstimator", "image_curve_problems", "image_curves"]


#: the task parameters a curve fit takes (and a validation curve may vary); not the data,
#: output or transfer settings
CURVE_PARAMS = (
    "blocks", "dense", "dropout", "augment", "epochs", "batch_size", "optimizer", "lr",
    "weight_decay", "schedule", "warmup_epochs", "patience", "monitor", "seed",
)  # fmt: skip


class ImageCnnEstimator(ClassifierMixin, BaseEstimator):
    """The image-cnn network as a scikit-learn classifier over pixel arrays.

    `task_class`: `ImageCnnTask` (given, so this module never imports the task's); the
    keywords are its training parameters (blocks, dense, dropout, epochs, lr,
    ...; `CURVE_PARAMS` plus device and threads), read and changed by `get_params` /
    `set_params`. Each `fit` builds a fresh seeded network and trains it in a temporary
    folder (removed afterwards), without a validation part.
    """

    def __init__(self, task_class: type, **params: Any):
        self.task_class = task_class
        self.params = params

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The task class and the training parameters, flat."""
        return {"task_class": self.task_class, **self.params}

    def set_params(self, **params: Any) -> Self:
        """Change parameters; a name the task does not take for a fit is a `ValueError`."""
        known = (*CURVE_PARAMS, "device", "threads")
        for name, value in params.items():
            if name == "task_class":
                self.task_class = value
                continue
            if name not in known:
                raise ValueError(
                    f"{name!r} is not a training parameter of image-cnn (they are: "
                    f"{', '.join(sorted(known))})"
                )
            self.params[name] = value
        return self

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({shown})"[:N_CHAR_MAX]

    def fit(self, X: np.ndarray, y: Sequence[Any]) -> Self:
        """Train a fresh network on images `X` (N × C × H × W) and class names `y`."""
        from components.models.training import seed_everything

        from .shapes import plan_network

        task = self.task_class(**self.params, baseline=False)
        _, blocks, augment = task._settings()
        images = np.asarray(X, dtype=np.float32)
        labels = [str(v) for v in y]
        task.classes_ = sorted(set(labels), key=natural_key)
        rows = plan_network(
            tuple(images.shape[1:]), blocks, task.dense, len(task.classes_), where="curves"
        )
        index = {c: i for i, c in enumerate(task.classes_)}
        targets = np.asarray([index[label] for label in labels], dtype=np.int64)
        blob = json.dumps([labels, repr(self), images.shape], default=str).encode("utf-8")
        seed_everything(task.seed)
        task.network_ = task._network(blocks, rows)
        with tempfile.TemporaryDirectory(prefix="curve-fit-") as workdir:
            task._train(
                images, targets, np.arange(len(images)), np.arange(0), augment, Path(workdir),
                hashlib.sha256(blob).hexdigest(),
            )  # fmt: skip
        task.network_.eval()
        self.task_ = task
        self.classes_ = np.asarray(task.classes_)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, columns in `classes_` order."""
        return self.task_._proba(np.asarray(X, dtype=np.float32))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class of each image."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def image_curve_problems(spec: Mapping[str, Any] | None) -> list[str]:
    """Problems with an image-cnn task's `curves:` (`components.ml.curves.curve_problems`):
    `validation.param` one of `CURVE_PARAMS` (did-you-mean), values the task accepts."""
    from components.ml.curves import curve_problems
    from pipeline.config import component_model

    if spec is None:
        return []
    model = component_model("task", "image-cnn")
    return curve_problems(spec, list(CURVE_PARAMS), params_model=model)


def image_curves(
    task: Any, images: np.ndarray, labels: Sequence[str], seed: int, where: str
) -> dict[str, Any]:
    """The curves `task.curves` asks for, of the task's network trained on the training
    part (`images`, `labels`), over stratified `curves.folds` (3) seeded `seed`."""
    from components.ml.curves import CurveSettings, curve_folds, run_curves

    from .settings import plain

    settings = CurveSettings.model_validate(plain(task.curves))
    folds = curve_folds(list(labels), settings, None, seed, where=where)
    params = {name: getattr(task, name) for name in CURVE_PARAMS}
    estimator = ImageCnnEstimator(type(task), **params, device=task.device, threads=task.threads)
    return run_curves(estimator, images, list(labels), settings, folds, seed=seed)
