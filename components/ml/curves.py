"""Bias and variance: learning curves, validation curves and a verdict in words.

A learning curve scores a model on its training folds and on held-out folds as the
training set grows (scikit-learn's `learning_curve`); a validation curve does the same
over the values of one hyperparameter (`validation_curve`). Both take any scikit-learn
compatible estimator and explicit folds (a task's cross-validation). `diagnose` reads the
two scores where the model had the most data (or its best setting) and says "high bias",
"high variance" or "fine", with the numbers and the next step it suggests.

The thresholds (`MIN_TRAIN_SCORE`, `MAX_GAP`) are for scores in [0, 1] where higher is
better (accuracy, macro-F1); see `diagnose` for why these values.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

__all__ = [
    "MAX_GAP",
    "MIN_TRAIN_SCORE",
    "CurveSettings",
    "LearningCurveSettings",
    "ValidationCurveSettings",
    "Verdict",
    "curve_folds",
    "curve_problems",
    "diagnose",
    "learning_curves",
    "run_curves",
    "validation_curves",
]

logger = logging.getLogger(__name__)

#: a training score under this: the model cannot fit even the documents it was shown
MIN_TRAIN_SCORE = 0.85
#: a training score this far above the validation score: it memorises more than it learns
MAX_GAP = 0.10

VerdictKind = Literal["high bias", "high variance", "fine"]
DEFAULT_SIZES = (0.1, 0.3, 0.55, 0.8, 1.0)
#: scikit-learn scorer names a classification curve may use
Scoring = Literal[
    "accuracy", "balanced_accuracy", "f1_macro", "f1_micro", "f1_weighted",
    "precision_macro", "recall_macro",
]  # fmt: skip


class LearningCurveSettings(BaseModel):
    """`curves.learning`: training-set sizes as fractions of each fold's training part."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sizes: list[float] = list(DEFAULT_SIZES)


class ValidationCurveSettings(BaseModel):
    """`curves.validation`: one estimator parameter (`param`) and the `values` to try."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    param: str
    values: list[Any]


class CurveSettings(BaseModel):
    """`curves:` of a task. `learning` and `validation` are each optional (with neither,
    the learning curve runs with its default sizes); `folds`: cross-validation folds of
    the training part (None: the task's `cv.folds`, else 3); `scoring`: the scikit-learn
    scorer (accuracy, balanced_accuracy, f1_macro, ...); `min_train_score` and `max_gap`: the verdict's
    thresholds (see `diagnose`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    learning: LearningCurveSettings | None = None
    validation: ValidationCurveSettings | None = None
    folds: int | None = None
    scoring: Scoring = "accuracy"
    min_train_score: float = MIN_TRAIN_SCORE
    max_gap: float = MAX_GAP

    def learning_sizes(self) -> list[float] | None:
        """The learning curve's sizes, or None when only a validation curve is asked for."""
        if self.learning is not None:
            return list(self.learning.sizes)
        return None if self.validation is not None else list(DEFAULT_SIZES)


def curve_problems(
    spec: Mapping[str, Any] | None,
    estimator_params: Sequence[str],
    path: str = "curves",
    *,
    params_model: type[BaseModel] | None = None,
) -> list[str]:
    """What is wrong with validated `curves:` settings, as "key: message" lines (cheap):
    sizes in (0, 1], at least 2 folds, a `validation.param` that is one of
    `estimator_params` (with a did-you-mean), and, given the model's parameter schema
    `params_model`, `validation.values` that the parameter accepts."""
    from pipeline.hints import did_you_mean

    if spec is None:
        return []
    settings = CurveSettings.model_validate(spec)
    problems = []
    sizes = settings.learning.sizes if settings.learning is not None else []
    if settings.learning is not None and not sizes:
        problems.append(f"{path}.learning.sizes: give at least one size")
    bad = [s for s in sizes if not 0.0 < s <= 1.0]
    if bad:
        problems.append(
            f"{path}.learning.sizes: {bad} are invalid: sizes are fractions of the training "
            "part, in (0, 1]"
        )
    if settings.folds is not None and settings.folds < 2:
        problems.append(f"{path}.folds: {settings.folds} is invalid: use at least 2")
    if settings.validation is not None:
        param = settings.validation.param
        if param not in estimator_params:
            same = [p for p in estimator_params if p.lower() == param.lower()]
            hint = f"; did you mean {same[0]!r}?" if same else did_you_mean(param, estimator_params)
            problems.append(
                f"{path}.validation.param: {param!r} is not a parameter of the model"
                f"{hint} (its parameters: "
                f"{', '.join(sorted(estimator_params))})"
            )
        if not settings.validation.values:
            problems.append(f"{path}.validation.values: give at least one value")
        elif param in estimator_params and params_model is not None:
            problems.extend(_value_problems(params_model, param, settings.validation.values, path))
    return problems


def _value_problems(
    params_model: type[BaseModel], param: str, values: Sequence[Any], path: str
) -> list[str]:
    """A line per value of `values` that the parameter `param` of `params_model` refuses."""
    from pydantic import ValidationError

    problems = []
    for i, value in enumerate(values):
        try:
            params_model.model_validate({param: value})
        except ValidationError as exc:
            errors = [e for e in exc.errors(include_url=False) if e["loc"][:1] == (param,)]
            if errors:
                problems.append(
                    f"{path}.validation.values[{i}]: {value!r} is not a valid {param}: "
                    f"{errors[0]['msg']}"
                )
    return problems


@dataclass(frozen=True)
class Verdict:
    """A diagnosis: `kind` ("high bias" | "high variance" | "fine"), `reason` (the numbers
    it rests on), `next_step` (what to try), and the mean scores it read."""

    kind: VerdictKind
    reason: str
    next_step: str
    train: float
    validation: float
    gap: float

    def to_dict(self) -> dict[str, Any]:
        """The verdict as JSON-ready data."""
        return asdict(self)


def diagnose(
    train_scores: Any,
    validation_scores: Any,
    *,
    min_train_score: float = MIN_TRAIN_SCORE,
    max_gap: float = MAX_GAP,
    rising: float | None = None,
) -> Verdict:
    """The verdict from the training and validation scores of one setting.

    `train_scores` / `validation_scores`: the per-fold scores of the setting read (1-D), or
    a curve's rows (2-D: settings x folds), of which the last row is read (a learning
    curve's largest training set). Scores are in [0, 1], higher is better. Rules:

    - high bias: the mean training score is under `min_train_score` (0.85): with more
      features than documents, a text classifier that has the capacity separates nearly
      all of its training documents (ours reach 0.95-1.0), so one that scores under 0.85
      on the documents it was shown is constrained (too strong a penalty, too few
      features or epochs), and more data will not lift it;
    - high variance: the training score exceeds the validation score by more than
      `max_gap` (0.10): ten points is about three times the fold-to-fold spread of the
      validation accuracy on a few hundred documents, so a gap above it is the model
      fitting its training documents' particulars, not noise in the estimate;
    - both: the larger of the avoidable bias (1 - training score) and the gap names it
      (Ng's rule: work on the bigger error first); the reason gives both.

    `rising`: the validation score's gain over the last step of a learning curve; when
    given, the next step says whether more data still helps.
    """
    train = _last_row(train_scores)
    validation = _last_row(validation_scores)
    t_mean, v_mean = float(np.nanmean(train)), float(np.nanmean(validation))
    t_std, v_std = float(np.nanstd(train)), float(np.nanstd(validation))
    gap = t_mean - v_mean
    numbers = (
        f"training score {t_mean:.3f} ± {t_std:.3f}, validation {v_mean:.3f} ± {v_std:.3f}, "
        f"gap {gap:+.3f}"
    )
    bias = t_mean < min_train_score
    variance = gap > max_gap
    if bias and variance:
        bias = (1.0 - t_mean) >= gap
        variance = not bias
        both = " (the gap is large too, but the training error is larger)" if bias else ""
        both = both or " (the training score is low too, but the gap is larger)"
    else:
        both = ""
    growth = ""
    if rising is not None:
        growth = f"; validation {rising:+.3f} over the last step of the learning curve"
    if bias:
        return Verdict(
            "high bias",
            f"{numbers}: the training score is under {min_train_score:.2f}, so the model "
            f"underfits even the documents it sees{both}{growth}",
            "more capacity / fewer constraints: weaker regularization (larger C, smaller "
            "alpha), more features (n-grams, lower min_df), a bigger network or more epochs; "
            "more data will not help much",
            t_mean,
            v_mean,
            gap,
        )
    if variance:
        still = " (validation is still rising)" if rising is not None else ""
        step = (
            f"more data / more regularization: more labelled documents{still}, or stronger "
            "regularization (smaller C, larger alpha, dropout, weight decay), fewer features "
            "(min_df, max_features)"
            if rising is None or rising > 0.005
            else "more regularization / fewer features: the validation score has stopped "
            "rising with data, so constrain the model (smaller C, larger alpha, dropout, "
            "weight decay, higher min_df)"
        )
        return Verdict(
            "high variance",
            f"{numbers}: the model scores {gap:.3f} higher on its training documents than on "
            f"held-out ones (more than {max_gap:.2f}){both}{growth}",
            step,
            t_mean,
            v_mean,
            gap,
        )
    return Verdict(
        "fine",
        f"{numbers}: training score at least {min_train_score:.2f} and gap at most "
        f"{max_gap:.2f}{growth}",
        "keep the setting; more data may still add a little"
        if rising is not None and rising > 0.005
        else "keep the setting",
        t_mean,
        v_mean,
        gap,
    )


def _last_row(scores: Any) -> np.ndarray:
    array = np.asarray(scores, dtype=float)
    if array.ndim == 2:
        array = array[-1]
    if array.ndim != 1 or not np.isfinite(array).any():
        raise ValueError(f"scores must be per-fold values (1-D) or curve rows (2-D); got {scores}")
    return array


def _number(value: Any) -> float | None:
    """A score rounded for JSON; a failed fit's NaN as None (JSON has no NaN)."""
    return round(float(value), 6) if np.isfinite(value) else None


def _summary(rows: np.ndarray) -> dict[str, Any]:
    """Per-setting mean and std of a (settings x folds) array, NaN fits left out, and the
    per-fold scores (None for a fit that failed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a setting whose every fold failed
        return {
            "mean": [_number(v) for v in np.nanmean(rows, axis=1)],
            "std": [_number(v) for v in np.nanstd(rows, axis=1)],
            "folds": [[_number(v) for v in row] for row in rows],
        }


def learning_curves(
    estimator: Any,
    X: Any,
    y: Sequence[Any],
    *,
    sizes: Sequence[float],
    cv: Sequence[tuple[np.ndarray, np.ndarray]],
    scoring: str = "accuracy",
    seed: int = 0,
    min_train_score: float = MIN_TRAIN_SCORE,
    max_gap: float = MAX_GAP,
) -> dict[str, Any]:
    """Train and validation scores of `estimator` over training-set `sizes` (fractions of
    each fold's training part, shuffled with `seed`), on the folds `cv`, and their verdict.
    The fits run one after another with one BLAS thread each.

    Returns `{"sizes": [documents], "fractions", "train": {"mean", "std", "folds"},
    "validation": {...}, "scoring", "verdict": Verdict.to_dict()}`. A fit that fails
    (e.g. a size too small to hold two classes) scores NaN, is logged and left out.
    """
    from sklearn.exceptions import FitFailedWarning
    from sklearn.model_selection import learning_curve

    with warnings.catch_warnings(), _one_blas_thread():
        warnings.simplefilter("ignore", FitFailedWarning)  # counted by _log_failures
        warnings.filterwarnings("ignore", message=".*non-finite.*")
        n, train, validation = learning_curve(
            estimator,
            X,
            np.asarray(y),
            train_sizes=np.asarray(sizes, dtype=float),
            cv=list(cv),
            scoring=scoring,
            shuffle=True,
            random_state=seed,
            error_score=np.nan,
        )
    _log_failures(validation, "learning curve")
    means = [m for m in _summary(validation)["mean"] if m is not None]
    rising = means[-1] - means[-2] if len(means) > 1 else None
    verdict = diagnose(
        train, validation, min_train_score=min_train_score, max_gap=max_gap, rising=rising
    )
    return {
        "sizes": [int(v) for v in n],
        "fractions": [float(s) for s in sizes],
        "train": _summary(train),
        "validation": _summary(validation),
        "scoring": scoring,
        "verdict": verdict.to_dict(),
    }


def validation_curves(
    estimator: Any,
    X: Any,
    y: Sequence[Any],
    *,
    param: str,
    values: Sequence[Any],
    cv: Sequence[tuple[np.ndarray, np.ndarray]],
    scoring: str = "accuracy",
    min_train_score: float = MIN_TRAIN_SCORE,
    max_gap: float = MAX_GAP,
) -> dict[str, Any]:
    """Train and validation scores of `estimator` with `param` set to each of `values`,
    on the folds `cv`; a verdict per value and for the best one (highest mean validation).

    Returns `{"param", "values", "train", "validation", "scoring", "verdicts": [...],
    "best": {"value", "index"}, "verdict": the best value's}`.
    """
    from sklearn.exceptions import FitFailedWarning
    from sklearn.model_selection import validation_curve

    with warnings.catch_warnings(), _one_blas_thread():
        warnings.simplefilter("ignore", FitFailedWarning)  # counted by _log_failures
        warnings.filterwarnings("ignore", message=".*non-finite.*")
        train, validation = validation_curve(
            estimator,
            X,
            np.asarray(y),
            param_name=param,
            param_range=list(values),
            cv=list(cv),
            scoring=scoring,
            error_score=np.nan,
        )
    _log_failures(validation, "validation curve")
    verdicts = [
        diagnose(t, v, min_train_score=min_train_score, max_gap=max_gap).to_dict()
        if np.isfinite(v).any()
        else None
        for t, v in zip(train, validation, strict=True)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(validation, axis=1)
    best = int(np.nanargmax(means))
    return {
        "param": param,
        "values": list(values),
        "train": _summary(train),
        "validation": _summary(validation),
        "scoring": scoring,
        "verdicts": verdicts,
        "best": {"value": values[best], "index": best},
        "verdict": verdicts[best],
    }


def _one_blas_thread() -> Any:
    """The fits run one after another, each with one BLAS thread: sparse linear models gain
    nothing from more, and on a busy machine idle OpenBLAS threads slowed lbfgs 25-fold."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _log_failures(scores: np.ndarray, what: str) -> None:
    failed = int(np.isnan(scores).sum())
    if failed:
        logger.warning(
            "%s: %d of %d fits failed (scored NaN, left out of the means); a training size "
            "too small to hold every class is the usual cause",
            what,
            failed,
            scores.size,
        )


def curve_folds(
    labels: Sequence[str],
    settings: CurveSettings,
    cv: Any | None,
    seed: int,
    *,
    where: str,
    dates: Sequence[Any] | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The folds of a task's curves over its training part's `labels`: those of the task's
    `cv:` (a `CrossValidation`; `settings.folds` of them when given), else stratified
    `settings.folds` (3) seeded with `seed`. A training part that cannot be folded is a
    `ConfigError` naming `{where}.curves`."""
    from components.ml.splits import CrossValidation, SplitError, cross_validation_folds
    from pipeline.config import ConfigError

    base = cv if cv is not None else CrossValidation(folds=3, seed=seed)
    folds = base.model_copy(update={"folds": settings.folds or base.folds})
    try:
        return cross_validation_folds(list(labels), folds, dates=dates)
    except SplitError as exc:
        raise ConfigError(f"{where}.curves: the training part cannot be folded: {exc}") from None


def run_curves(
    estimator: Any,
    X: Any,
    y: Sequence[Any],
    settings: CurveSettings,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    seed: int,
    param_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The curves `settings` asks for, of a scikit-learn compatible `estimator` on (X, y)
    over `folds`: `{"folds", "documents", "learning", "validation"}` (each curve present
    when asked for). `param_names` maps a task-level `validation.param` to the estimator's
    own parameter (e.g. `C` -> `model__C` of a pipeline); the result names the task's."""
    thresholds = {"min_train_score": settings.min_train_score, "max_gap": settings.max_gap}
    result: dict[str, Any] = {"folds": len(folds), "documents": len(y)}
    sizes = settings.learning_sizes()
    if sizes is not None:
        result["learning"] = learning_curves(
            estimator, X, y, sizes=sizes, cv=folds, scoring=settings.scoring, seed=seed,
            **thresholds,
        )  # fmt: skip
        logger.info("learning curve: %s", result["learning"]["verdict"]["kind"])
    if settings.validation is not None:
        param = settings.validation.param
        result["validation"] = validation_curves(
            estimator, X, y, param=(param_names or {}).get(param, param),
            values=settings.validation.values, cv=folds, scoring=settings.scoring, **thresholds,
        )  # fmt: skip
        result["validation"]["param"] = param
        logger.info("validation curve: best %s", result["validation"]["best"])
    return result
