"""Word2Vec and FastText: identical to bare gensim, reproducible, OOV vectors, persistence."""

from __future__ import annotations

import numpy as np
import pytest
from gensim.models import FastText as GensimFastText
from gensim.models import KeyedVectors
from gensim.models import Word2Vec as GensimWord2Vec

from components.represent import EmptyVocabularyError, FastText, RepresentError, Word2Vec

SMALL = dict(vector_size=32, window=5, min_count=3, epochs=3, seed=7, workers=1)


@pytest.mark.parametrize(
    "variant", [dict(sg=1, negative=5), dict(sg=0, negative=5), dict(sg=1, hs=1, negative=0)]
)
def test_word2vec_equals_bare_gensim_and_is_reproducible(lee_docs, lee_tokens, variant):
    ours = Word2Vec(**SMALL, **variant).fit(lee_docs)
    bare = GensimWord2Vec(lee_tokens, **SMALL, **variant)
    assert ours.wv_.index_to_key == bare.wv.index_to_key
    np.testing.assert_array_equal(ours.wv_.vectors, bare.wv.vectors)
    again = Word2Vec(**SMALL, **variant).fit(lee_docs)
    np.testing.assert_array_equal(again.wv_.vectors, ours.wv_.vectors)
    other_seed = Word2Vec(**{**SMALL, "seed": 8}, **variant).fit(lee_docs)
    assert not np.array_equal(other_seed.wv_.vectors, ours.wv_.vectors)


def test_fasttext_equals_gensim_and_gives_oov_vectors(lee_docs, lee_tokens, tmp_path):
    params = dict(SMALL, bucket=50_000, sg=1)
    ours = FastText(**params).fit(lee_docs)
    bare = GensimFastText(lee_tokens, **params)
    np.testing.assert_array_equal(ours.wv_.vectors, bare.wv.vectors)
    unseen = "afghanistanization"
    assert unseen not in ours.wv_.key_to_index
    vector = ours.wv_[unseen]
    assert np.linalg.norm(vector) > 0
    np.testing.assert_array_equal(vector, bare.wv[unseen])
    # the OOV vector is close to its in-vocabulary stem's
    assert ours.wv_.similarity(unseen, "afghanistan") > 0.5
    restored = FastText.load(ours.save(tmp_path / "ft"))
    np.testing.assert_array_equal(restored.wv_[unseen], vector)
    np.testing.assert_array_equal(restored.wv_.vectors, ours.wv_.vectors)
    docs = restored.transform([["afghanistanization", "taliban"]])
    assert docs.shape == (1, 32) and np.linalg.norm(docs) > 0


def test_save_load_export_roundtrip(lee_docs, tmp_path):
    learner = Word2Vec(**SMALL).fit(lee_docs)
    folder = learner.save(tmp_path / "w2v")
    assert not list(folder.glob("*.pkl")) and not list(folder.glob("*.model"))
    restored = Word2Vec.load(folder)
    np.testing.assert_array_equal(restored.wv_.vectors, learner.wv_.vectors)
    assert restored.wv_.index_to_key == learner.wv_.index_to_key
    np.testing.assert_array_equal(restored.transform(lee_docs[:5]), learner.transform(lee_docs[:5]))
    path = learner.export(lee_docs, tmp_path / "out")["vectors"]
    kv = KeyedVectors.load_word2vec_format(str(path))
    np.testing.assert_array_equal(kv.vectors, learner.wv_.vectors)


def test_clear_errors(lee_docs):
    with pytest.raises(EmptyVocabularyError, match="min_count"):
        Word2Vec(min_count=100_000).fit(lee_docs[:10])
    with pytest.raises(RepresentError, match="restartable"):
        Word2Vec(**SMALL).fit(doc for doc in lee_docs)
