"""`components.models.load(MODEL_DIR)`: a trained task folder predicts on raw text in input
order, as the run predicted its documents; a broken folder is one clear error."""

from __future__ import annotations

import json
import shutil

import pytest

from components.models import ModelFolderError, Predictor, load
from pipeline.document import Document
from pipeline.store import read_documents


@pytest.fixture(scope="module")
def model_dir(newsgroups_run):
    return newsgroups_run.run_dir / "tasks" / "topic"


def test_raw_texts_are_predicted_as_the_run_predicted_their_documents(newsgroups_run, model_dir):
    predictor = load(model_dir)
    assert isinstance(predictor, Predictor)
    docs = list(read_documents(newsgroups_run.run_dir))[:40]
    saved = {}
    for line in (model_dir / "predictions.jsonl").read_text().splitlines():
        row = json.loads(line)
        saved[row["id"]] = row
    texts = [doc.text for doc in docs]
    predictions = predictor.predict(texts)
    assert len(predictions) == 40
    for doc, prediction in zip(docs, predictions, strict=True):  # same stages, same tokens
        assert prediction["label"] == saved[doc.id]["label"]
        assert prediction["probabilities"] == pytest.approx(saved[doc.id]["probabilities"])


def test_predictions_keep_input_order_and_mix_texts_and_documents(newsgroups_run, model_dir):
    predictor = load(model_dir)
    docs = list(read_documents(newsgroups_run.run_dir))[:6]
    texts = [doc.text for doc in docs]
    one_by_one = [predictor.predict([text])[0] for text in texts]
    assert predictor.predict(texts[::-1]) == one_by_one[::-1]
    mixed = [texts[0], docs[1], Document.from_text(texts[2]), texts[3]]
    assert predictor.predict(mixed) == one_by_one[:4]


def test_the_predictor_describes_its_model(model_dir):
    predictor = load(model_dir)
    assert predictor.name == "topic" and predictor.component == "logreg"
    assert predictor.classes == ["alt.atheism", "sci.space"]
    assert predictor.corpus["reader"] == "newsgroups-mini"
    assert [list(stage) for stage in predictor.stages] == [["tokenize"]]
    assert predictor.stages[0]["tokenize"]["backend"] == "regex"
    assert predictor.card["model"] == "logreg" and predictor.card["data"]["documents"] == 200


def test_evaluate_takes_labelled_documents_or_text_label_pairs(newsgroups_run, model_dir):
    predictor = load(model_dir)
    docs = list(read_documents(newsgroups_run.run_dir))[:50]
    from_docs = predictor.evaluate(docs)
    from_pairs = predictor.evaluate([(doc.text, doc.meta["label"]) for doc in docs])
    assert from_docs["documents"] == 50 and from_docs["accuracy"] == from_pairs["accuracy"]
    assert from_docs["confusion_matrix"] == from_pairs["confusion_matrix"]


def test_a_copied_model_folder_predicts_on_its_own(tmp_path, model_dir):
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    text = "The shuttle launch was delayed by NASA engineers."
    assert load(copy).predict([text]) == load(model_dir).predict([text])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("folder", r"not a model folder"),
        ("pipeline.json", r"no pipeline\.json"),
        ("task.json", r"incomplete: task\.json is missing"),
        ("model/classifier.coef.npy", r"incomplete: classifier\.coef\.npy is missing"),
        ("corrupt", r"cannot be loaded"),
        ("bad-json", r"pipeline\.json: damaged"),
    ],
)
def test_a_broken_model_folder_is_one_clear_error(tmp_path, model_dir, damage, message):
    copy = tmp_path / "model"
    if damage != "folder":
        shutil.copytree(model_dir, copy)
    if damage == "corrupt":
        (copy / "model" / "classifier.coef.npy").write_bytes(b"not an array")
    elif damage == "bad-json":
        (copy / "pipeline.json").write_text("{")
    elif damage != "folder":
        (copy / damage).unlink()
    with pytest.raises(ModelFolderError, match=message) as caught:
        load(copy)
    assert str(copy) in str(caught.value) and isinstance(caught.value, ValueError)
