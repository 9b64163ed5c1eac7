"""Bag of words, one-hot, TF-IDF and n-grams: numbers against scikit-learn, persistence, sklearn API."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from components.represent import BagOfWords, EmptyVocabularyError, OneHot, Phrases, TfIdf
from components.text.tokenize import Tokenize
from pipeline import Pipeline
from pipeline.config import component_model


def _sklearn_on_same_tokens(cls, learner, docs, **settings):
    """The scikit-learn vectorizer fitted on the learner's tokens joined by spaces."""
    joined = [" ".join(learner.select(d)) for d in docs]
    if settings.get("analyzer", "word") == "word":
        settings = {"tokenizer": str.split, "token_pattern": None, **settings}
    vectorizer = cls(lowercase=False, **settings)
    return vectorizer, vectorizer.fit_transform(joined)


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"ngram_range": (1, 2), "min_df": 2, "max_df": 0.9, "sublinear_tf": True},
        {"norm": "l1", "smooth_idf": False, "max_features": 500},
        {"norm": None, "use_idf": False, "binary": True},
        {"analyzer": "char_wb", "ngram_range": (2, 4), "min_df": 3},
        {"analyzer": "char", "ngram_range": (1, 3)},
    ],
)
def test_tfidf_equals_tfidfvectorizer(lee_docs, settings):
    learner = TfIdf(**settings)
    ours = learner.fit_transform(lee_docs)
    vectorizer, theirs = _sklearn_on_same_tokens(TfidfVectorizer, learner, lee_docs, **settings)
    assert learner.terms_ == list(vectorizer.get_feature_names_out())
    assert abs(ours - theirs).max() <= 1e-9
    assert abs(learner.transform(lee_docs) - theirs).max() <= 1e-9
    if learner.idf_ is not None:
        np.testing.assert_allclose(learner.idf_, vectorizer.idf_, rtol=0, atol=1e-12)


def test_tfidf_textbook_variant_by_hand(lee_docs):
    docs = lee_docs[:20]
    learner = TfIdf(variant="textbook", norm=None)
    matrix = learner.fit_transform(docs).toarray()
    tokens = [learner.select(d) for d in docs]
    for word in ("the", "police", "afghanistan"):
        col = learner.vocabulary_[word]
        df = sum(word in set(t) for t in tokens)
        for row, toks in enumerate(tokens):
            expected = toks.count(word) / len(toks) * np.log(len(docs) / df)
            assert matrix[row, col] == pytest.approx(expected, abs=1e-12)
    # a word in every document has idf log(1) = 0
    assert np.all(matrix[:, learner.vocabulary_["the"]] == 0)


def test_bow_counts_limits_and_binary_equal_countvectorizer(lee_docs):
    for settings in ({}, {"min_df": 5, "max_df": 0.5}, {"max_features": 100, "binary": True}):
        learner = BagOfWords(**settings)
        ours = learner.fit_transform(lee_docs)
        vectorizer, theirs = _sklearn_on_same_tokens(CountVectorizer, learner, lee_docs, **settings)
        assert sp.issparse(ours) and ours.dtype == np.int64
        assert learner.terms_ == list(vectorizer.get_feature_names_out())
        assert (ours != theirs).nnz == 0


def test_onehot_documents_and_tokens(lee_docs):
    learner = OneHot(min_df=2).fit(lee_docs)
    matrix = learner.transform(lee_docs[:3])
    assert set(np.unique(matrix.data)) == {1}
    rows = learner.encode(lee_docs[0])
    tokens = learner.select(lee_docs[0])
    assert rows.shape == (len(tokens), len(learner.terms_))
    for i, token in enumerate(tokens):
        if token in learner.vocabulary_:
            assert rows[i].nnz == 1 and rows[i, learner.vocabulary_[token]] == 1
        else:
            assert rows[i].nnz == 0


def test_phrases_join_collocations(lee_docs, tmp_path):
    bow = BagOfWords(phrases=True).fit(lee_docs)
    assert "prime_minister" in bow.vocabulary_
    learner = Phrases(min_count=5, threshold=10).fit(lee_docs)
    assert "prime_minister" in learner.phrasegrams_
    joined = learner.transform(lee_docs[:50])
    assert any("prime_minister" in tokens for tokens in joined)
    again = Phrases.load(learner.save(tmp_path / "phrases"))
    assert again.transform(lee_docs[:50]) == joined
    restored = BagOfWords.load(bow.save(tmp_path / "bow"))
    assert (restored.transform(lee_docs[:30]) != bow.transform(lee_docs[:30])).nnz == 0


def test_save_load_and_export(lee_docs, tmp_path):
    learner = TfIdf(ngram_range=(1, 2), min_df=2).fit(lee_docs)
    restored = TfIdf.load(learner.save(tmp_path / "tfidf"))
    assert restored.get_params() == learner.get_params()
    assert abs(restored.transform(lee_docs) - learner.transform(lee_docs)).max() == 0
    paths = learner.export(lee_docs, tmp_path / "out")
    matrix = sp.load_npz(paths["matrix"])
    import json

    assert json.loads(paths["vocabulary"].read_text()) == learner.terms_
    assert json.loads(paths["doc_ids"].read_text())[0] == lee_docs[0].id
    assert abs(matrix - learner.transform(lee_docs)).max() == 0
    with pytest.raises(Exception, match="not 'bow'"):
        BagOfWords.load(tmp_path / "tfidf")


def test_empty_vocabulary_is_a_clear_error():
    docs = list(Pipeline([Tokenize()]).pipe(["... !!! ???", "-- ;;"]))
    with pytest.raises(EmptyVocabularyError, match="no terms left after token selection"):
        TfIdf().fit(docs)
    with pytest.raises(EmptyVocabularyError, match="lower min_df"):
        BagOfWords(min_df=5).fit([["a", "b"], ["b", "c"]])
    with pytest.raises(ValueError):  # EmptyVocabularyError is a ValueError, as in scikit-learn
        OneHot().fit([[], []])


def test_limits_that_exclude_each_other_say_what_to_change():
    docs = [["a", "b"], ["b", "c"], ["c", "d"]]
    with pytest.raises(EmptyVocabularyError, match="no term passes the vocabulary limits"):
        BagOfWords(min_df=3, max_df=2).fit(docs)
    with pytest.raises(EmptyVocabularyError, match=r"min_df=0\.9, max_df=0\.1\) over 3 documents"):
        TfIdf(min_df=0.9, max_df=0.1).fit(docs)


def test_sklearn_clone_pipeline_and_grid_search(polarity_docs):
    labels = [doc.meta["label"] for doc in polarity_docs]
    learner = TfIdf(min_df=2)
    copy = clone(learner)
    assert copy.get_params() == learner.get_params() and copy is not learner
    model = make_pipeline(TfIdf(), LogisticRegression(max_iter=1000))
    search = GridSearchCV(
        model, {"tfidf__min_df": [1, 2], "tfidf__ngram_range": [(1, 1), (1, 2)]}, cv=3
    )
    search.fit(polarity_docs, labels)
    assert set(search.best_params_) == {"tfidf__min_df", "tfidf__ngram_range"}
    assert search.best_score_ > 0.5
    assert search.predict(polarity_docs[:5]).shape == (5,)


def test_config_models_accept_yaml_values():
    model = component_model("represent", "tfidf")
    params = model.model_validate({"ngram_range": [1, 2], "min_df": 2, "max_df": 0.9}).model_dump(
        mode="json"
    )
    assert (
        params["ngram_range"] == [1, 2] and params["min_df"] == 2 and params["variant"] == "sklearn"
    )
    learner = TfIdf(**params)
    learner.fit([["a", "b"], ["a", "b", "c"], ["b", "c"]])
    assert learner.terms_ == ["a", "a b", "b c", "c"]  # "b" is in all 3 documents: above max_df
    with pytest.raises(Exception, match="field"):
        model.model_validate({"field": "lemmas"})
