"""Learning and validation curves on real text (AG News) and their verdicts: a model
constrained too much is "high bias", one free to memorise few documents "high variance";
a task's `curves:` writes them; a validation-curve parameter the model lacks is refused."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from components.ml.curves import diagnose, learning_curves, validation_curves
from components.ml.splits import CrossValidation, cross_validation_folds
from pipeline.config import ConfigError, resolve_config

AG_NEWS = "classification/ag_news_test_first_half.csv"


@pytest.fixture(scope="module")
def ag_news(shared_data) -> tuple[list[str], list[str]]:
    """The first 300 AG News stories (title and description) and their classes 1-4."""
    with (shared_data / AG_NEWS).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))[:300]
    return [f"{r['title']}. {r['description']}" for r in rows], [r["label"] for r in rows]


def _pipeline(classifier, ngram_range=(1, 1)):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(ngram_range=ngram_range, sublinear_tf=True), classifier)


def _folds(labels):
    return cross_validation_folds(labels, CrossValidation(folds=3, seed=1))


def test_a_too_simple_model_is_high_bias(ag_news):
    from sklearn.naive_bayes import MultinomialNB

    texts, labels = ag_news
    # smoothing so strong that the class priors swamp every word count
    result = learning_curves(
        _pipeline(MultinomialNB(alpha=1000.0)), texts, labels,
        sizes=[0.3, 0.6, 1.0], cv=_folds(labels), seed=1,
    )  # fmt: skip
    verdict = result["verdict"]
    assert verdict["kind"] == "high bias"
    assert verdict["train"] < 0.85 and verdict["gap"] < verdict["train"]
    assert (
        "more capacity" in verdict["next_step"] and f"{verdict['train']:.3f}" in verdict["reason"]
    )
    assert result["sizes"] == [60, 120, 200]  # of each fold's 200 training documents
    assert len(result["validation"]["folds"]) == 3 and len(result["validation"]["folds"][0]) == 3


def test_a_too_complex_model_is_high_variance(ag_news):
    from sklearn.linear_model import LogisticRegression

    texts, labels = ag_news
    # next to no penalty, word pairs as features, 200 training documents
    result = learning_curves(
        _pipeline(LogisticRegression(C=1000.0, max_iter=300), ngram_range=(1, 2)), texts, labels,
        sizes=[0.5, 1.0], cv=_folds(labels), seed=1,
    )  # fmt: skip
    verdict = result["verdict"]
    assert verdict["kind"] == "high variance"
    assert verdict["train"] > 0.99 and verdict["gap"] > 0.2
    assert "more data" in verdict["next_step"]  # validation still rises with more documents
    means = result["validation"]["mean"]
    assert means[-1] > means[0]


def test_validation_curve_goes_from_bias_to_variance_over_C(ag_news):
    from sklearn.linear_model import LogisticRegression

    texts, labels = ag_news
    result = validation_curves(
        _pipeline(LogisticRegression(max_iter=300)), texts, labels,
        param="logisticregression__C", values=[0.01, 1.0, 1000.0], cv=_folds(labels),
    )  # fmt: skip
    kinds = [v["kind"] for v in result["verdicts"]]
    assert kinds[0] == "high bias" and kinds[-1] == "high variance"
    assert result["best"]["value"] in (1.0, 1000.0)
    assert result["verdict"] == result["verdicts"][result["best"]["index"]]


def test_diagnose_thresholds():
    fine = diagnose([0.97, 0.96, 0.98], [0.9, 0.91, 0.89])
    assert fine.kind == "fine" and fine.gap == pytest.approx(0.07)
    # both low training score and a large gap: the larger error names it (Ng's rule)
    assert diagnose([0.8], [0.5]).kind == "high variance"  # gap 0.30 > avoidable bias 0.20
    assert diagnose([0.6], [0.45]).kind == "high bias"  # avoidable bias 0.40 > gap 0.15
    rows = np.array([[0.99, 1.0], [0.99, 0.99]])  # a curve: its last row is read
    assert diagnose(rows, [[0.5, 0.6], [0.95, 0.96]]).kind == "fine"
    assert diagnose([0.99], [0.95], max_gap=0.02).kind == "high variance"


def test_task_writes_curves_plots_and_verdicts(shared_data, tmp_path):
    from components.models.classify import LogisticRegressionTask
    from pipeline import Pipeline
    from pipeline.document import Document

    with (shared_data / AG_NEWS).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))[300:600]
    docs = [
        Document(id=f"ag{i}", text=f"{r['title']}. {r['description']}", meta={"label": r["label"]})
        for i, r in enumerate(rows)
    ]
    docs = list(Pipeline.from_config({"stages": [{"tokenize": {"backend": "regex"}}]}).pipe(docs))
    folder = tmp_path / "tasks" / "topic"
    curves = {
        "learning": {"sizes": [0.5, 1.0]},
        "validation": {"param": "C", "values": [0.01, 10.0]},
        "folds": 3,
    }
    LogisticRegressionTask(curves=curves).fit(docs, folder)
    metrics = json.loads((folder / "metrics.json").read_text())["curves"]
    assert metrics["folds"] == 3 and metrics["documents"] == 210  # the training part
    assert metrics["learning"]["verdict"]["kind"] in ("high bias", "high variance", "fine")
    assert [v["kind"] for v in metrics["validation"]["verdicts"]][0] == "high bias"
    assert json.loads((folder / "curves.json").read_text()) == metrics
    for name in ("learning_curve_by_size.png", "validation_curve.png"):
        assert (folder / name).read_bytes()[:4] == b"\x89PNG"
    report = json.loads((folder / "report.json").read_text())
    images = [b["path"] for b in report["blocks"] if b["kind"] == "image"]
    assert "learning_curve_by_size.png" in images and "validation_curve.png" in images
    texts = " ".join(b["text"] for b in report["blocks"] if b["kind"] == "text")
    assert "Validation curve (best C = " in texts and "Next: " in texts


def test_validation_curve_param_must_be_a_model_parameter(tmp_path):
    config = {
        "name": "curves",
        "corpus": {"reader": "newsgroups-mini"},
        "stages": [{"tokenize": {"backend": "regex"}}],
        "tasks": {
            "topic": {
                "model": "logreg",
                "curves": {"validation": {"param": "c", "values": [0.1, 1]}},
            }
        },
        "output": {"dir": str(tmp_path)},
    }
    with pytest.raises(ConfigError) as error:
        resolve_config(config)
    message = str(error.value)
    assert "tasks.topic.curves.validation.param: 'c' is not a parameter" in message
    assert "did you mean 'C'?" in message

    config["tasks"]["topic"]["curves"]["validation"] = {"param": "C", "values": [0.1, "large"]}
    with pytest.raises(
        ConfigError, match=r"tasks\.topic\.curves\.validation\.values\[1\]: 'large'"
    ):
        resolve_config(config)
