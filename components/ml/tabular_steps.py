"""Feature steps scikit-learn does not have: per-column outlier treatment, date parts, and
the column selector that resolves `auto` column lists from a frame's dtypes; and the
classifiers and imbalanced-learn samplers the tabular task chains after the features.

Each is a plain scikit-learn transformer (`fit`/`transform`/`get_feature_names_out`,
parameters stored as given, learned state ending in `_`), so it sits in a `Pipeline`
inside a `ColumnTransformer` and is saved with skops like the library's own steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .date_parts import DATE_PARTS

__all__ = [
    "DATE_PARTS",
    "ColumnsOfKind",
    "DateParts",
    "OutlierTreatment",
    "make_classifier",
    "make_sampler",
]

# An object column whose values average more characters than this, mostly with spaces,
# is free text: `auto` leaves it out of the categories (one-hot over unique texts is noise).
TEXT_MEAN_CHARS = 40


class ColumnsOfKind:
    """The columns of a frame that hold one kind of feature, for `ColumnTransformer`'s `auto`.

    `kind`: numbers (numeric and bool dtypes), categories (strings, categoricals; free
    text left out), dates (datetime dtypes). `exclude` names columns never taken (those
    listed under another kind, or dropped). Called with the frame at fit time; the
    `ColumnTransformer` keeps the list it returned.
    """

    def __init__(self, kind: str, exclude: Sequence[str] = ()):
        self.kind = kind
        self.exclude = list(exclude)

    def __call__(self, frame: pd.DataFrame) -> list[str]:
        """The names of `frame`'s columns of this kind, in frame order."""
        return [
            str(name)
            for name in frame.columns
            if name not in self.exclude and column_kind(frame[name]) == self.kind
        ]

    def __repr__(self) -> str:
        return f"ColumnsOfKind({self.kind!r}, exclude={self.exclude!r})"


def column_kind(column: pd.Series) -> str | None:
    """numbers, categories or dates by the column's dtype; None for free text."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return "numbers"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "dates"
    values = column.dropna().astype(str)
    if len(values) and values.str.len().mean() > TEXT_MEAN_CHARS:
        if values.str.contains(" ").mean() > 0.5:
            return None
    return "categories"


class OutlierTreatment(TransformerMixin, BaseEstimator):
    """Detect outliers per numeric column by z-score or IQR and clip or flag them.

    scikit-learn has outlier *detectors* over whole rows (IsolationForest, LocalOutlierFactor)
    that drop samples, which a transformer inside a pipeline cannot do, but no per-column
    treatment; hence this small step. `method`: zscore (outside mean ± threshold·std,
    threshold 3 by default) or iqr (outside Q1 − threshold·IQR .. Q3 + threshold·IQR,
    1.5 by default). `treatment`: clip (values limited to the bounds) or flag (values
    kept, one 0/1 column `NAME_outlier` added per input column; `keep_values=False`:
    the flags alone, for a branch beside the values). Fitted: `lower_`,
    `upper_`, `n_outliers_` (training values outside the bounds, per column).
    """

    def __init__(
        self,
        *,
        method: str = "zscore",
        threshold: float | None = None,
        treatment: str = "clip",
        keep_values: bool = True,
    ):
        self.method = method
        self.threshold = threshold
        self.treatment = treatment
        self.keep_values = keep_values

    def fit(self, X: Any, y: Any = None) -> OutlierTreatment:
        """Learn each column's bounds from `X` and count the values outside them."""
        values = _validated(self, X, reset=True)
        if self.method == "zscore":
            threshold = 3.0 if self.threshold is None else self.threshold
            centre = np.nanmean(values, axis=0)
            spread = np.nanstd(values, axis=0)
            self.lower_ = centre - threshold * spread
            self.upper_ = centre + threshold * spread
        elif self.method == "iqr":
            threshold = 1.5 if self.threshold is None else self.threshold
            q1, q3 = np.nanpercentile(values, [25, 75], axis=0)
            self.lower_ = q1 - threshold * (q3 - q1)
            self.upper_ = q3 + threshold * (q3 - q1)
        else:
            raise ValueError(f"method must be zscore or iqr, not {self.method!r}")
        if self.treatment not in ("clip", "flag"):
            raise ValueError(f"treatment must be clip or flag, not {self.treatment!r}")
        self.n_outliers_ = self._outside(values).sum(axis=0)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """`X` with outliers clipped to the bounds, or with one 0/1 flag column per column."""
        check_is_fitted(self, "lower_")
        values = _validated(self, X, reset=False)
        if self.treatment == "clip":
            return np.clip(values, self.lower_, self.upper_)
        flags = self._outside(values).astype(float)
        return np.hstack([values, flags]) if self.keep_values else flags

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The input names, plus `NAME_outlier` for each flag column."""
        check_is_fitted(self, "lower_")
        names = _input_names(self, input_features)
        if self.treatment == "flag":
            flags = [f"{name}_outlier" for name in names]
            names = [*names, *flags] if self.keep_values else flags
        return np.asarray(names, dtype=object)

    def _outside(self, values: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return (values < self.lower_) | (values > self.upper_)


class DateParts(TransformerMixin, BaseEstimator):
    """Date columns (datetimes or ISO 8601 strings) as numeric parts: year, month, day, ...

    scikit-learn has no date step. `parts` from DATE_PARTS (`dayofweek`: Monday 0;
    `weekofyear`: the ISO week; `is_weekend`: 0/1). Output columns `NAME_PART`, one per
    input column and part, NaN where the date is missing or unreadable (impute after).
    """

    def __init__(self, *, parts: Sequence[str] = ("year", "month", "day", "dayofweek")):
        self.parts = parts

    def fit(self, X: Any, y: Any = None) -> DateParts:
        """Remember the input columns; check the parts."""
        unknown = [p for p in self.parts if p not in DATE_PARTS]
        if unknown:
            raise ValueError(f"unknown date parts {unknown}; choose from {', '.join(DATE_PARTS)}")
        frame = _as_frame(X)
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = frame.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """One float column per input column and part (NaN for a missing date)."""
        check_is_fitted(self, "n_features_in_")
        frame = _as_frame(X)
        if frame.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {frame.shape[1]} columns, DateParts was fitted on {self.n_features_in_}"
            )
        out = []
        for i in range(frame.shape[1]):
            dates = pd.to_datetime(frame.iloc[:, i], errors="coerce", format="ISO8601")
            for part in self.parts:
                out.append(_date_part(dates, part))
        return np.column_stack(out) if out else np.empty((len(frame), 0))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """`NAME_PART` for every input column and part."""
        check_is_fitted(self, "n_features_in_")
        names = _input_names(self, input_features)
        return np.asarray([f"{n}_{p}" for n in names for p in self.parts], dtype=object)


def _date_part(dates: pd.Series, part: str) -> np.ndarray:
    """One part of a datetime column as floats (NaN where the date is missing)."""
    if part == "weekofyear":
        values = dates.dt.isocalendar().week.astype("Float64")
    elif part == "is_weekend":
        values = (dates.dt.day_of_week >= 5).astype("Float64").mask(dates.isna())
    else:
        attribute = {"dayofweek": "day_of_week", "dayofyear": "day_of_year"}.get(part, part)
        values = getattr(dates.dt, attribute).astype("Float64")
    return values.to_numpy(dtype=float, na_value=np.nan)


def _as_frame(X: Any) -> pd.DataFrame:
    return X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=object))


def _validated(estimator: BaseEstimator, X: Any, *, reset: bool) -> np.ndarray:
    """`X` as a float array, with `n_features_in_`/`feature_names_in_` set or checked."""
    from sklearn.utils.validation import validate_data

    return validate_data(estimator, X, reset=reset, dtype=float, ensure_all_finite="allow-nan")


def _input_names(estimator: BaseEstimator, input_features: Any) -> list[str]:
    from sklearn.utils.validation import _check_feature_names_in

    return [str(n) for n in _check_feature_names_in(estimator, input_features)]


def make_classifier(
    estimator: str,
    *,
    balanced: bool,
    seed: int,
    C: float = 1.0,
    n_estimators: int = 200,
    max_depth: int | None = None,
    learning_rate: float = 0.1,
) -> Any:
    """An unfitted scikit-learn classifier: logreg | random-forest | gradient-boosting
    (`HistGradientBoostingClassifier`, which takes class weights), `balanced` class weights."""
    weight = "balanced" if balanced else None
    if estimator == "logreg":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=C, class_weight=weight, max_iter=2000, random_state=seed)
    if estimator == "random-forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(
            n_estimators=n_estimators,
            max_depth=max_depth,
            class_weight=weight,
            random_state=seed,
            n_jobs=1,
        )
    if estimator == "gradient-boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            max_iter=n_estimators,
            max_depth=max_depth,
            learning_rate=learning_rate,
            class_weight=weight,
            random_state=seed,
        )
    raise ValueError(
        f"estimator must be logreg, random-forest or gradient-boosting, not {estimator!r}"
    )


def make_sampler(imbalance: str, seed: int) -> Any:
    """imbalanced-learn's sampler for `imbalance` (oversample, undersample, smote), seeded;
    None for none and class_weight (no resampling)."""
    if imbalance == "oversample":
        from imblearn.over_sampling import RandomOverSampler

        return RandomOverSampler(random_state=seed)
    if imbalance == "undersample":
        from imblearn.under_sampling import RandomUnderSampler

        return RandomUnderSampler(random_state=seed)
    if imbalance == "smote":
        from imblearn.over_sampling import SMOTE

        return SMOTE(random_state=seed)
    return None
