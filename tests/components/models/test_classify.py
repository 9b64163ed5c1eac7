"""The classification tasks through real runs: outputs, cross-validation, an external test
corpus, time-ordered folds, refused data, and the engine's reuse of an unchanged fit."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import orjson
import pytest

from components.models.classify import LogisticRegressionTask
from pipeline.config import ConfigError
from pipeline.store import read_documents

from .conftest import AG_CORPUS, run_config, write_ag_csv


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_logreg_on_ag_news_writes_metrics_predictions_card_and_plot(ag_run):
    folder = ag_run.run_dir / "tasks" / "category"
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["model"] == "logreg"
    assert metrics["split"]["sizes"] == {"train": 560, "validation": 80, "test": 160}
    assert metrics["test"]["accuracy"] > 0.65  # four classes: chance is 0.25 (measured 0.78)
    assert metrics["test"]["classes"] == ["1", "2", "3", "4"]
    assert sum(map(sum, metrics["test"]["confusion_matrix"])) == 160
    assert metrics["validation"]["documents"] == 80 and metrics["history"] == []

    predictions = _lines(folder / "predictions.jsonl")
    docs = list(read_documents(ag_run.run_dir))
    assert [p["id"] for p in predictions] == [d.id for d in docs]
    assert [p["true"] for p in predictions] == [d.meta["label"] for d in docs]
    assert Counter(p["split"] for p in predictions) == {"train": 560, "validation": 80, "test": 160}
    for p in predictions[:50]:
        assert sum(p["probabilities"].values()) == pytest.approx(1.0)
        assert p["label"] == max(p["probabilities"], key=p["probabilities"].get)
    test = [p for p in predictions if p["split"] == "test"]
    accuracy = np.mean([p["label"] == p["true"] for p in test])
    assert accuracy == pytest.approx(metrics["test"]["accuracy"])

    card = json.loads((folder / "card.json").read_text())
    assert card["data"]["documents"] == 800 and card["data"]["corpus"]["reader"] == "csv"
    assert card["data"]["class_counts"] == dict(
        sorted(Counter(d.meta["label"] for d in docs).items())
    )
    assert card["versions"]["scikit-learn"] and card["seed"] == 1
    assert card["metrics"]["test"]["accuracy"] == metrics["test"]["accuracy"]
    assert "| test |" in (folder / "card.md").read_text()
    assert (folder / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    assert not list(folder.parent.glob(".*staging*"))  # the staging folder is gone


def test_save_then_load_predicts_identically(ag_run):
    folder = ag_run.run_dir / "tasks" / "category"
    docs = list(read_documents(ag_run.run_dir))[:120]
    loaded = LogisticRegressionTask.load(folder)
    saved = {p["id"]: p for p in _lines(folder / "predictions.jsonl")}
    for doc, prediction in zip(docs, loaded.predict(docs), strict=True):
        assert prediction["probabilities"] == saved[doc.id]["probabilities"]
    scores = loaded.evaluate(docs)
    assert scores["documents"] == 120 and 0.5 < scores["accuracy"] <= 1.0


def test_cross_validation_writes_folds_and_a_summary(newsgroups_run):
    folder = newsgroups_run.run_dir / "tasks" / "topic"
    metrics = json.loads((folder / "metrics.json").read_text())
    cv = metrics["cv"]
    assert cv["method"] == "stratified" and cv["folds"] == 3 and len(cv["per_fold"]) == 3
    accuracies = [fold["accuracy"] for fold in cv["per_fold"]]
    assert cv["summary"]["accuracy"]["mean"] == pytest.approx(np.mean(accuracies))
    assert cv["summary"]["accuracy"]["std"] == pytest.approx(np.std(accuracies))
    assert cv["summary"]["accuracy"]["mean"] > 0.75  # two newsgroups, headers removed
    assert "holdout" in cv["note"]
    folds = json.loads((folder / "folds.json").read_text())
    assert len(folds) == 200 and Counter(folds.values()) == {0: 67, 1: 67, 2: 66}
    for k in range(3):
        fold = json.loads((folder / "folds" / str(k) / "metrics.json").read_text())
        assert fold["test"] == Counter(folds.values())[k] and fold["accuracy"] == accuracies[k]


def test_an_unchanged_task_is_reused_and_a_changed_one_refitted(tmp_path, run_tasks):
    corpus = {"reader": "newsgroups-mini"}
    tasks = {"topic": {"model": "naive-bayes", "split": {"validation": 0.0}}}
    first = run_tasks(tmp_path / "run", corpus, tasks)
    assert first.manifest["tasks"]["topic"]["reused"] is False
    stamp = first.run_dir / "tasks" / "topic" / "metrics.json"
    written = stamp.stat().st_mtime_ns
    again = run_tasks(tmp_path / "run", corpus, tasks)
    assert again.manifest["tasks"]["topic"]["reused"] is True
    assert stamp.stat().st_mtime_ns == written
    changed = run_tasks(tmp_path / "run", corpus, {"topic": {**tasks["topic"], "alpha": 0.1}})
    assert changed.manifest["tasks"]["topic"]["reused"] is False
    assert stamp.stat().st_mtime_ns != written


def test_a_test_corpus_replaces_the_holdout_test_part(tmp_path, run_tasks, ag_rows):
    train = write_ag_csv(tmp_path / "train.csv", ag_rows[:500])
    test = write_ag_csv(tmp_path / "test.csv", ag_rows[500:650])
    task = {"model": "logreg", "test_corpus": {**AG_CORPUS, "path": str(test)}}
    result = run_tasks(tmp_path / "run", {**AG_CORPUS, "path": str(train)}, {"category": task})
    folder = result.run_dir / "tasks" / "category"
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["split"]["sizes"] == {"train": 450, "validation": 50, "test": 150}
    assert metrics["split"]["test_corpus"] is True and metrics["test"]["accuracy"] > 0.6
    external = _lines(folder / "test_corpus_predictions.jsonl")
    assert len(external) == 150 and external[0]["id"] == "test.csv:2"
    assert Counter(p["split"] for p in _lines(folder / "predictions.jsonl")) == {
        "train": 450,
        "validation": 50,
    }


def _dated_lee(path, texts, missing=None):
    with path.open("wb") as fh:
        for i, text in enumerate(texts):
            label = "australia" if "Australia" in text else "other"
            date = f"2001-{1 + i % 12:02d}-{1 + i % 28:02d}" if i != missing else None
            fh.write(orjson.dumps({"id": f"lee-{i}", "text": text, "label": label, "day": date}))
            fh.write(b"\n")
    return {"reader": "jsonl", "path": str(path)}


def test_time_ordered_folds_never_train_on_a_later_date(tmp_path, run_tasks, lee_texts):
    corpus = _dated_lee(tmp_path / "lee.jsonl", lee_texts[:120])
    cv = {"method": "time", "folds": 3, "date_field": "day"}
    result = run_tasks(tmp_path / "run", corpus, {"news": {"model": "logreg", "cv": cv}})
    folder = result.run_dir / "tasks" / "news"
    folds = json.loads((folder / "folds.json").read_text())
    days = {json.loads(line)["id"]: json.loads(line)["day"] for line in open(corpus["path"])}
    assert len(folds) == 90  # the first quarter (by date) is never a test fold
    for k in range(3):
        tested = [days[i] for i, fold in folds.items() if fold == k]
        trained = [d for i, d in days.items() if i not in folds or folds[i] < k]
        assert max(trained) <= min(tested)
    assert json.loads((folder / "metrics.json").read_text())["cv"]["method"] == "time"


def test_time_ordered_folds_need_a_date_on_every_document(tmp_path, run_tasks, lee_texts):
    corpus = _dated_lee(tmp_path / "lee.jsonl", lee_texts[:120], missing=17)
    cv = {"method": "time", "folds": 3, "date_field": "day"}
    with pytest.raises(
        ConfigError,
        match=r"tasks\.news\.cv\.date_field: 1 of 120 documents lack meta\['day'\] \(first: 'lee-17'\)",
    ):
        run_tasks(tmp_path / "run", corpus, {"news": {"model": "logreg", "cv": cv}})
    assert not (tmp_path / "run" / "tasks" / "news").exists()  # nothing written half-way


def test_a_missing_label_key_names_the_key_the_count_and_the_keys_there_are(tmp_path, run_tasks):
    with pytest.raises(ConfigError) as caught:
        run_tasks(
            tmp_path / "run",
            {"reader": "newsgroups-mini"},
            {"topic": {"model": "logreg", "label": "topic"}},
        )
    message = str(caught.value)
    assert message.startswith("tasks.topic.label: 200 of 200 documents lack meta['topic']")
    assert "'newsgroups-000'" in message and "label" in message and "file" in message
    assert not (tmp_path / "run" / "tasks" / "topic").exists()


def test_a_single_class_is_refused(tmp_path, run_tasks, lee_texts):
    path = tmp_path / "one.jsonl"
    path.write_bytes(
        b"".join(orjson.dumps({"text": t, "label": "news"}) + b"\n" for t in lee_texts[:30])
    )
    with pytest.raises(
        ConfigError,
        match=r"tasks\.one\.label: the corpus has only the class 'news' \(30 documents\)",
    ):
        run_tasks(
            tmp_path / "run", {"reader": "jsonl", "path": str(path)}, {"one": {"model": "logreg"}}
        )


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ({"model": "logreg", "split": {"test": 1.5}}, r"tasks\.t\.split\.test: 1\.5 is invalid"),
        (
            {"model": "logreg", "cv": {"folds": 1}},
            r"tasks\.t\.cv\.folds: 1 is invalid: use at least 2",
        ),
        (
            {"model": "logreg", "cv": {"fold": 3}},
            r"tasks\.t\.cv\.fold: unknown key|tasks\.t\.cv\.fold",
        ),
        ({"model": "logreg", "ngram_range": [2, 1]}, r"tasks\.t\.ngram_range: \[2, 1\] is invalid"),
        ({"model": "linear-svm", "calibration_folds": 1}, r"tasks\.t\.calibration_folds: 1"),
        (
            {"model": "bilstm", "embeddings": "glove-7b"},
            r"tasks\.t\.embeddings: 'glove-7b' is not allowed",
        ),
        (
            {"model": "logreg", "test_corpus": {"reader": "cvs"}},
            r"tasks\.t\.test_corpus\.reader: unknown reader 'cvs'",
        ),
        ({"model": "logreg", "cv": {"method": "time"}}, r"tasks\.t\.cv\.date_field: required"),
    ],
)
def test_settings_are_refused_before_any_data_is_read(tmp_path, task, message):
    with pytest.raises(ConfigError, match=message):
        run_config(tmp_path / "run", {"reader": "newsgroups-mini"}, {"t": task})


def test_a_token_column_no_stage_set_names_the_setting(tmp_path, run_tasks):
    with pytest.raises(ConfigError, match=r"tasks\.t\.drop_stop: .*add a `stopwords` stage"):
        run_tasks(
            tmp_path / "run",
            {"reader": "newsgroups-mini"},
            {"t": {"model": "naive-bayes", "drop_stop": True}},
        )
