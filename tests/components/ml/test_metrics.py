"""`classification_metrics` equals scikit-learn's own functions on real predictions, and
`confusion_png` draws a readable PNG.

Predictions come from a logistic regression trained on real text: gensim's mini
newsgroups (two classes, always available) and AG News (four classes, shared data).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from components.ml.metrics import classification_metrics, summarize_folds
from components.ml.plots import confusion_png


@pytest.fixture(scope="module")
def ag_rows(shared_data) -> list[dict[str, str]]:
    """AG News rows of the shared data (skips when it is absent)."""
    import csv

    path = shared_data / "classification" / "ag_news_test_first_half.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _predictions(texts, labels):
    """(true labels, predicted labels, probabilities, classes) on the last third."""
    cut = 2 * len(texts) // 3
    from threadpoolctl import threadpool_limits

    vectorizer = TfidfVectorizer()
    with threadpool_limits(limits=1, user_api="blas"):  # BLAS threads only wait on 2 busy cores
        model = LogisticRegression(max_iter=500).fit(
            vectorizer.fit_transform(texts[:cut]), labels[:cut]
        )
    x_test = vectorizer.transform(texts[cut:])
    return (
        labels[cut:],
        list(model.predict(x_test)),
        model.predict_proba(x_test),
        list(model.classes_),
    )


@pytest.fixture(scope="module")
def binary():
    from corpora.newsgroups import MiniNewsgroupsReader

    docs = list(MiniNewsgroupsReader().read())
    order = np.random.default_rng(0).permutation(len(docs))
    return _predictions([docs[i].text for i in order], [docs[i].meta["label"] for i in order])


@pytest.fixture(scope="module")
def multiclass(ag_rows):
    rows = ag_rows[:900]
    return _predictions(
        [f"{r['title']} {r['description']}" for r in rows], [r["label"] for r in rows]
    )


@pytest.mark.parametrize("data", ["binary", "multiclass"])
def test_scores_equal_scikit_learns(request, data):
    y_true, y_pred, proba, classes = request.getfixturevalue(data)
    got = classification_metrics(y_true, y_pred, proba, classes=classes)

    assert got["documents"] == len(y_true) and got["classes"] == classes
    assert got["accuracy"] == skm.accuracy_score(y_true, y_pred)
    for average in ("macro", "micro", "weighted"):
        kwargs = {"labels": classes, "average": average, "zero_division": 0}
        assert got[f"precision_{average}"] == skm.precision_score(y_true, y_pred, **kwargs)
        assert got[f"recall_{average}"] == skm.recall_score(y_true, y_pred, **kwargs)
        assert got[f"f1_{average}"] == skm.f1_score(y_true, y_pred, **kwargs)
    f1 = skm.f1_score(y_true, y_pred, labels=classes, average=None)
    support = [y_true.count(c) for c in classes]
    assert [got["per_class"][c]["f1"] for c in classes] == list(f1)
    assert [got["per_class"][c]["support"] for c in classes] == support
    assert got["confusion_matrix"] == skm.confusion_matrix(y_true, y_pred, labels=classes).tolist()
    assert got["log_loss"] == skm.log_loss(y_true, proba, labels=classes)
    if len(classes) == 2:
        positive = [int(y == classes[1]) for y in y_true]
        assert got["roc_auc"] == skm.roc_auc_score(positive, proba[:, 1])
    else:
        expected = skm.roc_auc_score(
            y_true, proba, multi_class="ovr", average="macro", labels=classes
        )
        assert got["roc_auc"] == expected
    assert got["accuracy"] > 0.7  # real signal, far above chance on both corpora


def test_the_class_order_is_the_one_given(multiclass):
    y_true, y_pred, proba, classes = multiclass
    reordered = classes[::-1]
    got = classification_metrics(y_true, y_pred, proba[:, ::-1], classes=reordered)
    expected = skm.confusion_matrix(y_true, y_pred, labels=reordered).tolist()
    assert got["confusion_matrix"] == expected and got["classes"] == reordered
    assert got["log_loss"] == pytest.approx(
        classification_metrics(y_true, y_pred, proba, classes=classes)["log_loss"]
    )


def test_without_probabilities_there_is_no_auc_or_log_loss(binary):
    y_true, y_pred, _, _ = binary
    got = classification_metrics(y_true, y_pred)
    assert "roc_auc" not in got and "log_loss" not in got
    assert got["classes"] == sorted(set(y_true) | set(y_pred))


def test_auc_is_none_when_a_class_is_absent_from_the_truth(multiclass):
    y_true, y_pred, proba, classes = multiclass
    keep = [i for i, y in enumerate(y_true) if y != classes[0]]
    got = classification_metrics(
        [y_true[i] for i in keep], [y_pred[i] for i in keep], proba[keep], classes=classes
    )
    assert got["roc_auc"] is None and got["per_class"][classes[0]]["support"] == 0


def test_misshapen_inputs_are_refused_with_the_expected_shape(binary):
    y_true, y_pred, proba, classes = binary
    with pytest.raises(ValueError, match=r"expected \(\d+, 2\)"):
        classification_metrics(y_true, y_pred, proba[:, :1], classes=classes)
    with pytest.raises(ValueError, match="y_pred has"):
        classification_metrics(y_true, y_pred[:-1])


def test_fold_summaries_are_numpy_mean_and_std():
    folds = [{"accuracy": 0.8, "roc_auc": None}, {"accuracy": 0.9, "roc_auc": 0.7}]
    summary = summarize_folds(folds)
    assert summary == {"accuracy": {"mean": np.mean([0.8, 0.9]), "std": np.std([0.8, 0.9])}}


def test_confusion_png_is_a_png_of_the_matrix(tmp_path, multiclass):
    y_true, y_pred, proba, classes = multiclass
    matrix = classification_metrics(y_true, y_pred, proba, classes=classes)["confusion_matrix"]
    path = confusion_png(matrix, classes, tmp_path / "plots" / "confusion.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
