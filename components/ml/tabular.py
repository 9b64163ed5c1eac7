"""Tabular features from config: documents' `meta["row"]` to a typed frame to a feature matrix.

`rows_frame` rebuilds a pandas frame from the rows the `table` reader put in
`meta["row"]` (numbers, bools, ISO dates and categories get their dtypes back).
`build_features` turns a task's `features:` setting into an unfitted scikit-learn
`ColumnTransformer` of `Pipeline`s: imputation, outlier treatment, scaling and polynomial
terms for numbers; imputation and one-hot/ordinal encoding for categories; date parts
for dates. `features_problems` checks that setting without building anything.

```yaml
features:
  numbers: auto                 # or a list of columns; auto: numeric/bool columns
  categories: auto              # auto: string columns (free text left out)
  dates: auto                   # auto: date columns
  drop: [customer_id]           # never taken by auto
  impute: {numbers: median, categories: most_frequent}   # mean|median|most_frequent|constant
  outliers: {method: iqr, threshold: 1.5, treatment: clip}   # zscore|iqr; clip|flag; or none
  scale: standard               # standard | minmax | robust | none
  encode: onehot                # onehot (unknown categories ignored) | ordinal
  polynomial: {degree: 2, interaction_only: false}   # or none
  date_parts: [year, month, day, dayofweek]
```
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pipeline.config import ConfigError
from pipeline.document import Document

from .date_parts import DATE_PARTS

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.compose import ColumnTransformer

__all__ = [
    "FEATURE_KEYS",
    "build_features",
    "features_problems",
    "features_summary",
    "frame_types",
    "resolved_spec",
    "rows_frame",
]

FEATURE_KEYS: tuple[str, ...] = (
    "numbers",
    "categories",
    "dates",
    "drop",
    "impute",
    "outliers",
    "scale",
    "encode",
    "polynomial",
    "date_parts",
)
KINDS: tuple[str, ...] = ("numbers", "categories", "dates")
NUMBER_IMPUTE = ("mean", "median", "most_frequent", "constant")
CATEGORY_IMPUTE = ("most_frequent", "constant")
SCALERS = ("standard", "minmax", "robust", "none")
ENCODERS = ("onehot", "ordinal")
OUTLIER_METHODS = ("zscore", "iqr")
OUTLIER_TREATMENTS = ("clip", "flag")
DEFAULTS: dict[str, Any] = {
    "numbers": "auto",
    "categories": "auto",
    "dates": "auto",
    "drop": [],
    "impute": {"numbers": "median", "categories": "most_frequent", "fill_value": None},
    "outliers": None,
    "scale": "standard",
    "encode": "onehot",
    "polynomial": None,
    "date_parts": ["year", "month", "day", "dayofweek"],
}
ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)


def rows_frame(
    docs: Iterable[Document | Mapping[str, Any]],
    columns: Iterable[str] | None = None,
    *,
    types: Mapping[str, str] | None = None,
) -> tuple[list[str], pd.DataFrame]:
    """The ids and a typed frame of the rows in `meta["row"]` (one frame row per document).

    A plain mapping counts as a row (its id: its 0-based index). `columns` keeps those
    columns (missing ones as missing values); dtypes come back from the JSON values:
    numbers float64 (int64 when whole and complete), bools pandas `boolean`, ISO 8601
    strings datetime64, other strings object; missing values NaN/NaT/NA. `types`
    ({column: number|category|date|bool|text}) overrides what the values suggest.
    """
    import pandas as pd

    ids: list[str] = []
    rows: list[Mapping[str, Any]] = []
    for i, item in enumerate(docs):
        if isinstance(item, Document):
            ids.append(item.id)
            rows.append(item.meta.get("row") or {})
        else:
            ids.append(str(i))
            rows.append(item)
    names = (
        list(columns) if columns is not None else list(dict.fromkeys(k for r in rows for k in r))
    )
    data = {
        name: _typed_column([r.get(name) for r in rows], (types or {}).get(name)) for name in names
    }
    return ids, pd.DataFrame(data, index=pd.RangeIndex(len(rows)), columns=names)


def frame_types(frame: pd.DataFrame) -> dict[str, str]:
    """Each column's type (number, bool, date, category) by its dtype: the `types` that make
    `rows_frame` rebuild the same dtypes from other rows (a model's rows at predict time)."""
    import pandas as pd

    kinds = {}
    for name in frame.columns:
        dtype = frame[name].dtype
        if pd.api.types.is_bool_dtype(dtype):
            kinds[str(name)] = "bool"
        elif pd.api.types.is_numeric_dtype(dtype):
            kinds[str(name)] = "number"
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            kinds[str(name)] = "date"
        else:
            kinds[str(name)] = "category"
    return kinds


def _typed_column(values: list[Any], kind: str | None) -> Any:
    """One column's JSON values as a pandas array of the type they (or `kind`) say."""
    import numpy as np
    import pandas as pd

    present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if kind is None:
        if present and all(isinstance(v, bool) for v in present):
            kind = "bool"
        elif present and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in present
        ):
            kind = "number"
        elif present and all(isinstance(v, str) and ISO_DATE.match(v) for v in present):
            kind = "date"
        else:
            kind = "category"
    if kind == "bool":
        return pd.array([None if v is None else bool(v) for v in values], dtype="boolean")
    if kind == "number":
        numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        if len(present) == len(values) and all(isinstance(v, int) for v in present):
            return numbers.astype("int64").to_numpy()
        return numbers.astype(float).to_numpy()
    if kind == "date":
        return pd.to_datetime(
            pd.Series(values, dtype=object), errors="coerce", format="ISO8601"
        ).to_numpy()
    return np.array([np.nan if v is None else str(v) for v in values], dtype=object)


def resolved_spec(spec: Mapping[str, Any] | str | None) -> dict[str, Any]:
    """The `features:` setting with every default filled in (`auto` or None: all defaults).

    Shorthands: `impute: mean` (the numbers' strategy), `polynomial: 2` (the degree),
    `outliers: iqr` (the method, clipped), `outliers: none`, `scale: none`.
    """
    if spec is None or spec == "auto":
        spec = {}
    if not isinstance(spec, Mapping):
        raise TypeError(f"features must be a mapping or 'auto', not {spec!r}")
    out = {key: spec.get(key, DEFAULTS[key]) for key in FEATURE_KEYS}
    impute = out["impute"]
    if isinstance(impute, str):
        impute = {"numbers": impute}
    out["impute"] = {**DEFAULTS["impute"], **(impute or {})}
    outliers = out["outliers"]
    if outliers in ("none", False):
        outliers = None
    if isinstance(outliers, str):
        outliers = {"method": outliers}
    if outliers is not None:
        outliers = {"method": "zscore", "threshold": None, "treatment": "clip", **outliers}
    out["outliers"] = outliers
    polynomial = out["polynomial"]
    if polynomial in ("none", False):
        polynomial = None
    if isinstance(polynomial, int) and not isinstance(polynomial, bool):
        polynomial = {"degree": polynomial}
    if polynomial is not None:
        polynomial = {"degree": 2, "interaction_only": False, **polynomial}
    out["polynomial"] = polynomial
    return out


def features_problems(spec: Any, path: str) -> list[str]:
    """What is wrong with a `features:` setting, as "PATH.KEY: message" lines (none: empty).

    Cheap: builds nothing and imports no scikit-learn; `path` is where the setting sits
    (`tasks.churn.features`).
    """
    if spec is None or spec == "auto":
        return []
    if not isinstance(spec, Mapping):
        return [
            f"{path}: {spec!r} is invalid: write auto or a mapping of {', '.join(FEATURE_KEYS)}"
        ]
    problems = [
        f"{path}.{key}: unknown key; the keys are {', '.join(FEATURE_KEYS)}"
        for key in spec
        if key not in FEATURE_KEYS
    ]
    if problems:
        return problems
    try:
        s = resolved_spec(spec)
    except TypeError as exc:
        return [f"{path}: {exc}"]
    listed: dict[str, str] = {}
    for kind in (*KINDS, "drop"):
        value = s[kind]
        if kind != "drop" and value == "auto":
            continue
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            allowed = "a list of column names" + ("" if kind == "drop" else " or auto")
            problems.append(f"{path}.{kind}: {value!r} is invalid: write {allowed}")
            continue
        for column in value:
            if column in listed:
                problems.append(f"{path}.{kind}: column {column!r} is also under {listed[column]}")
            listed[column] = kind
    problems += _choice(s["impute"], "numbers", NUMBER_IMPUTE, f"{path}.impute")
    problems += _choice(s["impute"], "categories", CATEGORY_IMPUTE, f"{path}.impute")
    unknown = set(s["impute"]) - {"numbers", "categories", "fill_value"}
    if unknown:
        problems.append(
            f"{path}.impute: unknown keys {sorted(unknown)}; use numbers, categories, fill_value"
        )
    problems += _choice(s, "scale", SCALERS, path)
    problems += _choice(s, "encode", ENCODERS, path)
    if s["outliers"] is not None:
        o = s["outliers"]
        problems += _choice(o, "method", OUTLIER_METHODS, f"{path}.outliers")
        problems += _choice(o, "treatment", OUTLIER_TREATMENTS, f"{path}.outliers")
        if o["threshold"] is not None and not (_is_number(o["threshold"]) and o["threshold"] > 0):
            problems.append(
                f"{path}.outliers.threshold: {o['threshold']!r} is invalid: a number > 0"
            )
        if set(o) - {"method", "threshold", "treatment"}:
            problems.append(f"{path}.outliers: the keys are method, threshold, treatment")
    if s["polynomial"] is not None:
        p = s["polynomial"]
        degree = p.get("degree")
        if not (isinstance(degree, int) and not isinstance(degree, bool) and 1 <= degree <= 5):
            problems.append(f"{path}.polynomial.degree: {degree!r} is invalid: an integer 1-5")
        if not isinstance(p.get("interaction_only"), bool):
            problems.append(f"{path}.polynomial.interaction_only: write true or false")
        if set(p) - {"degree", "interaction_only"}:
            problems.append(f"{path}.polynomial: the keys are degree, interaction_only")
    parts = s["date_parts"]
    if not isinstance(parts, list) or not parts or any(p not in DATE_PARTS for p in parts):
        problems.append(
            f"{path}.date_parts: {parts!r} is invalid: a list from {', '.join(DATE_PARTS)}"
        )
    return problems


def build_features(spec: Mapping[str, Any] | str | None, *, where: str) -> ColumnTransformer:
    """An unfitted `ColumnTransformer` for a `features:` setting (see the module docstring).

    Numbers: SimpleImputer -> outliers -> scaler -> PolynomialFeatures; categories:
    SimpleImputer -> OneHotEncoder(handle_unknown='ignore') or OrdinalEncoder (unknown: -1);
    dates: DateParts -> SimpleImputer(median) -> scaler. Output is dense, named by
    `get_feature_names_out()` (`tenure`, `contract_Two year`, `joined_month`). Raises
    `ConfigError` naming `where.KEY` when the setting is wrong.
    """
    problems = features_problems(spec, where)
    if problems:
        raise ConfigError("; ".join(problems), problems=problems)
    from sklearn.compose import ColumnTransformer

    from .tabular_steps import ColumnsOfKind

    s = resolved_spec(spec)
    listed = [c for kind in KINDS if s[kind] != "auto" for c in s[kind]] + list(s["drop"])
    steps = {"numbers": _number_steps(s), "categories": _category_steps(s), "dates": _date_steps(s)}
    transformers = []
    for kind in KINDS:
        columns = ColumnsOfKind(kind, exclude=listed) if s[kind] == "auto" else list(s[kind])
        transformers.append((kind, steps[kind], columns))
        if kind == "numbers" and s["outliers"] and s["outliers"]["treatment"] == "flag":
            # flags in their own branch, so that scaling and polynomial terms skip them
            transformers.append(("outlier_flags", _flag_steps(s), columns))
    return ColumnTransformer(
        transformers, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=False
    )


def _number_steps(s: Mapping[str, Any]) -> Any:
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import PolynomialFeatures

    from .tabular_steps import OutlierTreatment

    impute = s["impute"]
    fill = impute["fill_value"] if impute["fill_value"] is not None else 0
    steps: list[tuple[str, Any]] = [
        ("impute", SimpleImputer(strategy=impute["numbers"], fill_value=fill))
    ]
    if s["outliers"] is not None and s["outliers"]["treatment"] == "clip":
        steps.append(("outliers", OutlierTreatment(**s["outliers"])))
    scaler = _scaler(s["scale"])
    if scaler is not None:
        steps.append(("scale", scaler))
    if s["polynomial"] is not None:
        p = s["polynomial"]
        poly = PolynomialFeatures(
            degree=p["degree"], interaction_only=p["interaction_only"], include_bias=False
        )
        steps.append(("polynomial", poly))
    return Pipeline(steps)


def _flag_steps(s: Mapping[str, Any]) -> Any:
    from sklearn.pipeline import Pipeline

    from .tabular_steps import OutlierTreatment

    imputer = _number_steps({**s, "outliers": None, "scale": "none", "polynomial": None})
    flags = OutlierTreatment(**s["outliers"], keep_values=False)
    return Pipeline([("impute", imputer.named_steps["impute"]), ("outliers", flags)])


def _category_steps(s: Mapping[str, Any]) -> Any:
    import numpy as np
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    impute = s["impute"]
    fill = impute["fill_value"] if impute["fill_value"] is not None else "missing"
    encoder: Any
    if s["encode"] == "onehot":
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    else:
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float64
        )
    imputer = SimpleImputer(strategy=impute["categories"], fill_value=str(fill))
    return Pipeline([("impute", imputer), ("encode", encoder)])


def _date_steps(s: Mapping[str, Any]) -> Any:
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline

    from .tabular_steps import DateParts

    steps: list[tuple[str, Any]] = [
        ("parts", DateParts(parts=list(s["date_parts"]))),
        ("impute", SimpleImputer(strategy="median")),
    ]
    scaler = _scaler(s["scale"])
    if scaler is not None:
        steps.append(("scale", scaler))
    return Pipeline(steps)


def _scaler(name: str) -> Any:
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    return {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}.get(
        name, lambda: None
    )()


def features_summary(fitted: ColumnTransformer) -> dict[str, Any]:
    """What a fitted `build_features` transformer did: columns per kind, outliers found, features.

    `{"columns": {kind: [...]}, "outliers": {column: training values outside the bounds},
    "features": number of output columns}`, for metrics.json and the report.
    """
    columns: dict[str, list[str]] = {}
    outliers: dict[str, int] = {}
    for kind, pipeline, selected in fitted.transformers_:
        if kind == "remainder" or pipeline == "drop":
            continue
        selected = [str(c) for c in selected]
        if kind in KINDS:
            columns[kind] = selected
        step = getattr(pipeline, "named_steps", {}).get("outliers")
        if step is not None and hasattr(step, "n_outliers_"):
            names = pipeline.named_steps["impute"].get_feature_names_out(selected)
            outliers.update({str(n): int(k) for n, k in zip(names, step.n_outliers_, strict=True)})
    return {
        "columns": columns,
        "outliers": outliers,
        "features": len(fitted.get_feature_names_out()),
    }


def _choice(values: Mapping[str, Any], key: str, allowed: tuple[str, ...], path: str) -> list[str]:
    if values.get(key) in allowed:
        return []
    return [f"{path}.{key}: {values.get(key)!r} is invalid: choose one of {', '.join(allowed)}"]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
