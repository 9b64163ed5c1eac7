"""Self-training of the classification tasks on AG News with few labels: the unlabelled
pool, scikit-learn's `SelfTrainingClassifier` for the baselines, our loop for the torch
networks, and what the task writes.

The setting (naive Bayes with alpha 0.1, threshold 0.8) was chosen in a dev run on rows
1900-3800 of the AG News file; these tests use rows 0-1900 only.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from components.models.classify import LogisticRegressionTask, MlpTask, NaiveBayesTask
from pipeline import Pipeline
from pipeline.config import ConfigError
from pipeline.document import Document

from .conftest import STAGES


def _docs(rows: list[dict[str, str]], labelled: int) -> list[Document]:
    """AG News rows as tokenized Documents; only every document up to `labelled` keeps
    its label (the others have none, or an empty one every 7th: both count as unlabelled)."""
    docs = []
    for i, row in enumerate(rows):
        meta = {"label": row["label"]} if i < labelled else ({"label": ""} if i % 7 == 0 else {})
        text = f"{row['title']}. {row['description']}"
        docs.append(Document(id=f"ag{i}", text=text, meta=meta))
    return list(Pipeline.from_config({"stages": STAGES}).pipe(docs))


@pytest.fixture(scope="module")
def few_labels(ag_rows) -> list[Document]:
    """1,900 AG News documents in shuffled-by-source order: 500 labelled (a 90% test split
    leaves 50 to train on), 1,400 unlabelled."""
    return _docs(ag_rows[:1900], labelled=500)


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_self_training_beats_labelled_only_with_few_labels(few_labels, tmp_path):
    folder = tmp_path / "tasks" / "topic"
    task = NaiveBayesTask(
        alpha=0.1,
        split={"test": 0.9, "validation": 0.0},
        self_training={"threshold": 0.8, "max_iter": 10},
    )
    task.fit(few_labels, folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    record = metrics["self_training"]
    assert record["labelled"] == 50 and record["unlabelled"] == 1400
    assert record["method"] == "scikit-learn SelfTrainingClassifier"
    assert 0 < record["pseudo_labelled"] <= 1400
    assert sum(record["added_per_iteration"]) == record["pseudo_labelled"]
    before, after = record["labelled_only"], record["self_trained"]
    assert before["documents"] == after["documents"] == 450  # the same test split
    # four classes, 50 labels: self-training must add at least 5 points of accuracy
    assert after["accuracy"] > before["accuracy"] + 0.05
    assert after["f1_macro"] > before["f1_macro"]
    assert metrics["test"]["accuracy"] == pytest.approx(after["accuracy"])  # saved = self-trained

    predictions = _lines(folder / "predictions.jsonl")
    assert [p["id"] for p in predictions] == [d.id for d in few_labels]  # corpus order
    assert Counter(p["split"] for p in predictions) == {
        "test": 450,
        "train": 50,
        "unlabelled": 1400,
    }
    assert all(p["true"] is None for p in predictions if p["split"] == "unlabelled")

    report = json.loads((folder / "report.json").read_text())
    tables = [b for b in report["blocks"] if b["kind"] == "table"]
    assert tables and tables[0]["columns"][1:3] == ["labelled only", "self-trained"]

    task.save(folder)
    loaded = NaiveBayesTask.load(folder)
    test_docs = [d for d, p in zip(few_labels, predictions, strict=True) if p["split"] == "test"]
    assert loaded.evaluate(test_docs)["accuracy"] == pytest.approx(after["accuracy"])


def test_nothing_pseudo_labelled_leaves_the_labelled_only_model(few_labels, tmp_path):
    # logistic regression on 50 documents is never 99% sure of a story's class
    folder = tmp_path / "tasks" / "topic"
    LogisticRegressionTask(
        split={"test": 0.9, "validation": 0.0}, self_training={"threshold": 0.99}
    ).fit(few_labels, folder)
    record = json.loads((folder / "metrics.json").read_text())["self_training"]
    assert record["pseudo_labelled"] == 0 and record["stopped"] == "no_change"
    assert record["vocabulary"] == "labelled"
    assert record["self_trained"] == record["labelled_only"]


def test_linear_svm_self_trains_in_its_calibrated_form(few_labels, tmp_path):
    from components.models.classify import LinearSvmTask

    folder = tmp_path / "tasks" / "svm"
    LinearSvmTask(
        split={"test": 0.9, "validation": 0.0}, self_training={"threshold": 0.6, "max_iter": 3}
    ).fit(few_labels[:900], folder)
    record = json.loads((folder / "metrics.json").read_text())["self_training"]
    assert record["iterations"] <= 3 and record["unlabelled"] == 400
    assert record["self_trained"]["documents"] == record["labelled_only"]["documents"] == 450


def test_torch_loop_pseudo_labels_k_best_per_round(few_labels, tmp_path, torch_one_thread):
    folder = tmp_path / "tasks" / "mlp"
    MlpTask(
        epochs=2,
        hidden=(32,),
        split={"test": 0.5, "validation": 0.1},
        self_training={"criterion": "k_best", "k_best": 40, "max_iter": 2},
    ).fit(few_labels[:800], folder)
    record = json.loads((folder / "metrics.json").read_text())["self_training"]
    assert record["method"].startswith("our loop")
    assert record["unlabelled"] == 300
    assert record["added_per_iteration"] == [40, 40] and record["pseudo_labelled"] == 80
    assert record["iterations"] == 2 and record["stopped"] == "max_iter"
    assert record["labelled_only"]["documents"] == record["self_trained"]["documents"] == 250


def test_unlabelled_documents_stay_an_error_without_self_training(few_labels, tmp_path):
    with pytest.raises(ConfigError, match=r"tasks\.topic\.label: 1400 of 1900 documents lack"):
        LogisticRegressionTask().fit(few_labels, tmp_path / "tasks" / "topic")


def test_self_training_settings_are_checked():
    problems = LogisticRegressionTask.check_params(
        {**_defaults(LogisticRegressionTask), "self_training": {"threshold": 1.5, "max_iter": 0}}
    )
    assert any(p.startswith("self_training.threshold: 1.5 is invalid") for p in problems)
    assert any(p.startswith("self_training.max_iter: 0 is invalid") for p in problems)


def _defaults(cls) -> dict:
    from pipeline.config import component_model

    return component_model("task", cls.model).model_validate({}).model_dump(mode="json")


@pytest.mark.slow  # a whole run: reader, stages, task, report (~10 s)
def test_a_run_from_config_self_trains_cross_validates_and_draws_curves(
    tmp_path, ag_rows, run_tasks
):
    from .conftest import AG_CORPUS, write_ag_csv

    rows = [
        {**row, "label": row["label"] if i < 150 else ""} for i, row in enumerate(ag_rows[:450])
    ]
    path = write_ag_csv(tmp_path / "partly_labelled.csv", rows)
    task = {
        "model": "naive-bayes",
        "alpha": 0.1,
        "split": {"test": 0.3, "validation": 0.0},
        "cv": {"folds": 2},
        "self_training": {"threshold": 0.8, "max_iter": 3},
        "curves": {"learning": {"sizes": [0.5, 1.0]}, "folds": 2},
    }
    result = run_tasks(tmp_path / "run", {**AG_CORPUS, "path": str(path)}, {"topic": task})
    folder = result.run_dir / "tasks" / "topic"
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["self_training"]["unlabelled"] == 300
    assert metrics["self_training"]["labelled"] == 105 and metrics["split"]["sizes"]["test"] == 45
    assert metrics["cv"]["folds"] == 2 and len(metrics["cv"]["per_fold"]) == 2
    assert metrics["curves"]["learning"]["sizes"][-1] > metrics["curves"]["learning"]["sizes"][0]
    assert (folder / "learning_curve_by_size.png").is_file()
    assert Counter(p["split"] for p in _lines(folder / "predictions.jsonl"))["unlabelled"] == 300
