"""The scikit-learn baselines as `TextEstimator`s: they learn real text, give probabilities
in `classes_` order, take the tokens as given (n-grams of them), and save without pickle."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from components.models.baselines import (
    BASELINES,
    LinearSvmClassifier,
    LogisticRegressionClassifier,
    NaiveBayesClassifier,
)
from components.models.estimator import FitContext, TextEstimator
from components.represent.tokens import token_stream


@pytest.fixture(scope="module")
def ag_tokens(ag_rows):
    """900 AG News rows as lowercase word lists (regex words) and their labels."""
    import re

    rows = ag_rows[:900]
    tokens = [re.findall(r"\w+", f"{r['title']} {r['description']}".lower()) for r in rows]
    return tokens, [r["label"] for r in rows]


@pytest.fixture(scope="module")
def newsgroups_tokens(newsgroups_docs):
    return [token_stream(doc) for doc in newsgroups_docs], [
        doc.meta["label"] for doc in newsgroups_docs
    ]


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_each_baseline_learns_ag_news_far_above_chance(name, ag_tokens, tmp_path):
    tokens, labels = ag_tokens
    estimator = BASELINES[name]().fit(
        tokens[:700], labels[:700], context=FitContext(workdir=tmp_path, seed=1)
    )
    assert isinstance(estimator, TextEstimator)
    assert estimator.classes_ == ["1", "2", "3", "4"] and estimator.history_ == []
    proba = estimator.predict_proba(tokens[700:])
    assert proba.shape == (200, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    predicted = [estimator.classes_[i] for i in proba.argmax(axis=1)]
    accuracy = np.mean([p == t for p, t in zip(predicted, labels[700:], strict=True)])
    assert accuracy > 0.7  # chance is 0.25; measured 0.79-0.83 on these rows


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_save_and_load_predict_identically_without_pickle(name, newsgroups_tokens, tmp_path):
    tokens, labels = newsgroups_tokens
    estimator = BASELINES[name](ngram_range=(1, 2)).fit(
        tokens[::2], labels[::2], context=FitContext(workdir=tmp_path)
    )
    estimator.save(tmp_path / "model")
    files = {p.name for p in (tmp_path / "model").iterdir()}
    assert (
        {"estimator.json", "classifier.skops", "vocabulary.json"}
        <= files
        <= {"estimator.json", "classifier.skops", "vocabulary.json", "idf.npy"}
    )
    with zipfile.ZipFile(tmp_path / "model" / "classifier.skops") as archive:
        assert "schema.json" in archive.namelist()  # skops' format: a JSON schema, no pickle
    loaded = type(estimator).load(tmp_path / "model")
    assert loaded.classes_ == estimator.classes_ and loaded.get_params() == estimator.get_params()
    assert np.array_equal(loaded.predict_proba(tokens[1::2]), estimator.predict_proba(tokens[1::2]))


def test_a_model_file_with_an_untrusted_type_is_refused(newsgroups_tokens, tmp_path):
    import skops.io as sio
    from sklearn.ensemble import RandomForestClassifier

    tokens, labels = newsgroups_tokens
    estimator = LogisticRegressionClassifier().fit(
        tokens, labels, context=FitContext(workdir=tmp_path)
    )
    estimator.save(tmp_path / "model")
    forest = RandomForestClassifier(n_estimators=2).fit(np.eye(4), [0, 1, 0, 1])
    sio.dump(forest, tmp_path / "model" / "classifier.skops")  # a swapped model file
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        LogisticRegressionClassifier.load(tmp_path / "model")


def test_tokens_are_used_as_given_and_ngrams_are_made_of_them(tmp_path):
    texts = [["New", "York", "rally"], ["new", "york", "slump"], ["New", "York", "rally"]]
    labels = ["up", "down", "up"]
    estimator = LogisticRegressionClassifier(ngram_range=(1, 2)).fit(
        texts, labels, context=FitContext(workdir=tmp_path)
    )
    vocabulary = estimator.model_.named_steps["vectorizer"].vocabulary_
    assert {"New", "new", "New York", "York rally", "york slump"} <= set(vocabulary)
    assert "new york" in vocabulary and len(vocabulary) == 10


def test_naive_bayes_counts_or_tfidf_and_alpha(newsgroups_tokens, tmp_path):
    tokens, labels = newsgroups_tokens
    context = FitContext(workdir=tmp_path)
    counts = NaiveBayesClassifier(alpha=0.5).fit(tokens, labels, context=context)
    tfidf = NaiveBayesClassifier(features="tfidf").fit(tokens, labels, context=context)
    assert type(counts.model_.named_steps["vectorizer"]).__name__ == "CountVectorizer"
    assert type(tfidf.model_.named_steps["vectorizer"]).__name__ == "TfidfVectorizer"
    assert counts.model_.named_steps["classifier"].alpha == 0.5


def test_linear_svm_needs_two_documents_per_class_for_calibration(newsgroups_tokens, tmp_path):
    tokens, labels = newsgroups_tokens
    with pytest.raises(ValueError, match="every class needs at least 2 training documents"):
        LinearSvmClassifier().fit(
            [*tokens[:20], ["odd"]], [*labels[:20], "rare"], context=FitContext(workdir=tmp_path)
        )
    few = LinearSvmClassifier(calibration_folds=5).fit(
        [*tokens[:20], ["odd"], ["odder"]],
        [*labels[:20], "rare", "rare"],
        context=FitContext(workdir=tmp_path),
    )
    assert "rare" in few.classes_ and few.calibration_folds == 5  # 2 folds used, 5 kept


def test_constructors_only_store_parameters():
    for cls in BASELINES.values():
        estimator = cls(ngram_range=(1, 3), min_df=2)
        assert vars(estimator) == estimator.get_params()
        assert estimator.get_params()["ngram_range"] == (1, 3)
