"""The scikit-learn baselines over token lists: `logreg`, `linear-svm` and `naive-bayes`.

Each is a `TextEstimator` (see `components.models.estimator`): a scikit-learn `Pipeline`
of a `TfidfVectorizer` (or `CountVectorizer`) and a linear classifier, fitted on the
token lists a task selected. The vectorizer takes the tokens as given
(`tokenizer=tokens_as_given`, `analyzer="word"`), so `ngram_range` makes word n-grams of
those tokens exactly as scikit-learn would. Saved without pickle: the vocabulary and idf
as JSON and `.npy`, the classifier's fitted arrays as `.npy` with JSON beside them
(`components.models.baseline_files`), so loading imports nothing beyond scikit-learn.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np

from .baseline_files import load_classifier, save_classifier
from .estimator import FitContext, Tokens

__all__ = [
    "BASELINES",
    "LinearSvmClassifier",
    "LogisticRegressionClassifier",
    "NaiveBayesClassifier",
    "SklearnTextClassifier",
    "tokens_as_given",
]

logger = logging.getLogger(__name__)

VOCABULARY_FILE = "vocabulary.json"
IDF_FILE = "idf.npy"
ESTIMATOR_FILE = "estimator.json"


def tokens_as_given(tokens: Sequence[str]) -> list[str]:
    """A document's tokens, unchanged: the vectorizer's tokenizer and preprocessor, so the
    task's token selection (field, stop words, punctuation) is the only one applied."""
    return list(tokens)


def _one_blas_thread() -> Any:
    """A context limiting BLAS to one thread. The sparse linear models gain nothing from
    BLAS threads, and on a busy machine OpenBLAS's waiting threads slowed lbfgs 25-fold
    (800 AG News documents: 8.3 s against 0.33 s with one thread, load average 6 on 2 cores)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


class SklearnTextClassifier:
    """Shared fit / predict / save of the baselines; subclasses build the scikit-learn model.

    `classes_` are the sorted class names; `history_` is empty (one-shot training).
    """

    model_name = "sklearn"
    seed: int

    def _classifier(self) -> Any:
        raise NotImplementedError

    def _vectorizer(self) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(**self._vectorizer_params())

    def _vectorizer_params(self) -> dict[str, Any]:
        params: dict[str, Any] = vars(self)
        return {
            "analyzer": "word",
            "tokenizer": tokens_as_given,
            "preprocessor": tokens_as_given,
            "token_pattern": None,
            "lowercase": False,
            "ngram_range": (int(params["ngram_range"][0]), int(params["ngram_range"][1])),
            "min_df": params["min_df"],
            "max_df": params["max_df"],
        }

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters and their current values."""
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    def fit(
        self,
        texts: Sequence[Tokens],
        labels: Sequence[str],
        *,
        validation: tuple[Sequence[Tokens], Sequence[str]] | None = None,
        context: FitContext,
    ) -> Self:
        """Fit the vectorizer and the classifier on `texts` (token lists) and `labels`.

        `validation` is not used for training (no epochs); the task scores it. Raises
        `ValueError` when fewer than two classes are given.
        """
        from sklearn.pipeline import Pipeline

        y = [str(label) for label in labels]
        classes = sorted(set(y))
        if len(classes) < 2:
            raise ValueError(f"{self.model_name} needs at least two classes; got {classes}")
        model = Pipeline([("vectorizer", self._vectorizer()), ("classifier", self._classifier())])
        with _one_blas_thread():
            model.fit([list(t) for t in texts], y)
        self.model_ = model
        self.classes_ = [str(c) for c in model.classes_]
        self.history_: list[dict[str, Any]] = []
        logger.info(
            "%s: %d documents, %d features, %d classes",
            self.model_name,
            len(y),
            len(model.named_steps["vectorizer"].vocabulary_),
            len(classes),
        )
        return self

    def predict_proba(self, texts: Sequence[Tokens]) -> np.ndarray:
        """Class probabilities, one row per token list, columns in `classes_` order."""
        if not len(texts):
            return np.zeros((0, len(self.classes_)))
        with _one_blas_thread():
            proba = self.model_.predict_proba([list(t) for t in texts])
        return np.asarray(proba, dtype=float)

    def save(self, folder: Path) -> None:
        """Write the vectorizer as plain files (`vocabulary.json`: the terms in column order;
        `idf.npy` for TF-IDF), the classifier as `classifier.json` and its fitted arrays as
        `classifier.NAME.npy` (see `components.models.baseline_files`), and `estimator.json`.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        vectorizer = self.model_.named_steps["vectorizer"]
        terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
        (folder / VOCABULARY_FILE).write_text(json.dumps(terms, ensure_ascii=False), "utf-8")
        if hasattr(vectorizer, "idf_"):
            np.save(folder / IDF_FILE, np.asarray(vectorizer.idf_), allow_pickle=False)
        save_classifier(self.model_.named_steps["classifier"], folder)
        record = {"model": self.model_name, "params": self.get_params(), "classes": self.classes_}
        (folder / ESTIMATOR_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> Self:
        """Rebuild a fitted baseline from `folder`: nothing is unpickled, and an array whose
        shape does not fit the vocabulary and classes is a `ValueError` naming its file."""
        from sklearn.pipeline import Pipeline

        folder = Path(folder)
        record = json.loads((folder / ESTIMATOR_FILE).read_text(encoding="utf-8"))
        params = record["params"]
        params["ngram_range"] = tuple(params["ngram_range"])
        estimator = cls(**params)
        vectorizer = estimator._vectorizer()
        terms = json.loads((folder / VOCABULARY_FILE).read_text(encoding="utf-8"))
        vectorizer.vocabulary_ = {term: i for i, term in enumerate(terms)}
        if (folder / IDF_FILE).is_file():
            vectorizer.idf_ = np.load(folder / IDF_FILE, allow_pickle=False)
        classes = [str(c) for c in record["classes"]]
        classifier = load_classifier(
            estimator._classifier(), folder, classes=classes, n_features=len(terms)
        )
        estimator.model_ = Pipeline([("vectorizer", vectorizer), ("classifier", classifier)])
        estimator.classes_ = classes
        estimator.history_ = []
        return estimator


class LogisticRegressionClassifier(SklearnTextClassifier):
    """TF-IDF features and scikit-learn's `LogisticRegression` (lbfgs, multinomial).

    `C` is the inverse L2 strength; `class_weight: balanced` reweights classes inversely
    to their frequency. Probabilities are the model's own softmax.
    """

    model_name = "logreg"

    def __init__(
        self,
        *,
        C: float = 1.0,
        max_iter: int = 1000,
        class_weight: Literal["balanced"] | None = None,
        ngram_range: tuple[int, int] = (1, 1),
        min_df: int | float = 1,
        max_df: int | float = 1.0,
        sublinear_tf: bool = True,
        seed: int = 1,
    ):
        self.C = C
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.seed = seed

    def _vectorizer_params(self) -> dict[str, Any]:
        return {**super()._vectorizer_params(), "sublinear_tf": self.sublinear_tf}

    def _classifier(self) -> Any:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(
            C=self.C, max_iter=self.max_iter, class_weight=self.class_weight, random_state=self.seed
        )


class LinearSvmClassifier(SklearnTextClassifier):
    """TF-IDF features and a `LinearSVC`, with probabilities from `CalibratedClassifierCV`.

    An SVM gives margins, not probabilities: Platt scaling (`method="sigmoid"`) is fitted
    on held-out margins by `CalibratedClassifierCV` with `calibration_folds` stratified
    folds (fewer when the rarest class has fewer documents), and the calibrated
    classifiers of the folds are averaged. Each class needs at least two documents.
    """

    model_name = "linear-svm"

    def __init__(
        self,
        *,
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
        self.C = C
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.calibration_folds = calibration_folds
        self.seed = seed

    def _vectorizer_params(self) -> dict[str, Any]:
        return {**super()._vectorizer_params(), "sublinear_tf": self.sublinear_tf}

    def _classifier(self) -> Any:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import LinearSVC

        svm = LinearSVC(
            C=self.C, max_iter=self.max_iter, class_weight=self.class_weight, random_state=self.seed
        )
        return CalibratedClassifierCV(svm, method="sigmoid", cv=self.calibration_folds)

    def fit(
        self,
        texts: Sequence[Tokens],
        labels: Sequence[str],
        *,
        validation: tuple[Sequence[Tokens], Sequence[str]] | None = None,
        context: FitContext,
    ) -> Self:
        """As the other baselines; the calibration folds shrink to the rarest class's count."""
        from collections import Counter

        rarest = min(Counter(str(label) for label in labels).values(), default=0)
        if rarest < 2:
            raise ValueError(
                "linear-svm calibrates its probabilities on held-out folds: every class needs "
                "at least 2 training documents (use logreg for classes this small)"
            )
        folds = self.calibration_folds
        self.calibration_folds = max(2, min(folds, rarest))
        try:
            return super().fit(texts, labels, validation=validation, context=context)
        finally:
            self.calibration_folds = folds


class NaiveBayesClassifier(SklearnTextClassifier):
    """Multinomial naive Bayes over raw counts (`features: counts`, the classic setting)
    or TF-IDF weights (`features: tfidf`); `alpha` is the additive (Laplace/Lidstone)
    smoothing. Probabilities are the model's posterior."""

    model_name = "naive-bayes"

    def __init__(
        self,
        *,
        alpha: float = 1.0,
        features: Literal["counts", "tfidf"] = "counts",
        ngram_range: tuple[int, int] = (1, 1),
        min_df: int | float = 1,
        max_df: int | float = 1.0,
        sublinear_tf: bool = False,
        seed: int = 1,
    ):
        self.alpha = alpha
        self.features = features
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.seed = seed

    def _vectorizer(self) -> Any:
        from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

        if self.features == "counts":
            return CountVectorizer(**self._vectorizer_params())
        return TfidfVectorizer(**self._vectorizer_params(), sublinear_tf=self.sublinear_tf)

    def _classifier(self) -> Any:
        from sklearn.naive_bayes import MultinomialNB

        return MultinomialNB(alpha=self.alpha)


#: model name -> estimator class
BASELINES: dict[str, type[SklearnTextClassifier]] = {
    "logreg": LogisticRegressionClassifier,
    "linear-svm": LinearSvmClassifier,
    "naive-bayes": NaiveBayesClassifier,
}
