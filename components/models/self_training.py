"""Semi-supervised self-training of the classification tasks (`self_training:`).

With `self_training:` set, documents without a label become an unlabelled pool. The
model trained on the labelled documents pseudo-labels the pool documents it is confident
about, is refitted on both, and repeats until nothing is added or `max_iter` rounds.

- The scikit-learn baselines use scikit-learn's `SelfTrainingClassifier` around their
  configured classifier, on the TF-IDF (or count) matrix of the labelled and unlabelled
  training documents. `vocabulary: labelled` (default) learns the vectorizer from the
  labelled documents, as the labelled-only model does, so a run that pseudo-labels
  nothing gives that very model; `vocabulary: all` learns it from the unlabelled ones
  too (words only they hold become features: measured to help naive Bayes with few
  labels, and to hurt logistic regression). `linear-svm` runs in its calibrated form
  (Platt-scaled `LinearSVC`), so the threshold applies to probabilities, not margins.
- The torch networks use our own loop with the same rules (`_torch_loop`):
  `SelfTrainingClassifier` validates its input as one numeric matrix, while our networks
  take token lists of any length, build their vocabulary in `fit`, and need a fit context
  (working folder, checkpoint key, validation set for early stopping) it cannot pass.

A document is pseudo-labelled when its top probability is strictly above `threshold`
(scikit-learn's rule, kept for both families so one setting means the same), or, with
`criterion: k_best`, the `k_best` most confident ones per round. Pseudo-labels are final.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from .estimator import FitContext, TextEstimator
from .task_data import Examples

__all__ = [
    "SelfTrainingResult",
    "add_unlabelled_predictions",
    "SelfTrainingSettings",
    "self_train",
    "self_training_blocks",
    "self_training_metrics",
    "self_training_problems",
]

logger = logging.getLogger(__name__)


class SelfTrainingSettings(BaseModel):
    """`self_training:` of a task: `threshold` (pseudo-label a document whose top
    probability is above it), or `criterion: k_best` with `k_best` documents per round;
    at most `max_iter` rounds. `vocabulary`: the documents the baselines' vectorizer
    learns from (`labelled` or `all`, the unlabelled ones too)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float = 0.8
    criterion: Literal["threshold", "k_best"] = "threshold"
    k_best: int = 10
    max_iter: int = 10
    vocabulary: Literal["labelled", "all"] = "labelled"


def self_training_problems(
    spec: Mapping[str, Any] | None, path: str = "self_training"
) -> list[str]:
    """What is wrong with validated `self_training:` settings, as "key: message" lines."""
    if spec is None:
        return []
    settings = SelfTrainingSettings.model_validate(spec)
    problems = []
    if not 0.0 <= settings.threshold < 1.0:
        problems.append(f"{path}.threshold: {settings.threshold} is invalid: use [0, 1)")
    if settings.k_best < 1:
        problems.append(f"{path}.k_best: {settings.k_best} is invalid: use at least 1")
    if settings.max_iter < 1:
        problems.append(f"{path}.max_iter: {settings.max_iter} is invalid: use at least 1")
    return problems


@dataclass
class SelfTrainingResult:
    """The self-trained estimator and what the rounds did: documents pseudo-labelled,
    rounds run, why they stopped (`no_change`, `max_iter`, `all_labeled`) and how many
    each round added."""

    estimator: Any
    pseudo_labelled: int
    iterations: int
    stopped: str
    added: list[int] = field(default_factory=list)
    method: str = ""
    labelled_only: Any = None


def self_train(
    task: Any,
    start: TextEstimator,
    train: Examples,
    validation: Examples,
    pool: Examples,
    context: FitContext,
) -> SelfTrainingResult:
    """Self-train `task`'s model (its `self_training:` settings) from `start`, the
    estimator fitted on `train` alone, with the unlabelled `pool`: scikit-learn's
    `SelfTrainingClassifier` for the baselines, our loop for the torch networks."""
    from .baselines import SklearnTextClassifier

    settings = SelfTrainingSettings.model_validate(task.get_params()["self_training"])
    make_estimator = task.make_estimator

    if not len(pool):
        logger.warning("self-training: every document has a label; nothing to pseudo-label")
        return SelfTrainingResult(
            start, 0, 0, "all_labeled", method="nothing to pseudo-label", labelled_only=start
        )
    if isinstance(start, SklearnTextClassifier):
        result = _sklearn_self_training(make_estimator(), train, pool, settings)
    else:
        result = _torch_loop(make_estimator, start, train, validation, pool, settings, context)
    result.labelled_only = start
    logger.info(
        "self-training: %d of %d unlabelled documents pseudo-labelled in %d rounds (%s)",
        result.pseudo_labelled, len(pool), result.iterations, result.stopped,
    )  # fmt: skip
    return result


def _sklearn_self_training(
    estimator: Any, train: Examples, pool: Examples, settings: SelfTrainingSettings
) -> SelfTrainingResult:
    """`SelfTrainingClassifier` around the baseline's classifier on the feature matrix of
    the labelled and unlabelled documents; the fitted vectorizer and final classifier
    become the baseline's model, so it saves and loads as usual."""
    from sklearn.pipeline import Pipeline
    from sklearn.semi_supervised import SelfTrainingClassifier

    from .baselines import _one_blas_thread

    texts = [list(t) for t in train.tokens] + [list(t) for t in pool.tokens]
    y = np.asarray([*train.labels, *([-1] * len(pool))], dtype=object)
    folds = getattr(estimator, "calibration_folds", None)
    if folds is not None:  # linear-svm: calibration folds within the rarest labelled class
        rarest = min(train.class_counts().values())
        estimator.calibration_folds = max(2, min(folds, rarest))
    vectorizer = estimator._vectorizer()
    model = SelfTrainingClassifier(
        estimator._classifier(),
        threshold=settings.threshold,
        criterion=settings.criterion,
        k_best=settings.k_best,
        max_iter=settings.max_iter,
    )
    with _one_blas_thread():
        vectorizer.fit(texts if settings.vocabulary == "all" else texts[: len(train)])
        model.fit(vectorizer.transform(texts), y)
    if folds is not None:
        estimator.calibration_folds = folds
    rounds = np.asarray(model.labeled_iter_, dtype=int)
    added = np.bincount(rounds[rounds > 0], minlength=model.n_iter_ + 1)[1:]
    estimator.model_ = Pipeline([("vectorizer", vectorizer), ("classifier", model.estimator_)])
    estimator.classes_ = [str(c) for c in model.estimator_.classes_]
    estimator.history_ = []
    return SelfTrainingResult(
        estimator,
        pseudo_labelled=int((rounds > 0).sum()),
        iterations=int(model.n_iter_),
        stopped=str(model.termination_condition_),
        added=[int(a) for a in added],
        method="scikit-learn SelfTrainingClassifier",
    )


def _torch_loop(
    make_estimator: Callable[[], TextEstimator],
    start: TextEstimator,
    train: Examples,
    validation: Examples,
    pool: Examples,
    settings: SelfTrainingSettings,
    context: FitContext,
) -> SelfTrainingResult:
    """Our loop for the torch networks, with `SelfTrainingClassifier`'s rules: each round
    the current model predicts the remaining pool, the confident documents join the
    training set with their predicted class, and a fresh model is fitted on it (same seed,
    same validation set for early stopping, its own checkpoint key)."""
    estimator = start
    texts, labels = list(train.tokens), list(train.labels)
    remaining = np.arange(len(pool))
    added: list[int] = []
    held_out = (validation.tokens, validation.labels) if len(validation) else None
    stopped = "max_iter"
    iterations = 0
    while iterations < settings.max_iter:
        if not len(remaining):
            stopped = "all_labeled"
            break
        iterations += 1
        proba = estimator.predict_proba([pool.tokens[i] for i in remaining])
        confidence = proba.max(axis=1)
        if settings.criterion == "threshold":
            chosen = np.flatnonzero(confidence > settings.threshold)
        else:
            chosen = np.argsort(-confidence, kind="stable")[: settings.k_best]
        added.append(len(chosen))
        if not len(chosen):
            stopped = "no_change"
            break
        classes = list(estimator.classes_)
        for i in chosen:
            texts.append(pool.tokens[remaining[i]])
            labels.append(classes[int(np.argmax(proba[i]))])
        remaining = np.delete(remaining, chosen)
        key = hashlib.sha256(json.dumps([context.key, len(texts), labels]).encode()).hexdigest()
        estimator = make_estimator().fit(
            texts, labels, validation=held_out, context=replace(context, key=key)
        )
    if not len(remaining):
        stopped = "all_labeled"
    return SelfTrainingResult(
        estimator,
        pseudo_labelled=len(texts) - len(train),
        iterations=iterations,
        stopped=stopped,
        added=added,
        method="our loop (torch networks; rules of scikit-learn's SelfTrainingClassifier)",
    )


def self_training_metrics(
    task: Any, result: SelfTrainingResult, train: Examples, data: Examples, test: Examples
) -> dict[str, Any]:
    """`metrics.json["self_training"]`: the labelled-only and the self-trained model's
    scores on the same `test` documents, and what the rounds did."""
    from .task_outputs import scores

    settings = SelfTrainingSettings.model_validate(task.get_params()["self_training"])

    def test_scores(estimator: Any) -> dict[str, Any] | None:
        if not len(test):
            return None
        found = scores(test.labels, estimator.predict_proba(test.tokens), estimator.classes_)
        return {k: v for k, v in found.items() if k not in ("per_class", "confusion_matrix")}

    return {
        "method": result.method,
        "threshold": settings.threshold,
        "criterion": settings.criterion,
        "k_best": settings.k_best if settings.criterion == "k_best" else None,
        "max_iter": settings.max_iter,
        "vocabulary": settings.vocabulary,
        "labelled": len(train),
        "unlabelled": len(data.pool or []),
        "pseudo_labelled": result.pseudo_labelled,
        "iterations": result.iterations,
        "stopped": result.stopped,
        "added_per_iteration": result.added,
        "labelled_only": test_scores(result.labelled_only),
        "self_trained": test_scores(result.estimator),
    }


def self_training_blocks(record: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The report blocks: what the rounds did and the two models' test scores side by side."""
    from pipeline.report_sections import table_block, text_block

    if not record:
        return []
    rule = (
        f"top probability above {record['threshold']}"
        if record["criterion"] == "threshold"
        else f"the {record['k_best']} most confident per round"
    )
    blocks = [
        text_block(
            f"Self-training ({record['method']}): {record['pseudo_labelled']:,} of "
            f"{record['unlabelled']:,} unlabelled documents pseudo-labelled ({rule}) in "
            f"{record['iterations']} rounds, stopped: {record['stopped']}; "
            f"{record['labelled']:,} labelled training documents. The saved model is the "
            "self-trained one."
        )
    ]
    before, after = record["labelled_only"], record["self_trained"]
    if before and after:
        rows = [
            [name, f"{before[key]:.4f}", f"{after[key]:.4f}", f"{after[key] - before[key]:+.4f}"]
            for name, key in (("accuracy", "accuracy"), ("macro-F1", "f1_macro"))
        ]
        columns = ["test score", "labelled only", "self-trained", "difference"]
        blocks.append(
            table_block("Self-training against labelled only (same test split)", columns, rows)
        )
    return blocks


def add_unlabelled_predictions(path: Path, data: Examples, estimator: Any) -> None:
    """Merge into `predictions.jsonl` (the labelled documents' lines, written first) one
    line per unlabelled document of `data.pool` (`split: unlabelled`, `true: null`), in
    corpus order (by `positions`)."""
    from .task_outputs import prediction

    pool = data.pool
    if pool is None:
        return
    proba = estimator.predict_proba(pool.tokens)
    classes = list(estimator.classes_)

    labelled = path.read_text(encoding="utf-8").splitlines()
    lines = list(zip(data.positions, labelled, strict=True))
    for position, doc_id, row in zip(pool.positions, pool.ids, proba, strict=True):
        line = {"id": doc_id, **prediction(row, classes), "split": "unlabelled", "true": None}
        lines.append((position, json.dumps(line, ensure_ascii=False)))
    lines.sort(key=lambda item: item[0])
    path.write_text("".join(line + "\n" for _, line in lines), encoding="utf-8")
