"""The `tabular` task: a scikit-learn classifier on the columns of `meta["row"]` (`TabularTask`).

Rows come from the `table` reader; `features:` (see `components.ml.tabular`) turns them
into a feature matrix; `estimator:` picks logistic regression, a random forest or
gradient boosting; `imbalance:` handles a rare class with class weights or with
imbalanced-learn's samplers inside an imblearn `Pipeline` (so resampling only ever sees
training rows, in the holdout and in every cross-validation fold). The task reports the
model beside a majority-class baseline and, when `imbalance` is set, beside the same model
without it, on the same split; it saves the fitted pipeline with skops (no pickle) and
predicts for Documents with `meta["row"]` or for plain dict rows.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import numpy as np

from components.ml.curve_plots import CURVE_FILES
from components.ml.curves import CurveSettings
from components.ml.splits import (
    CrossValidation,
    HoldoutSettings,
    SplitError,
    cross_validation_folds,
    cv_problems,
    holdout_split,
    split_problems,
)
from components.ml.tabular import KINDS, build_features, features_problems, resolved_spec
from pipeline.config import ConfigError
from pipeline.document import Document
from pipeline.registry import parameters, register

from .tabular_report import (
    cross_validate,
    curve_param_problems,
    features_summary,
    headline,
    majority_baseline,
    positive_scores,
    tabular_curves,
    write_outputs,
)
from .task_data import require_two_classes
from .task_outputs import move_into, plain, prediction, read_task_record, write_task_record

__all__ = ["TabularTask"]

logger = logging.getLogger(__name__)

Estimator = Literal["logreg", "random-forest", "gradient-boosting"]
Imbalance = Literal["none", "class_weight", "oversample", "undersample", "smote"]
MODEL_FILE = "model.skops"
OUTPUTS = ("metrics.json", "predictions.jsonl", "confusion_matrix.png", "report.json", *CURVE_FILES)
# The types a saved tabular model may hold beyond skops' default trusted set: our feature
# steps and imbalanced-learn's pipeline and samplers. Loading refuses anything else.
TRUSTED_TYPES = [
    "components.ml.tabular_steps.ColumnsOfKind",
    "components.ml.tabular_steps.DateParts",
    "components.ml.tabular_steps.OutlierTreatment",
    "imblearn.over_sampling._random_over_sampler.RandomOverSampler",
    "imblearn.over_sampling._smote.base.SMOTE",
    "imblearn.pipeline.Pipeline",
    "imblearn.under_sampling._prototype_selection._random_under_sampler.RandomUnderSampler",
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",  # SMOTE's neighbours
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.tree._tree.Tree",
]
DEFAULT_SPLIT = HoldoutSettings(validation=0.0)
NO_ROW = "no meta['row'] (not read by the table reader)"
NO_LABEL = "no label (predicted, not trained on)"


@register("task", "tabular")
class TabularTask:
    """A classifier on the columns of `meta["row"]` (rows of the `table` reader).

    `label`: the meta key holding the class; `features`: the feature steps (`auto`, or a
    mapping: numbers / categories / dates columns, drop, impute, outliers, scale, encode,
    polynomial, date_parts; see `components.ml.tabular`); `estimator`: logreg |
    random-forest | gradient-boosting (scikit-learn's histogram boosting) with `C`
    (logreg), `n_estimators`, `max_depth`, `learning_rate`; `imbalance`: none |
    class_weight (balanced) | oversample | undersample | smote (imbalanced-learn, on
    training rows only); `positive`: the class whose ROC AUC and average precision are
    reported (default: the rarest); `split`, `cv`, `seed` as in the text classifiers;
    `threads`: the BLAS/OpenMP threads of fitting and predicting (0: the libraries' own
    default, one per core, which on a busy machine made gradient boosting 20 times slower);
    `curves`: learning / validation curves of the pipeline on the training part with a
    bias/variance verdict (`validation.param`: C, n_estimators, max_depth, learning_rate).
    """

    model: ClassVar[str] = "tabular"
    version: ClassVar[str] = "1"
    #: the cross-validated scores in metrics.json's cv.summary (what `search:` may optimize)
    search_metrics: ClassVar[tuple[str, ...]] = (
        "accuracy", "f1_macro", "f1_weighted", "precision_macro", "recall_macro", "roc_auc",
        "log_loss", "positive_recall", "positive_roc_auc",
    )  # fmt: skip

    def __init__(
        self,
        *,
        label: str = "label",
        features: dict[str, Any] | str = "auto",
        estimator: Estimator = "logreg",
        imbalance: Imbalance = "none",
        positive: str | None = None,
        C: float = 1.0,
        n_estimators: int = 200,
        max_depth: int | None = None,
        learning_rate: float = 0.1,
        split: HoldoutSettings = DEFAULT_SPLIT,
        cv: CrossValidation | None = None,
        seed: int = 1,
        threads: int = 1,
        curves: CurveSettings | None = None,
    ):
        self.label = label
        self.features = features
        self.estimator = estimator
        self.imbalance = imbalance
        self.positive = positive
        self.C = C
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.split = split
        self.cv = cv
        self.seed = seed
        self.threads = threads
        self.curves = curves

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """Cheap checks: the `features` setting, the split and folds, positive numbers, curves."""
        problems = features_problems(params.get("features"), "features")
        problems += curve_param_problems(params, cls.check_params)
        problems += split_problems(plain(params.get("split")))
        problems += cv_problems(plain(params.get("cv")))
        if params.get("C", 1.0) <= 0:
            problems.append(f"C: {params['C']} is invalid: must be > 0")
        if params.get("n_estimators", 1) < 1:
            problems.append(f"n_estimators: {params['n_estimators']} is invalid: at least 1")
        if params.get("max_depth") is not None and params["max_depth"] < 1:
            problems.append(f"max_depth: {params['max_depth']} is invalid: at least 1 (or null)")
        if params.get("threads", 1) < 0:
            problems.append(f"threads: {params['threads']} is invalid: 0 (default) or more")
        if not 0 < params.get("learning_rate", 0.1) <= 1:
            problems.append(f"learning_rate: {params['learning_rate']} is invalid: in (0, 1]")
        return problems

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters, JSON-ready."""
        return {name: plain(getattr(self, name)) for name in parameters(type(self))}

    # ------------------------------------------------------------------ fit

    def fit(self, corpus: Iterable[Document], run_dir: Path) -> Self:
        """Fit on the labelled rows of `corpus` and write the task's outputs into `run_dir`.

        Raises `ConfigError` naming `tasks.NAME.KEY` for data it cannot use (no labels, one
        class, a configured column the rows lack, a split or sampler the data cannot take)
        before writing anything. Documents without `meta["row"]` or without a label are
        counted in `metrics.json` ("skipped"); unlabelled rows are still predicted.
        """
        with self._threads():
            return self._fit(corpus, Path(run_dir))

    def _threads(self) -> Any:
        """A context limiting BLAS and OpenMP to `threads` threads (0: no limit)."""
        from contextlib import nullcontext

        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=self.threads) if self.threads > 0 else nullcontext()

    def _fit(self, corpus: Iterable[Document], folder: Path) -> Self:
        from components.ml.tabular import frame_types, rows_frame

        where = f"tasks.{folder.name}"
        params = self.get_params()
        problems = self.check_params(params)
        if problems:
            raise ConfigError.of([ConfigError(f"{where}.{p}") for p in problems])
        ids, rows, labels, skipped = _collect(corpus, self.label)
        labelled = [i for i, y in enumerate(labels) if y is not None]
        if not labelled:
            raise ConfigError(
                f"{where}.label: none of the {len(ids)} rows has meta[{self.label!r}]; set "
                "label_column on the table reader (it fills meta['label']) or name the key"
            )
        _, frame = rows_frame(rows)
        self._check_columns(list(frame.columns), where)
        y = np.asarray([labels[i] for i in labelled], dtype=object)
        require_two_classes(list(y), f"{where}.label", "the corpus")
        train_frame = frame.iloc[labelled].reset_index(drop=True)
        split = HoldoutSettings.model_validate(params["split"] or {})
        cv = CrossValidation.model_validate(params["cv"]) if params["cv"] is not None else None
        try:
            holdout = holdout_split(
                list(y), test=split.test, validation=split.validation, seed=split.seed,
                stratify=split.stratify,
            )  # fmt: skip
            folds = cross_validation_folds(list(y), cv) if cv is not None else None
        except SplitError as exc:
            raise ConfigError(f"{where}.{exc}") from None
        counts = Counter(y.tolist())
        positive = self.positive or min(sorted(counts), key=lambda c: counts[c])
        if positive not in counts:
            raise ConfigError(
                f"{where}.positive: {positive!r} is not a class of the rows ({', '.join(sorted(counts))})"
            )
        t0 = time.perf_counter()
        X_train, y_train = train_frame.iloc[holdout.train], y[holdout.train]
        self.pipeline_ = self._fitted(self.imbalance, X_train, y_train, where)
        seconds = time.perf_counter() - t0
        self.classes_ = [str(c) for c in self.pipeline_.classes_]
        self.columns_ = list(frame.columns)
        self.column_types_ = frame_types(frame)
        self.positive_ = positive
        proba = self.pipeline_.predict_proba(frame)
        test = holdout.test
        y_test = list(y[test])
        proba_labelled = proba[labelled]
        metrics: dict[str, Any] = {
            "model": self.model,
            "estimator": self.estimator,
            "imbalance": self.imbalance,
            "rows": {"read": len(ids) + skipped[NO_ROW], "labelled": len(labelled)},
            "skipped": dict(skipped),
            "classes": dict(sorted(counts.items())),
            "positive": positive,
            "split": {"settings": split.model_dump(), "sizes": holdout.sizes()},
            "features": features_summary(self.pipeline_),
            "test": self._scores(y_test, proba_labelled[test]) if len(test) else None,
            "validation": self._scores(
                list(y[holdout.validation]), proba_labelled[holdout.validation]
            )
            if len(holdout.validation)
            else None,
            "training_seconds": round(seconds, 4),
        }
        compared = {self._name(self.imbalance): metrics["test"]}
        if len(test):
            if self.imbalance != "none":
                plain_model = self._fitted("none", X_train, y_train, where)
                metrics["without_imbalance"] = self._scores(
                    y_test, plain_model.predict_proba(train_frame.iloc[test])
                )
                compared[self._name("none")] = metrics["without_imbalance"]
            metrics["baseline"] = majority_baseline(y_train, y_test, self.classes_, positive)
            compared["majority class (baseline)"] = metrics["baseline"]
            metrics["comparison"] = [headline(name, s, positive) for name, s in compared.items()]
        if self.curves is not None:
            metrics["curves"] = tabular_curves(self, X_train, y_train, cv, split.seed, where)
        if folds is not None and cv is not None:
            fit = partial(self._fitted, self.imbalance, where=where)
            metrics["cv"] = cross_validate(
                fit, train_frame, y, folds, cv, where, self.classes_, positive
            )
        parts = np.full(len(ids), "unlabelled", dtype=object)
        for part in ("train", "validation", "test"):
            parts[np.asarray(labelled)[getattr(holdout, part)]] = part
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.staging-", dir=folder.parent))
        try:
            write_outputs(staging, folder.name, ids, labels, proba, parts, metrics, self.classes_)
            move_into(staging, folder, OUTPUTS)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if metrics["test"]:
            logger.info(
                "task %s (tabular %s, imbalance %s): test macro-F1 %.4f, %s recall %.4f",
                folder.name, self.estimator, self.imbalance, metrics["test"]["f1_macro"],
                positive, metrics["test"]["per_class"][positive]["recall"],
            )  # fmt: skip
        return self

    def _check_columns(self, columns: list[str], where: str) -> None:
        """A `ConfigError` for a column the features setting names but the rows lack."""
        from pipeline.hints import did_you_mean

        spec = resolved_spec(self.features)
        for key in (*KINDS, "drop"):
            if spec[key] == "auto":
                continue
            for name in spec[key]:
                if name not in columns:
                    raise ConfigError(
                        f"{where}.features.{key}: no column {name!r} in the rows"
                        f"{did_you_mean(name, columns)}; the columns are: {', '.join(columns)}"
                    )

    def make_pipeline(self, imbalance: str | None = None) -> Any:
        """The unfitted pipeline: features, then (imbalanced-learn) a sampler, then the model."""
        from sklearn.pipeline import Pipeline

        from components.ml.tabular_steps import make_classifier, make_sampler

        imbalance = self.imbalance if imbalance is None else imbalance
        features = build_features(self.features, where="features")
        model = make_classifier(
            self.estimator, balanced=imbalance == "class_weight", seed=self.seed, C=self.C,
            n_estimators=self.n_estimators, max_depth=self.max_depth,
            learning_rate=self.learning_rate,
        )  # fmt: skip
        sampler = make_sampler(imbalance, self.seed)
        if sampler is None:
            return Pipeline([("features", features), ("model", model)])
        from imblearn.pipeline import Pipeline as ImbPipeline

        return ImbPipeline([("features", features), ("sampler", sampler), ("model", model)])

    def _fitted(self, imbalance: str, X: Any, y: np.ndarray, where: str) -> Any:
        """The pipeline for `imbalance` fitted on (X, y); data it cannot take as a ConfigError."""
        pipeline = self.make_pipeline(imbalance)
        try:
            return pipeline.fit(X, y)
        except ValueError as exc:
            key = "imbalance" if imbalance in ("smote", "undersample", "oversample") else "features"
            raise ConfigError(f"{where}.{key}: the training rows cannot be fitted: {exc}") from None

    def _name(self, imbalance: str) -> str:
        return f"{self.estimator}" + ("" if imbalance == "none" else f" + {imbalance}")

    def _scores(self, y_true: list[str], proba: np.ndarray) -> dict[str, Any]:
        """`scores` plus the positive class's ROC AUC and average precision."""
        return positive_scores(y_true, proba, self.classes_, self.positive_)

    # ------------------------------------------------------------- use

    def predict(
        self, texts_or_docs: Iterable[str | Document | Mapping[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        """`{"label", "probabilities"}` per Document (its `meta["row"]`) or plain dict row, in order."""
        from components.ml.tabular import rows_frame

        items = []
        for item in texts_or_docs:
            if isinstance(item, str):
                raise TypeError(
                    "the tabular task predicts rows: pass Documents with meta['row'] (from the "
                    "table reader) or dicts {column: value}"
                )
            items.append(item)
        if not items:
            return
        _, frame = rows_frame(items, self.columns_, types=self.column_types_)
        with self._threads():
            proba = self.pipeline_.predict_proba(frame)
        for row in proba:
            yield prediction(row, self.classes_)

    def evaluate(self, corpus: Iterable[Document]) -> dict[str, Any]:
        """The fitted task's scores on the labelled rows of `corpus`."""
        from components.ml.tabular import rows_frame

        ids, rows, labels, _ = _collect(corpus, self.label)
        keep = [i for i, y in enumerate(labels) if y is not None]
        _, frame = rows_frame([rows[i] for i in keep], self.columns_, types=self.column_types_)
        with self._threads():
            proba = self.pipeline_.predict_proba(frame)
        return self._scores([labels[i] for i in keep], proba)

    def save(self, folder: Path) -> None:
        """The fitted pipeline (`model.skops`, skops' format: no pickle) and `task.json`."""
        import skops.io as sio

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        sio.dump(self.pipeline_, folder / MODEL_FILE)
        write_task_record(
            folder, self, classes=self.classes_, columns=self.columns_,
            column_types=self.column_types_, positive=self.positive_,
        )  # fmt: skip

    @classmethod
    def load(cls, folder: Path) -> Self:
        """A fitted task read back from `folder`; refuses a model file holding types outside
        `TRUSTED_TYPES` (and skops' own trusted set) instead of loading them."""
        import skops.io as sio

        folder = Path(folder)
        record = read_task_record(folder, cls.model)
        path = folder / MODEL_FILE
        untrusted = [t for t in sio.get_untrusted_types(file=path) if t not in TRUSTED_TYPES]
        if untrusted:
            raise ValueError(
                f"{path} holds types this task does not trust ({', '.join(untrusted)}); "
                "it was not written by the tabular task, or by a newer version of it"
            )
        task = cls(**record["params"])
        task.pipeline_ = sio.load(path, trusted=TRUSTED_TYPES)
        task.classes_ = list(record["classes"])
        task.columns_ = list(record["columns"])
        task.column_types_ = dict(record["column_types"])
        task.positive_ = record["positive"]
        return task


def _collect(
    corpus: Iterable[Document], label: str
) -> tuple[list[str], list[Mapping[str, Any]], list[str | None], Counter[str]]:
    """Ids, rows and labels (None when missing) of the documents with a `meta["row"]`."""
    ids: list[str] = []
    rows: list[Mapping[str, Any]] = []
    labels: list[str | None] = []
    skipped: Counter[str] = Counter()
    for doc in corpus:
        row = doc.meta.get("row")
        if not isinstance(row, Mapping):
            skipped[NO_ROW] += 1
            continue
        value = doc.meta.get(label)
        if value is None or value == "":
            skipped[NO_LABEL] += 1
        ids.append(doc.id)
        rows.append(row)
        labels.append(None if value is None or value == "" else str(value))
    return ids, rows, labels, skipped
