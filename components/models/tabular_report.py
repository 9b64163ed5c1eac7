"""Scores, comparison rows and report outputs of the `tabular` task (`tabular_task.py`).

`positive_scores` adds the positive class's ROC AUC and average precision to the usual
scores; `majority_baseline` scores the majority class of the training rows on the same
test rows; `cross_validate` scores a pipeline per fold; `headline` is one row of the
model comparison; `features_summary` describes the fitted feature steps; `write_outputs`
writes metrics.json, predictions.jsonl, the confusion matrix, the bias/variance curves and
the task's report section (`write_section`). `curve_param_problems` and `tabular_curves`
wire `curves:` (`components.ml.curves`) to the task's pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .task_data import require_two_classes
from .task_outputs import plain, scores, write_json, write_predictions

if TYPE_CHECKING:
    from components.ml.splits import CrossValidation

__all__ = [
    "CURVE_PARAMS",
    "cross_validate",
    "curve_param_problems",
    "features_summary",
    "headline",
    "majority_baseline",
    "positive_scores",
    "tabular_curves",
    "write_outputs",
    "write_section",
]

#: per estimator, the task-level hyperparameters `curves.validation.param` may name and the
#: pipeline step parameter each sets (histogram boosting calls its trees `max_iter`)
CURVE_PARAMS: dict[str, dict[str, str]] = {
    "logreg": {"C": "model__C"},
    "random-forest": {"n_estimators": "model__n_estimators", "max_depth": "model__max_depth"},
    "gradient-boosting": {
        "n_estimators": "model__max_iter",
        "max_depth": "model__max_depth",
        "learning_rate": "model__learning_rate",
    },
}


def curve_param_problems(
    params: Mapping[str, Any], check: Callable[[Mapping[str, Any]], list[str]]
) -> list[str]:
    """Problems with `curves:` (`components.ml.curves.curve_problems`): a
    `validation.param` must be one of the chosen estimator's hyperparameters
    (`CURVE_PARAMS`, with a did-you-mean), each of its values one the task's `check`
    (its `check_params`) accepts for that parameter (C > 0, max_depth >= 1, ...)."""
    from components.ml.curves import CurveSettings, curve_problems
    from pipeline.config import component_model

    names = list(CURVE_PARAMS.get(params.get("estimator", "logreg"), {}))
    model = component_model("task", "tabular")
    problems = curve_problems(params.get("curves"), names, params_model=model)
    if problems or params.get("curves") is None:
        return problems
    validation = CurveSettings.model_validate(params["curves"]).validation
    for i, value in enumerate(validation.values if validation is not None else []):
        own = {**params, "curves": None, validation.param: value}
        for line in check(own):
            if line.startswith(f"{validation.param}:"):
                problems.append(f"curves.validation.values[{i}]: {line}")
    return problems


def tabular_curves(
    task: Any, X: Any, y: np.ndarray, cv: CrossValidation | None, seed: int, where: str
) -> dict[str, Any]:
    """The curves `task.curves` asks for, of the task's unfitted pipeline (features,
    sampler, model: cloned per fit, so resampling sees training folds only) on the
    training part (X, y): folds of `cv` or stratified `curves.folds` (3), seeded `seed`."""
    from components.ml.curves import CurveSettings, curve_folds, run_curves

    settings = CurveSettings.model_validate(plain(task.curves))
    folds = curve_folds(list(y), settings, cv, seed, where=where)
    return run_curves(
        task.make_pipeline(), X, y, settings, folds, seed=seed,
        param_names=CURVE_PARAMS[task.estimator],
    )  # fmt: skip


def positive_scores(
    y_true: list[str], proba: np.ndarray, classes: list[str], positive: str
) -> dict[str, Any]:
    """`scores` plus the positive class's ROC AUC and average precision.

    Both are None when the rows hold only the positive class or none of it.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    out = scores(y_true, proba, classes)
    column = classes.index(positive)
    truth = np.asarray([y == positive for y in y_true], dtype=int)
    both = 0 < truth.sum() < len(truth)
    out["positive"] = {
        "class": positive,
        "roc_auc": float(roc_auc_score(truth, proba[:, column])) if both else None,
        "average_precision": float(average_precision_score(truth, proba[:, column]))
        if both
        else None,
    }
    return out


def majority_baseline(
    y_train: np.ndarray, y_test: list[str], classes: list[str], positive: str
) -> dict[str, Any]:
    """The majority class of the training rows, predicted for every test row, scored.

    The scores are `positive_scores`' plus `majority`, the class predicted.
    """
    from sklearn.dummy import DummyClassifier

    dummy = DummyClassifier(strategy="most_frequent").fit(np.zeros((len(y_train), 1)), y_train)
    proba = np.zeros((len(y_test), len(classes)))
    for j, c in enumerate(dummy.classes_):
        proba[:, classes.index(str(c))] = dummy.predict_proba(np.zeros((1, 1)))[0, j]
    return {
        **positive_scores(y_test, proba, classes, positive),
        "majority": str(dummy.classes_[np.argmax(dummy.class_prior_)]),
    }


def cross_validate(
    fit: Callable[[Any, np.ndarray], Any],
    frame: Any,
    y: np.ndarray,
    folds: list[Any],
    cv: CrossValidation,
    where: str,
    classes: list[str],
    positive: str,
) -> dict[str, Any]:
    """Scores of the whole pipeline (sampler included) per fold, and their mean ± std.

    `fit(X, y)` returns the pipeline fitted on a fold's training rows; `where` names the
    task in the `ConfigError` for a fold whose training part holds one class.
    """
    from components.ml.metrics import summarize_folds

    per_fold = []
    for k, (train, test) in enumerate(folds):
        require_two_classes(list(y[train]), f"{where}.cv", f"fold {k}'s training part")
        model = fit(frame.iloc[train], y[train])
        proba = model.predict_proba(frame.iloc[test])
        fold = positive_scores(list(y[test]), proba, classes, positive)
        row = {k2: v for k2, v in fold.items() if isinstance(v, float)}
        row["positive_recall"] = fold["per_class"][positive]["recall"]
        row["positive_roc_auc"] = fold["positive"]["roc_auc"]
        per_fold.append({"fold": k, "train": len(train), "test": len(test), **row})
    return {
        "settings": cv.model_dump(),
        "method": cv.resolved_method(),
        "folds": len(folds),
        "summary": summarize_folds(per_fold),
        "per_fold": per_fold,
    }


def features_summary(pipeline: Any) -> dict[str, Any]:
    """The fitted feature steps of `pipeline` (`components.ml.tabular.features_summary`)
    plus the names of the features they make."""
    from components.ml.tabular import features_summary as summarize

    summary = summarize(pipeline.named_steps["features"])
    summary["names"] = [str(n) for n in pipeline.named_steps["features"].get_feature_names_out()]
    return summary


def headline(name: str, s: Mapping[str, Any], positive: str) -> dict[str, Any]:
    """One row of the comparison: the figures that matter with a rare class."""
    return {
        "model": name,
        "accuracy": s["accuracy"],
        "f1_macro": s["f1_macro"],
        "positive_precision": s["per_class"][positive]["precision"],
        "positive_recall": s["per_class"][positive]["recall"],
        "roc_auc": s["positive"]["roc_auc"],
        "average_precision": s["positive"]["average_precision"],
    }


def write_outputs(
    staging: Path,
    name: str,
    ids: list[str],
    labels: list[str | None],
    proba: np.ndarray,
    parts: np.ndarray,
    metrics: dict[str, Any],
    classes: list[str],
) -> None:
    """metrics.json, predictions.jsonl (every row), the confusion matrix and the section."""
    from components.ml.curve_plots import write_curves
    from components.ml.plots import confusion_png

    write_json(staging / "metrics.json", metrics)
    write_curves(staging, metrics.get("curves"), f"tabular {metrics['estimator']}")
    write_predictions(staging / "predictions.jsonl", ids, labels, proba, classes, list(parts))
    if metrics["test"]:
        test = metrics["test"]
        confusion_png(test["confusion_matrix"], test["classes"], staging / "confusion_matrix.png")
    write_section(staging, metrics, name)


def write_section(staging: Path, metrics: Mapping[str, Any], name: str) -> None:
    """The report section: rows and classes, the comparison table, CV, the matrix."""
    from components.ml.curve_plots import curve_blocks
    from pipeline.report_sections import (
        image_block,
        metrics_block,
        table_block,
        text_block,
    )
    from pipeline.report_sections import write_section as write_blocks

    classes = ", ".join(f"{c}: {n:,}" for c, n in metrics["classes"].items())
    skipped = sum(metrics["skipped"].values())
    blocks = [
        text_block(
            f"{metrics['rows']['labelled']:,} labelled rows ({classes}); "
            f"{metrics['features']['features']} features; {skipped:,} rows skipped or unlabelled. "
            f"Positive (rare) class: {metrics['positive']}."
        )
    ]
    if metrics.get("comparison"):

        def cell(v: Any) -> Any:
            return "n/a" if v is None else round(v, 4)

        rows = [
            [r["model"], *(cell(r[k]) for k in (
                "accuracy", "f1_macro", "positive_precision", "positive_recall", "roc_auc",
                "average_precision",
            ))]
            for r in metrics["comparison"]
        ]  # fmt: skip
        title = f"Test rows ({metrics['test']['documents']:,}), same split for every model"
        columns = ["model", "accuracy", "macro-F1", "precision (positive)",
                   "recall (positive)", "ROC AUC", "average precision"]  # fmt: skip
        blocks.append(table_block(title, columns, rows))
    if metrics.get("cv"):
        summary = metrics["cv"]["summary"]
        values = {
            name: f"{summary[key]['mean']:.4f} ± {summary[key]['std']:.4f}"
            for name, key in (("accuracy", "accuracy"), ("macro-F1", "f1_macro"),
                              ("recall (positive)", "positive_recall"),
                              ("ROC AUC (positive)", "positive_roc_auc"))
            if key in summary
        }  # fmt: skip
        blocks.append(metrics_block(f"Cross-validation ({metrics['cv']['folds']} folds)", values))
    outliers = {k: v for k, v in metrics["features"]["outliers"].items() if v}
    if outliers:
        blocks.append(metrics_block("Outliers found in the training rows", outliers))
    if metrics["test"]:
        blocks.append(image_block("Confusion matrix (test)", "confusion_matrix.png"))
    blocks += curve_blocks(metrics.get("curves"))
    model = metrics["estimator"] + (
        "" if metrics["imbalance"] == "none" else f", {metrics['imbalance']}"
    )
    write_blocks(staging, f"Tabular classification: {name} ({model})", blocks, order=60)
