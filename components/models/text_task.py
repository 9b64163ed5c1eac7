"""What every text-classification task does, whatever its model (`TextClassificationTask`).

A task owns the data side: it streams the run's documents once into (id, tokens, label),
splits them (seeded, stratified holdout; cross-validation when `cv:` is set; or an
external `test_corpus:`), fits its estimator (a `TextEstimator`) on the training part and
writes into its folder `metrics.json`, `predictions.jsonl` (every document, in corpus
order), `confusion_matrix.png`, `card.json` / `card.md` and, with `cv:`, `folds.json` and
`folds/K/`; `curves:` adds bias/variance curves (`sklearn_adapter`), `self_training:` a
self-trained model (`self_training`). Data problems (a missing label key, a single class,
nothing left to train on) are `ConfigError`s raised before anything is written; the outputs are written into
a staging folder next to the task folder and moved in at the end.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from components.ml.curve_plots import CURVE_FILES, curve_blocks, write_curves
from components.ml.curves import curve_problems
from components.ml.splits import (
    CrossValidation,
    Holdout,
    HoldoutSettings,
    SplitError,
    cross_validation_folds,
    cv_problems,
    holdout_split,
    parse_dates,
    split_problems,
)
from components.represent.tokens import Field, token_stream
from pipeline.config import ConfigError, component_model
from pipeline.document import Document
from pipeline.registry import parameters
from pipeline.report_sections import image_block, metrics_block, text_block, write_section

from .card import classification_card, write_card
from .estimator import FitContext, TextEstimator
from .self_training import (
    add_unlabelled_predictions,
    self_train,
    self_training_blocks,
    self_training_metrics,
    self_training_problems,
)
from .task_data import (
    Examples,
    collect_examples,
    fit_name,
    read_test_corpus,
    require_two_classes,
    run_folder,
    test_corpus_problems,
)
from .task_outputs import (
    MODEL_FOLDER,
    PIPELINE_FILE,
    EpochLogger,
    move_into,
    plain,
    prediction,
    read_json,
    read_task_record,
    scores,
    write_folds,
    write_json,
    write_predictions,
    write_task_record,
)

__all__ = ["COMMON_PARAMETERS", "TextClassificationTask"]

logger = logging.getLogger(__name__)

BATCH = 512
#: what `fit` writes; one a new fit does not write again is removed (no stale results)
OUTPUTS = (
    "metrics.json",
    "predictions.jsonl",
    "test_corpus_predictions.jsonl",
    "confusion_matrix.png",
    "report.json",
    "card.json",
    "card.md",
    "folds.json",
    "folds",
    *CURVE_FILES,
)
#: the parameters every classification task takes, besides its estimator's own
COMMON_PARAMETERS = (
    "label", "split", "cv", "test_corpus", "field", "drop_stop", "seed", "curves", "self_training",
)  # fmt: skip


class TextClassificationTask:
    """Shared fit / evaluate / predict / save of the classification tasks.

    Subclasses name their estimator class (`estimator_class`) and list in `__init__` the
    common parameters (`COMMON_PARAMETERS`) plus the estimator's own, all keyword-only.
    """

    model: ClassVar[str]
    label: str
    split: Any
    cv: Any
    test_corpus: dict[str, Any] | None
    field: Field
    drop_stop: bool
    seed: int
    curves: Any
    self_training: Any

    @classmethod
    def estimator_class(cls) -> type[TextEstimator]:
        """The `TextEstimator` class this task trains."""
        raise NotImplementedError

    @classmethod
    def estimator_parameter_names(cls) -> list[str]:
        """The task parameters handed to the estimator (its constructor's, `seed` included)."""
        own = parameters(cls)
        return [name for name in parameters(cls.estimator_class()) if name in own]

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """Cheap checks before data is read: split fractions in [0, 1) leaving training
        documents, at least 2 folds, a date field for time-ordered folds, a known reader
        for `test_corpus`, `curves` and `self_training` settings, and the estimator's own
        (`estimator_problems`)."""
        return [
            *curve_problems(
                params.get("curves"),
                cls.estimator_parameter_names(),
                params_model=component_model("task", cls.model),
            ),
            *self_training_problems(params.get("self_training")),
            *split_problems(params.get("split")),
            *cv_problems(params.get("cv")),
            *test_corpus_problems(params.get("test_corpus")),
            *cls.estimator_problems(params),
        ]

    @classmethod
    def estimator_problems(cls, params: Mapping[str, Any]) -> list[str]:
        """Problems with the estimator's parameters; default: its own `check_params`, if any."""
        check = getattr(cls.estimator_class(), "check_params", None)
        if check is None:
            return []
        return list(check({k: params[k] for k in cls.estimator_parameter_names() if k in params}))

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters, JSON-ready (settings models as plain mappings)."""
        return {name: plain(getattr(self, name)) for name in parameters(type(self))}

    def make_estimator(self) -> TextEstimator:
        """A new, unfitted estimator with this task's estimator parameters."""
        params = self.get_params()
        return self.estimator_class()(
            **{name: params[name] for name in self.estimator_parameter_names()}
        )

    # ------------------------------------------------------------------ fit

    def fit(self, corpus: Iterable[Document], run_dir: Path) -> Self:
        """Train on the labelled documents of `corpus` (restartable) and write the task's
        outputs into `run_dir` (the task folder). Raises `ConfigError` naming the task's
        key for data it cannot use, before writing anything."""
        folder = Path(run_dir)
        where = f"tasks.{folder.name}"
        params = self.get_params()
        problems = self.check_params(params)
        if problems:
            raise ConfigError.of([ConfigError(f"{where}.{p}") for p in problems])
        record = read_json(folder / PIPELINE_FILE)
        split = HoldoutSettings.model_validate(params["split"] or {})
        cv = CrossValidation.model_validate(params["cv"]) if params["cv"] is not None else None
        time_cv = cv is not None and cv.resolved_method() == "time"
        data = collect_examples(
            corpus,
            label=self.label,
            field=self.field,
            drop_stop=self.drop_stop,
            where=where,
            date_field=cv.date_field if cv is not None and time_cv else None,
            keep_unlabelled=self.self_training is not None,
        )
        require_two_classes(data.labels, f"{where}.label", "the corpus")
        external = read_test_corpus(self, record, where) if self.test_corpus else None
        try:
            holdout = holdout_split(
                data.labels,
                test=0.0 if external is not None else split.test,
                validation=split.validation,
                seed=split.seed,
                stratify=split.stratify,
            )
            folds = None
            if cv is not None:
                dates = parse_dates(data.dates, data.ids, cv.date_field or "") if time_cv else None
                folds = cross_validation_folds(data.labels, cv, dates=dates)
        except SplitError as exc:
            raise ConfigError(f"{where}.{exc}") from None
        train = data.subset(holdout.train)
        require_two_classes(train.labels, f"{where}.split", "the training part")

        t0 = time.perf_counter()
        self.estimator_, trained = self._fit_model(
            train, data.subset(holdout.validation), folder, data.pool
        )
        seconds = time.perf_counter() - t0
        self.classes_ = list(self.estimator_.classes_)
        proba = self.estimator_.predict_proba(data.tokens)
        test = external if external is not None else data.subset(holdout.test)
        test_proba = (
            self.estimator_.predict_proba(test.tokens)
            if external is not None
            else proba[holdout.test]
        )
        validation = data.subset(holdout.validation)
        metrics: dict[str, Any] = {
            "model": self.model,
            "split": {
                "settings": split.model_dump(),
                "sizes": {**holdout.sizes(), "test": len(test)},
                "test_corpus": external is not None,
            },
            "test": scores(test.labels, test_proba, self.classes_) if len(test) else None,
            "validation": scores(validation.labels, proba[holdout.validation], self.classes_)
            if len(validation)
            else None,
            "history": list(getattr(self.estimator_, "history_", [])),
            "training_seconds": round(seconds, 4),
        }
        if data.pool is not None:
            metrics["self_training"] = self_training_metrics(self, trained, train, data, test)
        if self.curves is not None:
            from .sklearn_adapter import task_curves

            metrics["curves"] = task_curves(self, train, cv, split.seed, folder)
        per_fold: list[dict[str, Any]] = []
        if cv is not None and folds is not None:
            metrics["cv"], per_fold = self._cross_validate(data, folds, folder, cv, split)
        self.card_ = classification_card(
            self, folder.name, record, data.class_counts(), metrics, external is not None
        )
        self.pipeline_ = record

        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.staging-", dir=folder.parent))
        try:
            self._write_outputs(staging, data, proba, holdout, metrics, external)
            if cv is not None and folds is not None:
                write_folds(staging, data.ids, folds, per_fold, cv.resolved_method())
            move_into(staging, folder, OUTPUTS)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        accuracy = metrics["test"]["accuracy"] if metrics["test"] else float("nan")
        logger.info(
            "task %s (%s): test accuracy %.4f on %d documents; trained in %.2f s",
            folder.name, self.model, accuracy, len(test), seconds,
        )  # fmt: skip
        return self

    def _fit_key(self, part: Examples) -> str:
        """Fingerprint of a fit: the ordered training ids and labels and the parameters."""
        blob = json.dumps([part.ids, part.labels, self.get_params()], sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def _fit_model(
        self, train: Examples, validation: Examples, workdir: Path, pool: Examples | None
    ) -> tuple[Any, Any]:
        """The estimator fitted on `train` and, with `self_training:` (a `pool`), the
        `SelfTrainingResult` (the self-trained estimator is the one returned)."""
        workdir.mkdir(parents=True, exist_ok=True)
        context = FitContext(
            workdir=workdir,
            run_dir=run_folder(workdir),
            key=self._fit_key(train),
            seed=self.seed,
            log=EpochLogger(fit_name(workdir)),
        )
        held_out = (validation.tokens, validation.labels) if len(validation) else None
        estimator = self.make_estimator().fit(
            train.tokens, train.labels, validation=held_out, context=context
        )
        if pool is None:
            return estimator, None
        result = self_train(self, estimator, train, validation, pool, context)
        return result.estimator, result

    def _cross_validate(
        self,
        data: Examples,
        folds: list[tuple[np.ndarray, np.ndarray]],
        folder: Path,
        cv: CrossValidation,
        split: HoldoutSettings,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Fit one estimator per fold (each in `folds/K/`); the summary and per-fold scores.

        Each fold's training part gives up `split.validation` of the documents (seeded,
        stratified like the holdout) as that fold's validation set, so early stopping and
        the best-weights restore work in every fold as in the holdout fit; every model of
        a run gets the same parts."""
        from components.ml.metrics import summarize_folds

        per_fold = []
        where = f"tasks.{folder.name}.cv"
        for k, (train_idx, test_idx) in enumerate(folds):
            test = data.subset(test_idx)
            fold_data = data.subset(train_idx)
            try:
                parts = holdout_split(
                    fold_data.labels,
                    test=0.0,
                    validation=split.validation,
                    seed=split.seed,
                    stratify=split.stratify,
                )
            except SplitError as exc:
                raise ConfigError(f"tasks.{folder.name}.{exc}") from None
            train = fold_data.subset(parts.train)
            validation = fold_data.subset(parts.validation)
            require_two_classes(train.labels, where, f"fold {k}'s training part")
            estimator, _ = self._fit_model(train, validation, folder / "folds" / str(k), data.pool)
            fold_scores = scores(test.labels, estimator.predict_proba(test.tokens), self.classes_)
            sizes = {"train": len(train), "validation": len(validation), "test": len(test)}
            per_fold.append({"fold": k, **sizes, **fold_scores})
            logger.info("fold %d: accuracy %.4f", k, fold_scores["accuracy"])
        summary = {
            "settings": cv.model_dump(),
            "method": cv.resolved_method(),
            "folds": len(folds),
            "summary": summarize_folds(per_fold),
            "per_fold": [
                {k: v for k, v in fold.items() if k not in ("per_class", "confusion_matrix")}
                for fold in per_fold
            ],
            "note": "the saved model is the one trained on the holdout training part",
        }
        return summary, per_fold

    def _write_outputs(
        self,
        staging: Path,
        data: Examples,
        proba: np.ndarray,
        holdout: Holdout,
        metrics: dict[str, Any],
        external: Examples | None,
    ) -> None:
        """Metrics, predictions, the confusion matrix and the card, into `staging`."""
        from components.ml.plots import confusion_png

        write_json(staging / "metrics.json", metrics)
        parts = np.full(len(data), "train", dtype=object)
        parts[holdout.validation] = "validation"
        parts[holdout.test] = "test"
        write_predictions(
            staging / "predictions.jsonl", data.ids, data.labels, proba, self.classes_, parts
        )
        if external is not None:
            write_predictions(
                staging / "test_corpus_predictions.jsonl",
                external.ids,
                external.labels,
                self.estimator_.predict_proba(external.tokens),
                self.classes_,
                ["test"] * len(external),
            )
        if metrics["test"]:
            test = metrics["test"]
            confusion_png(
                test["confusion_matrix"], test["classes"], staging / "confusion_matrix.png"
            )
        add_unlabelled_predictions(staging / "predictions.jsonl", data, self.estimator_)
        write_curves(staging, metrics.get("curves"), self.model)
        self._write_report_section(staging, metrics)
        write_card(staging, self.card_)

    def _write_report_section(self, staging: Path, metrics: dict[str, Any]) -> None:
        """The task's section of the run report: test scores, cross-validation, the matrix."""
        blocks = []
        if metrics["test"]:
            test = metrics["test"]
            where = "the external test corpus" if metrics["split"]["test_corpus"] else "held out"
            blocks.append(text_block(f"{test['documents']:,} test documents ({where})."))
            values = {"accuracy": test["accuracy"], "macro-F1": test["f1_macro"]}
            blocks.append(metrics_block("Test scores", values))
        if metrics.get("cv"):
            summary = metrics["cv"]["summary"]
            values = {
                name: f"{summary[key]['mean']:.4f} ± {summary[key]['std']:.4f}"
                for name, key in (("accuracy", "accuracy"), ("macro-F1", "f1_macro"))
                if key in summary
            }
            title = f"Cross-validation ({metrics['cv']['folds']} folds, mean ± std)"
            blocks.append(metrics_block(title, values))
        if metrics["test"]:
            blocks.append(image_block("Confusion matrix (test)", "confusion_matrix.png"))
        blocks += self_training_blocks(metrics.get("self_training"))
        blocks += curve_blocks(metrics.get("curves"))
        if blocks:
            write_section(staging, f"Classification: {self.label} ({self.model})", blocks, order=60)

    # ------------------------------------------------------------- use

    def evaluate(self, corpus: Iterable[Document]) -> dict[str, Any]:
        """Metrics of the fitted task on labelled documents (tokenized as in training)."""
        data = collect_examples(
            corpus, label=self.label, field=self.field, drop_stop=self.drop_stop, where="evaluate"
        )
        return scores(data.labels, self.estimator_.predict_proba(data.tokens), self.classes_)

    def predict(self, texts_or_docs: Iterable[str | Document]) -> Iterator[dict[str, Any]]:
        """`{"label", "probabilities": {class: p}}` per tokenized document, in input order.

        Raw strings must first go through the model's stages: use
        `components.models.load(folder).predict(texts)`, which does that.
        """
        batch: list[list[str]] = []
        for item in texts_or_docs:
            if isinstance(item, str):
                raise TypeError(
                    "a task predicts tokenized Documents; for raw text use "
                    "components.models.load(MODEL_DIR).predict(texts), which runs the stages"
                )
            batch.append(token_stream(item, field=self.field, drop_stop=self.drop_stop))
            if len(batch) == BATCH:
                yield from self._predict_tokens(batch)
                batch = []
        if batch:
            yield from self._predict_tokens(batch)

    def _predict_tokens(self, tokens: Sequence[list[str]]) -> Iterator[dict[str, Any]]:
        for row in self.estimator_.predict_proba(tokens):
            yield prediction(row, self.classes_)

    def save(self, folder: Path) -> None:
        """Write the estimator (`model/`), `task.json`, the card and, when known and
        absent, `pipeline.json` into `folder`."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.estimator_.save(folder / MODEL_FOLDER)
        write_task_record(folder, self, classes=self.classes_)
        if getattr(self, "card_", None) is not None and not (folder / "card.json").exists():
            write_card(folder, self.card_)

    @classmethod
    def load(cls, folder: Path) -> Self:
        """A fitted task read back from `folder` (written by `save`)."""
        folder = Path(folder)
        task = cls(**read_task_record(folder, cls.model)["params"])
        task.estimator_ = cls.estimator_class().load(folder / MODEL_FOLDER)
        task.classes_ = list(task.estimator_.classes_)
        task.card_ = read_json(folder / "card.json")
        task.pipeline_ = read_json(folder / PIPELINE_FILE)
        return task
