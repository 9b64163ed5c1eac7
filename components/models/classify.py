"""The text-classification tasks, one per model: `logreg`, `linear-svm`, `naive-bayes` (the
scikit-learn baselines) and `lstm`, `bilstm`, `gru`, `rnn`, `textcnn`, `transformer`,
`mlp` (the torch networks of `components.models.neural`).

Every task takes the common parameters (`label`, `split`, `cv`, `test_corpus`, `field`,
`drop_stop`, `seed`) and its model's own; `TextClassificationTask` does the rest. A
neural task's signature is its estimator's (read from the estimator class, so the two
never drift apart), behind the common parameters.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from components.ml.curves import CurveSettings
from components.ml.splits import CrossValidation, HoldoutSettings
from components.represent.tokens import Field
from pipeline.registry import register

from .baselines import (
    LinearSvmClassifier,
    LogisticRegressionClassifier,
    NaiveBayesClassifier,
)
from .estimator import TextEstimator
from .neural import NEURAL
from .self_training import SelfTrainingSettings
from .text_task import COMMON_PARAMETERS, TextClassificationTask

__all__ = [
    "BASELINE_TASKS",
    "NEURAL_TASKS",
    "BiLstmTask",
    "GruTask",
    "LinearSvmTask",
    "LogisticRegressionTask",
    "LstmTask",
    "MlpTask",
    "NaiveBayesTask",
    "RnnTask",
    "TextCnnTask",
    "TransformerTask",
]

DEFAULT_SPLIT = HoldoutSettings()


def _common_parameters(
    *,
    label: str = "label",
    split: HoldoutSettings = DEFAULT_SPLIT,
    cv: CrossValidation | None = None,
    test_corpus: dict[str, Any] | None = None,
    field: Field = "lower",
    drop_stop: bool = False,
    seed: int = 1,
    curves: CurveSettings | None = None,
    self_training: SelfTrainingSettings | None = None,
) -> None:
    """The parameters every classification task takes, before its model's own (this
    signature is their config schema)."""


#: each task class -> its constructor's signature (common + estimator parameters)
_SIGNATURES: dict[type, inspect.Signature] = {}


class _GeneratedTask(TextClassificationTask):
    """A task whose parameters are the common ones then its estimator's (see `_task_class`)."""

    estimator: type[Any]

    def __init__(self, **params: Any):
        for name, param in _SIGNATURES[type(self)].parameters.items():
            setattr(self, name, params.pop(name, param.default))
        if params:
            raise TypeError(f"{type(self).__name__} got unexpected parameters: {sorted(params)}")

    @classmethod
    def estimator_class(cls) -> type[TextEstimator]:
        """The estimator this task trains."""
        return cls.estimator


class _BaselineTask(_GeneratedTask):
    """The checks of the scikit-learn baselines' parameters."""

    version = "2"  # 2: saved as the fitted arrays (.npy), no longer through skops

    @classmethod
    def estimator_problems(cls, params: Mapping[str, Any]) -> list[str]:
        """`ngram_range` [low, high] with 1 <= low <= high; `C` positive; `alpha` >= 0;
        `min_df` / `max_df` given as fractions within (0, 1]."""
        problems = []
        low, high = params["ngram_range"]
        if not 1 <= low <= high:
            problems.append(
                f"ngram_range: {list(params['ngram_range'])} is invalid: use [low, high] "
                "with 1 <= low <= high"
            )
        if "C" in params and params["C"] <= 0:
            problems.append(f"C: {params['C']} is invalid: must be positive")
        if "alpha" in params and params["alpha"] < 0:
            problems.append(f"alpha: {params['alpha']} is invalid: must be >= 0")
        for key in ("min_df", "max_df"):
            value = params[key]
            if isinstance(value, float) and not 0.0 < value <= 1.0:
                problems.append(
                    f"{key}: {value} is invalid: a fraction must be in (0, 1] (or give a count)"
                )
        return problems


class _LinearSvmChecks(_BaselineTask):
    """The baselines' checks and `calibration_folds` >= 2."""

    @classmethod
    def estimator_problems(cls, params: Mapping[str, Any]) -> list[str]:
        """The baselines' checks and `calibration_folds` >= 2."""
        problems = super().estimator_problems(params)
        if params["calibration_folds"] < 2:
            problems.append(
                f"calibration_folds: {params['calibration_folds']} is invalid: use at least 2"
            )
        return problems


class NeuralTask(_GeneratedTask):
    """A task training one of the torch networks (see `components.models.neural`)."""

    @classmethod
    def estimator_problems(cls, params: Mapping[str, Any]) -> list[str]:
        """`embeddings` (and the `mlp`'s `features`) must name packaged vectors, a word-vector
        learner of the run, or an existing vectors file; epochs and batch size positive."""
        from .embeddings import EMBEDDING_NAMES

        problems = []
        for key, extra in (("embeddings", ()), ("features", ("tfidf",))):
            value = params.get(key)
            if value is None or value in (*extra, *EMBEDDING_NAMES):
                continue
            if not Path(str(value)).expanduser().exists():
                allowed = ", ".join([*extra, *EMBEDDING_NAMES])
                problems.append(
                    f"{key}: {value!r} is not allowed: use one of {allowed} (a learner must "
                    "also be listed under represent:) or a path to word2vec/GloVe vectors"
                )
        for key in ("epochs", "batch_size"):
            if key in params and params[key] < 1:
                problems.append(f"{key}: {params[key]} is invalid: must be at least 1")
        return problems


def _task_class(
    model: str, class_name: str, estimator: type[Any], base: type[_GeneratedTask], what: str
) -> type[_GeneratedTask]:
    """A registered task class for `model`, whose `__init__` signature (the config schema)
    is the common parameters then the estimator's own, with resolved types; written once
    for every model, so a task and its estimator never drift apart."""
    common = inspect.signature(_common_parameters).parameters
    common_hints = typing.get_type_hints(_common_parameters, include_extras=True)
    own = inspect.signature(estimator).parameters
    own_hints = typing.get_type_hints(estimator.__init__, include_extras=True)
    params = [common[name].replace(annotation=common_hints[name]) for name in COMMON_PARAMETERS]
    params += [
        p.replace(annotation=own_hints[name])
        for name, p in own.items()
        if name not in COMMON_PARAMETERS
    ]
    keyword = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params]

    def __init__(self: _GeneratedTask, **params: Any) -> None:
        _GeneratedTask.__init__(self, **params)

    __init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD), *keyword]
    )
    __init__.__annotations__ = {p.name: p.annotation for p in keyword}
    doc = (
        f"Trains {what} ({estimator.__name__}) on each document's tokens.\n\n"
        "Common parameters: `label` (the meta key holding the class), `split` (holdout: "
        "test, validation, seed, stratify), `cv` (cross-validation: folds, stratified, seed, "
        "method, repeats, date_field), `test_corpus` (a reader spec to test on instead of a "
        "holdout part), `field` and `drop_stop` (token selection), `seed`, `curves` (learning "
        "and validation curves with a bias/variance verdict), `self_training` (pseudo-label "
        "the documents without a label). The model's: "
        + ", ".join(f"`{name}`" for name in own if name not in COMMON_PARAMETERS)
        + ".\n\n"
        + (inspect.getdoc(estimator) or "")
    )
    namespace = {
        "__init__": __init__,
        "__doc__": doc,
        "model": model,
        "estimator": estimator,
        "__module__": __name__,
    }
    cls = type(class_name, (base,), namespace)
    _SIGNATURES[cls] = inspect.Signature(keyword)
    return register("task", model)(cls)


LogisticRegressionTask = _task_class(
    "logreg", "LogisticRegressionTask", LogisticRegressionClassifier, _BaselineTask,
    "logistic regression over TF-IDF",
)  # fmt: skip
LinearSvmTask = _task_class(
    "linear-svm", "LinearSvmTask", LinearSvmClassifier, _LinearSvmChecks,
    "a linear SVM over TF-IDF, probabilities by Platt scaling",
)  # fmt: skip
NaiveBayesTask = _task_class(
    "naive-bayes", "NaiveBayesTask", NaiveBayesClassifier, _BaselineTask,
    "multinomial naive Bayes over token counts or TF-IDF",
)  # fmt: skip

BASELINE_TASKS: dict[str, type[TextClassificationTask]] = {
    "logreg": LogisticRegressionTask,
    "linear-svm": LinearSvmTask,
    "naive-bayes": NaiveBayesTask,
}


def _neural_task(model: str, class_name: str) -> type[_GeneratedTask]:
    """The registered task of the network `model` (see `_task_class`)."""
    return _task_class(model, class_name, NEURAL[model], NeuralTask, f"the `{model}` network")


LstmTask = _neural_task("lstm", "LstmTask")
BiLstmTask = _neural_task("bilstm", "BiLstmTask")
GruTask = _neural_task("gru", "GruTask")
RnnTask = _neural_task("rnn", "RnnTask")
TextCnnTask = _neural_task("textcnn", "TextCnnTask")
TransformerTask = _neural_task("transformer", "TransformerTask")
MlpTask = _neural_task("mlp", "MlpTask")

NEURAL_TASKS: dict[str, type[TextClassificationTask]] = {
    "lstm": LstmTask,
    "bilstm": BiLstmTask,
    "gru": GruTask,
    "rnn": RnnTask,
    "textcnn": TextCnnTask,
    "transformer": TransformerTask,
    "mlp": MlpTask,
}
