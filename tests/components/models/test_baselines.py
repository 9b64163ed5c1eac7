"""The scikit-learn baselines as `TextEstimator`s: they learn real text, give probabilities
in `classes_` order, take the tokens as given (n-grams of them), and save without pickle."""

from __future__ import annotations

import shutil

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
    estimator.save(tmp_path / "model")  # four classes: one weight row per class
    loaded = BASELINES[name].load(tmp_path / "model")
    assert np.array_equal(loaded.predict_proba(tokens[700:]), proba)


#: the classifier files each baseline writes beside estimator.json and vocabulary.json
ARRAY_FILES = {
    "logreg": {"coef", "intercept"},
    "naive-bayes": {"feature_log_prob", "class_log_prior"},
    "linear-svm": {"coef", "intercept", "sigmoid_a", "sigmoid_b"},
}


@pytest.fixture(scope="module")
def saved_baselines(newsgroups_tokens, tmp_path_factory):
    """Each baseline fitted on half the newsgroup posts (word 1-2 grams) and saved."""
    tokens, labels = newsgroups_tokens
    saved = {}
    for name, cls in BASELINES.items():
        folder = tmp_path_factory.mktemp(name) / "model"
        estimator = cls(ngram_range=(1, 2)).fit(
            tokens[::2], labels[::2], context=FitContext(workdir=folder.parent)
        )
        estimator.save(folder)
        saved[name] = (estimator, folder)
    return saved


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_save_and_load_predict_identically_without_pickle(name, saved_baselines, newsgroups_tokens):
    estimator, folder = saved_baselines[name]
    arrays = {f"classifier.{a}.npy" for a in ARRAY_FILES[name]}
    expected = {"estimator.json", "vocabulary.json", "classifier.json", *arrays}
    files = {p.name for p in folder.iterdir()}
    assert expected <= files <= expected | {"idf.npy"}
    for path in folder.glob("*.npy"):
        assert np.load(path, allow_pickle=False).dtype == np.float64  # plain arrays only
    loaded = type(estimator).load(folder)
    assert loaded.classes_ == estimator.classes_ and loaded.get_params() == estimator.get_params()
    tokens = newsgroups_tokens[0][1::2]
    assert np.array_equal(loaded.predict_proba(tokens), estimator.predict_proba(tokens))


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_every_saved_array_is_used_by_the_loaded_model(
    name, saved_baselines, newsgroups_tokens, tmp_path
):
    """Changing any one saved array changes the probabilities: the identity above would
    catch an attribute that is not restored or restored wrong."""
    estimator, folder = saved_baselines[name]
    tokens = newsgroups_tokens[0][1::2]
    reference = estimator.predict_proba(tokens)
    for array_name in sorted(ARRAY_FILES[name]):
        copy = tmp_path / array_name
        shutil.copytree(folder, copy)
        path = copy / f"classifier.{array_name}.npy"
        array = np.load(path, allow_pickle=False)
        np.save(
            path,
            array
            + 0.5
            * (np.abs(array) + 1)
            * np.sign(np.arange(array.size) % 3 - 1).reshape(array.shape),
        )
        changed = type(estimator).load(copy).predict_proba(tokens)
        assert not np.allclose(changed, reference), array_name


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_an_array_of_the_wrong_shape_is_refused_naming_the_file(name, saved_baselines, tmp_path):
    estimator, folder = saved_baselines[name]
    copy = tmp_path / "model"
    shutil.copytree(folder, copy)
    weights = "feature_log_prob" if name == "naive-bayes" else "coef"
    path = copy / f"classifier.{weights}.npy"
    np.save(path, np.load(path)[..., :-1])  # as if copied from a model with another vocabulary
    with pytest.raises(ValueError, match=rf"{path.name}: float64 array of shape .*expected"):
        type(estimator).load(copy)


def test_a_missing_or_damaged_array_file_is_a_clear_error(saved_baselines, tmp_path):
    estimator, folder = saved_baselines["logreg"]
    copy = tmp_path / "model"
    shutil.copytree(folder, copy)
    (copy / "classifier.coef.npy").write_bytes(b"not an array")
    with pytest.raises(ValueError, match=r"classifier\.coef\.npy: not a plain \.npy array"):
        LogisticRegressionClassifier.load(copy)
    (copy / "classifier.coef.npy").unlink()
    with pytest.raises(FileNotFoundError) as missing:
        LogisticRegressionClassifier.load(copy)
    assert missing.value.filename.endswith("classifier.coef.npy")
    coef = np.load(folder / "classifier.coef.npy")
    np.save(copy / "classifier.coef.npy", coef.astype(object), allow_pickle=True)
    with pytest.raises(
        ValueError, match=r"coef\.npy: not a plain .*allow_pickle=False"
    ):  # never unpickled
        LogisticRegressionClassifier.load(copy)


def test_classifier_files_of_another_baseline_are_refused(saved_baselines, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(saved_baselines["logreg"][1], copy)
    for path in saved_baselines["naive-bayes"][1].glob("classifier.*"):
        shutil.copy(path, copy / path.name)
    with pytest.raises(ValueError, match="holds a 'multinomial-nb'.*expected a 'logistic"):
        LogisticRegressionClassifier.load(copy)


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
