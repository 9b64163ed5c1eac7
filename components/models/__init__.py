"""Trained models: the text-classification tasks, their estimators, and `load(MODEL_DIR)`.

`load(folder)` gives a `Predictor` for a trained task folder (`RUN/tasks/NAME/`). The task
classes (`LogisticRegressionTask`, `BiLstmTask`, ...) are imported on first use, so
importing this package imports neither scikit-learn nor torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "BiLstmTask",
    "GruTask",
    "LinearSvmTask",
    "LogisticRegressionTask",
    "LstmTask",
    "MlpTask",
    "ModelFolderError",
    "NaiveBayesTask",
    "Predictor",
    "RnnTask",
    "TextCnnTask",
    "TextClassificationTask",
    "TransformerTask",
    "load",
]

# name exported here -> module defining it
_LAZY = {
    "ModelFolderError": "components.models.predictor",
    "Predictor": "components.models.predictor",
    "TextClassificationTask": "components.models.text_task",
    **{
        name: "components.models.classify"
        for name in __all__
        if name.endswith("Task") and name != "TextClassificationTask"
    },
}


def load(folder: Any) -> Any:
    """The trained model in `folder` as a `Predictor` (see `components.models.predictor.load`)."""
    from .predictor import load as load_folder

    return load_folder(folder)


def __getattr__(attribute: str) -> Any:
    """The task classes and the predictor types, imported on first use."""
    module = _LAZY.get(attribute)
    if module is None:
        raise AttributeError(f"module 'components.models' has no attribute {attribute!r}")
    return getattr(importlib.import_module(module), attribute)
