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
from typing import Any, Literal

from components.ml.splits import CrossValidation, HoldoutSettings
from components.represent.tokens import Field
from pipeline.registry import register

from .baselines import (
    LinearSvmClassifier,
    LogisticRegressionClassifier,
    NaiveBayesClassifier,
    SklearnTextClassifier,
)
from .estimator import TextEstimator
from .neural import NEURAL
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


class _BaselineTask(TextClassificationTask):
    """The checks of the scikit-learn baselines' parameters."""

    estimator: type[SklearnTextClassifier]
    version = "2"  # 2: saved as the fitted arrays (.npy), no longer through skops

    @classmethod
    def estimator_class(cls) -> type[TextEstimator]:
        """The baseline estimator this task trains."""
        return cls.estimator

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


@register("task", "logreg")
class LogisticRegressionTask(_BaselineTask):
    """Logistic regression over TF-IDF of each document's tokens (scikit-learn).

    Common parameters: `label` (the meta key holding the class), `split` (holdout:
    test, validation, seed, stratify), `cv` (cross-validation: folds, stratified, seed,
    method, repeats, date_field), `test_corpus` (a reader spec to test on instead of a
    holdout part), `field` and `drop_stop` (token selection), `seed`. Model: `C`,
    `max_iter`, `class_weight`, and the TF-IDF settings `ngram_range`, `min_df`,
    `max_df`, `sublinear_tf`.
    """

    model = "logreg"
    estimator = LogisticRegressionClassifier

    def __init__(
        self,
        *,
        label: str = "label",
        split: HoldoutSettings = DEFAULT_SPLIT,
        cv: CrossValidation | None = None,
        test_corpus: dict[str, Any] | None = None,
        field: Field = "lower",
        drop_stop: bool = False,
        C: float = 1.0,
        max_iter: int = 1000,
        class_weight: Literal["balanced"] | None = None,
        ngram_range: tuple[int, int] = (1, 1),
        min_df: int | float = 1,
        max_df: int | float = 1.0,
        sublinear_tf: bool = True,
        seed: int = 1,
    ):
        self.label = label
        self.split = split
        self.cv = cv
        self.test_corpus = test_corpus
        self.field = field
        self.drop_stop = drop_stop
        self.C = C
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.seed = seed


@register("task", "linear-svm")
class LinearSvmTask(_BaselineTask):
    """A linear SVM over TF-IDF, probabilities by Platt scaling on held-out folds.

    The common parameters as for `logreg`; model: `C`, `max_iter`, `class_weight`,
    `calibration_folds` (folds of `CalibratedClassifierCV`; every class needs at least
    two training documents) and the TF-IDF settings.
    """

    model = "linear-svm"
    estimator = LinearSvmClassifier

    def __init__(
        self,
        *,
        label: str = "label",
        split: HoldoutSettings = DEFAULT_SPLIT,
        cv: CrossValidation | None = None,
        test_corpus: dict[str, Any] | None = None,
        field: Field = "lower",
        drop_stop: bool = False,
        C: float = 1.0,
        max_iter: int = 2000,
        class_weight: Literal["balanced"] | None = None,
        ngram_range: tuple[int, int] = (1, 1),
        min_df: int | float = 1,
        max_df: int | float = 1.0,
        sublinear_tf: bool = True,
        calibration_folds: int = 3,
        seed: int = 1,
    ):
        self.label = label
        self.split = split
        self.cv = cv
        self.test_corpus = test_corpus
        self.field = field
        self.drop_stop = drop_stop
        self.C = C
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.calibration_folds = calibration_folds
        self.seed = seed

    @classmethod
    def estimator_problems(cls, params: Mapping[str, Any]) -> list[str]:
        """The baselines' checks and `calibration_folds` >= 2."""
        problems = super().estimator_problems(params)
        if params["calibration_folds"] < 2:
            problems.append(
                f"calibration_folds: {params['calibration_folds']} is invalid: use at least 2"
            )
        return problems


@register("task", "naive-bayes")
class NaiveBayesTask(_BaselineTask):
    """Multinomial naive Bayes over token counts (or TF-IDF) of each document.

    The common parameters as for `logreg`; model: `alpha` (additive smoothing),
    `features` (counts | tfidf) and the vectorizer settings.
    """

    model = "naive-bayes"
    estimator = NaiveBayesClassifier

    def __init__(
        self,
        *,
        label: str = "label",
        split: HoldoutSettings = DEFAULT_SPLIT,
        cv: CrossValidation | None = None,
        test_corpus: dict[str, Any] | None = None,
        field: Field = "lower",
        drop_stop: bool = False,
        alpha: float = 1.0,
        features: Literal["counts", "tfidf"] = "counts",
        ngram_range: tuple[int, int] = (1, 1),
        min_df: int | float = 1,
        max_df: int | float = 1.0,
        sublinear_tf: bool = False,
        seed: int = 1,
    ):
        self.label = label
        self.split = split
        self.cv = cv
        self.test_corpus = test_corpus
        self.field = field
        self.drop_stop = drop_stop
        self.alpha = alpha
        self.features = features
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.seed = seed


BASELINE_TASKS: dict[str, type[TextClassificationTask]] = {
    "logreg": LogisticRegressionTask,
    "linear-svm": LinearSvmTask,
    "naive-bayes": NaiveBayesTask,
}


# ------------------------------------------------------------------ the neural tasks


class NeuralTask(TextClassificationTask):
    """A task training one of the torch networks; its parameters are the common ones
    followed by the network estimator's own (see `components.models.neural`)."""

    estimator: type[Any]

    def __init__(self, **params: Any):
        for name, param in _NEURAL_SIGNATURES[type(self)].parameters.items():
            setattr(self, name, params.pop(name, param.default))
        if params:
            raise TypeError(f"{type(self).__name__} got unexpected parameters: {sorted(params)}")

    @classmethod
    def estimator_class(cls) -> type[TextEstimator]:
        """The network estimator this task trains."""
        return cls.estimator

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


#: each neural task class -> its constructor's signature (common + estimator parameters)
_NEURAL_SIGNATURES: dict[type, inspect.Signature] = {}


def _neural_task(model: str, class_name: str) -> type[NeuralTask]:
    """A registered task class for the network `model`, whose `__init__` signature (the
    config schema) is the common parameters then the estimator's, with resolved types."""
    estimator = NEURAL[model]
    common = inspect.signature(LogisticRegressionTask.__init__).parameters
    common_hints = typing.get_type_hints(LogisticRegressionTask.__init__, include_extras=True)
    own = inspect.signature(estimator).parameters
    own_hints = typing.get_type_hints(estimator.__init__, include_extras=True)
    params = [common[name].replace(annotation=common_hints[name]) for name in COMMON_PARAMETERS]
    params += [
        p.replace(annotation=own_hints[name])
        for name, p in own.items()
        if name not in COMMON_PARAMETERS
    ]
    keyword = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params]
    signature = inspect.Signature(keyword)

    def __init__(self: NeuralTask, **params: Any) -> None:
        NeuralTask.__init__(self, **params)

    __init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD), *keyword]
    )
    __init__.__annotations__ = {p.name: p.annotation for p in keyword}
    doc = (
        f"Trains the `{model}` network ({estimator.__name__}) on each document's tokens.\n\n"
        "The common parameters as for `logreg` (label, split, cv, test_corpus, field, "
        "drop_stop, seed), then the network's: "
        + ", ".join(f"`{name}`" for name in own if name not in COMMON_PARAMETERS)
        + ".\n\n"
        + (inspect.getdoc(estimator) or "")
    )
    cls = type(
        class_name,
        (NeuralTask,),
        {
            "__init__": __init__,
            "__doc__": doc,
            "model": model,
            "estimator": estimator,
            "__module__": __name__,
        },
    )
    _NEURAL_SIGNATURES[cls] = signature
    return register("task", model)(cls)


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
