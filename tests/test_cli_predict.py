"""`nlp run` trains a task, then `nlp predict` / `nlp evaluate` use its folder on new input.

The model is a TF-IDF + logistic-regression classifier trained on gensim's mini_newsgroup
posts (alt.atheism vs sci.space, headers removed) in a real run; new input is real text
the model never saw: Lee news articles and lines written by users.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from pipeline.predict import ModelFolder, predict_items, text_documents
from tests.test_cli import nlp

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def newsgroups_model(tmp_path_factory) -> Path:
    import yaml

    tmp = tmp_path_factory.mktemp("model")
    config = {
        "name": "newsgroups",
        "corpus": {"reader": "newsgroups-mini"},
        "stages": [{"normalize": {}}, {"tokenize": {"backend": "regex"}}],
        "tasks": {"topic": {"model": "logreg", "label": "label", "seed": 1}},
        "output": {"dir": str(tmp / "run")},
    }
    (tmp / "config.yaml").write_text(yaml.safe_dump(config))
    result = nlp("run", "--quiet", str(tmp / "config.yaml"))
    assert result.returncode == 0, result.stderr
    return tmp / "run" / "tasks" / "topic"


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_predict_on_files_keeps_input_order_and_ids(tmp_path, newsgroups_model, lee_texts):
    corpus = tmp_path / "new.jsonl"
    ids = [f"doc-{n}" for n in (7, 3, 11, 0, 5)]
    with corpus.open("wb") as fh:
        for doc_id, text in zip(ids, lee_texts[:5], strict=True):
            fh.write(orjson.dumps({"id": doc_id, "text": text}) + b"\n")
    out = tmp_path / "predictions.jsonl"
    result = nlp("predict", str(newsgroups_model), str(corpus), "--reader", "jsonl", "-o", str(out))
    assert result.returncode == 0, result.stderr
    lines = _lines(out.read_text())
    assert [line["id"] for line in lines] == ids
    for line in lines:
        assert set(line["probabilities"]) == {"alt.atheism", "sci.space"}
        assert line["label"] == max(line["probabilities"], key=line["probabilities"].get)
        assert abs(sum(line["probabilities"].values()) - 1) < 1e-6
    assert "5 documents, 0 quarantined" in result.stderr


def test_predict_on_raw_text_separates_the_two_topics(newsgroups_model):
    space = "NASA launched the shuttle into orbit; the satellite will study the moon and Mars."
    belief = "Atheists argue that there is no god and that religion and the bible are myths."
    result = nlp("predict", str(newsgroups_model), "--text", space, "--text", belief)
    assert result.returncode == 0, result.stderr
    lines = _lines(result.stdout)
    assert [line["id"] for line in lines] == ["text-1", "text-2"]
    assert [line["label"] for line in lines] == ["sci.space", "alt.atheism"]


def test_predict_reads_stdin_one_text_per_line_and_quarantines_empty_ones(newsgroups_model):
    stdin = "The rocket reached orbit.\n\nGod and faith.\n"
    result = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "predict", str(newsgroups_model), "-"],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    lines = _lines(result.stdout)
    assert [line["id"] for line in lines] == ["stdin-1", "stdin-2", "stdin-3"]
    assert lines[1]["quarantined"] == "empty document" and "label" not in lines[1]
    assert "label" in lines[0] and "label" in lines[2]
    assert "3 documents, 1 quarantined" in result.stderr


def test_python_predictions_equal_the_saved_predictions_of_the_run(newsgroups_model):
    from corpora import MiniNewsgroupsReader

    model = ModelFolder.open(newsgroups_model)
    saved = [orjson.loads(line) for line in (newsgroups_model / "predictions.jsonl").open("rb")]
    again = list(predict_items(model, MiniNewsgroupsReader().read()))
    assert [p["id"] for p in again] == [p["id"] for p in saved]
    assert [p["label"] for p in again] == [p["label"] for p in saved]
    for new, old in zip(again, saved, strict=True):
        for label, p in old["probabilities"].items():
            assert new["probabilities"][label] == pytest.approx(p, abs=1e-9)
    texts = list(predict_items(model, text_documents(["Orbit and launch.", "Bible and god."])))
    assert [t["id"] for t in texts] == ["text-1", "text-2"]


def test_evaluate_a_trained_model_on_labelled_input(tmp_path, newsgroups_model):
    from corpora import MiniNewsgroupsReader

    labelled = tmp_path / "labelled.jsonl"
    with labelled.open("wb") as fh:
        for doc in list(MiniNewsgroupsReader().read())[:60]:
            fh.write(orjson.dumps({"id": doc.id, "text": doc.text, **doc.meta}) + b"\n")
    out = tmp_path / "evaluation.json"
    result = nlp(
        "evaluate", str(newsgroups_model), str(labelled), "--reader", "jsonl", "--json", str(out)
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads(out.read_text())
    assert 0.5 < metrics["accuracy"] <= 1.0
    assert "accuracy" in result.stdout


def test_a_missing_or_damaged_model_folder_is_one_line_exit_2(tmp_path, newsgroups_model):
    result = nlp("predict", str(tmp_path / "nowhere"), "--text", "hello")
    assert result.returncode == 2 and "not a model folder" in result.stderr
    assert "Traceback" not in result.stderr

    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(newsgroups_model, broken)
    for weights in broken.iterdir():
        if weights.name not in ("pipeline.json", "metrics.json", "card.json", "card.md"):
            if weights.is_file():
                weights.write_bytes(b"\x00garbage")
    result = nlp("predict", str(broken), "--text", "hello")
    assert result.returncode == 2, result.stderr
    assert "cannot be loaded" in result.stderr and "Traceback" not in result.stderr


def test_training_progress_shows_each_epochs_losses_on_the_terminal(tmp_path):
    import yaml

    config = {
        "name": "progress",
        "corpus": {"reader": "newsgroups-mini"},
        "stages": [{"tokenize": {"backend": "regex"}}],
        "tasks": {"topic": {"model": "textcnn", "epochs": 2, "embed_dim": 16, "num_filters": 8}},
        "output": {"dir": str(tmp_path / "run")},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    result = nlp("run", str(tmp_path / "config.yaml"))
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stderr.split())  # rich wraps long lines on a narrow terminal
    assert "topic epoch 1: train_loss" in text and "topic epoch 2: train_loss" in text
    assert text.count("val_loss") == 2 and "INFO:" not in text  # rich's level column, once


def test_a_classifier_takes_no_generation_option(newsgroups_model):
    refused = nlp("predict", str(newsgroups_model), "--text", "NASA", "--beam", "4")
    assert refused.returncode == 2
    [message] = refused.stderr.strip().splitlines()
    assert "--beam" in message and "'logreg'" in message
    assert "takes no generation option" in message
