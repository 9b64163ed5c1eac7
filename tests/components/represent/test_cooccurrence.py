"""Co-occurrence counts against a brute-force count on real text; PPMI by hand; one streaming pass."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from components.represent import Cooccurrence, EmptyVocabularyError, ppmi


def _brute_force(token_lists, window, harmonic):
    counts = defaultdict(float)
    for tokens in token_lists:
        for i, word in enumerate(tokens):
            for d in range(1, window + 1):
                if i + d < len(tokens):
                    weight = 1.0 / d if harmonic else 1.0
                    counts[word, tokens[i + d]] += weight
                    counts[tokens[i + d], word] += weight
    return counts


@pytest.mark.parametrize("weighting", ["none", "harmonic"])
def test_counts_equal_a_brute_force_count(lee_tokens, weighting):
    docs = lee_tokens[:40]
    learner = Cooccurrence(window=4, weighting=weighting).fit(docs)
    expected = _brute_force(docs, 4, weighting == "harmonic")
    matrix = learner.matrix_
    assert matrix.nnz == len(expected)
    assert (matrix != matrix.T).nnz == 0
    index = learner.vocabulary_
    for (a, b), value in list(expected.items())[:3000]:
        assert matrix[index[a], index[b]] == pytest.approx(value, abs=1e-9)
    assert matrix.sum() == pytest.approx(sum(expected.values()))


def test_vocabulary_is_most_frequent_first_and_min_count_prunes(lee_tokens):
    learner = Cooccurrence(window=2, min_count=3).fit(lee_tokens)
    counts = learner.word_counts_
    assert learner.words_[0] == "the" and np.all(np.diff(counts) <= 0) and counts.min() >= 3
    full = Cooccurrence(window=2).fit(lee_tokens)
    kept = [full.vocabulary_[w] for w in learner.words_]
    sub = full.matrix_[kept][:, kept]
    assert abs(sub - learner.matrix_).max() == 0  # pruning removes rows/columns, nothing else


def test_one_streaming_pass_over_a_generator(lee_docs):
    passes = []

    def stream():
        passes.append(1)
        yield from lee_docs[:30]

    learner = Cooccurrence(window=3).fit(stream())
    assert len(passes) == 1 and learner.matrix_.nnz > 0


def test_ppmi_by_hand(lee_tokens):
    learner = Cooccurrence(window=3, min_count=5, ppmi=True, context_smoothing=0.75).fit(
        lee_tokens[:60]
    )
    dense = learner.matrix_.toarray()
    total = dense.sum()
    pw = dense.sum(axis=1) / total
    pc = dense.sum(axis=0) ** 0.75
    pc /= pc.sum()
    with np.errstate(divide="ignore"):
        expected = np.maximum(np.log(dense / total / np.outer(pw, pc)), 0)
    np.testing.assert_allclose(learner.ppmi_.toarray(), expected, atol=1e-10)
    assert np.allclose(ppmi(learner.matrix_, 0.75).toarray(), expected)


def test_transform_save_load_export(lee_docs, tmp_path):
    learner = Cooccurrence(window=3, min_count=2, ppmi=True).fit(lee_docs)
    rows = learner.transform(lee_docs[:3])
    assert rows.shape == (3, len(learner.words_))
    restored = Cooccurrence.load(learner.save(tmp_path / "cooc"))
    assert restored.words_ == learner.words_
    assert abs(restored.matrix_ - learner.matrix_).max() == 0
    assert abs(restored.transform(lee_docs[:3]) - rows).max() == 0
    paths = learner.export(lee_docs, tmp_path / "out")
    assert {"matrix", "vocabulary", "ppmi"} <= set(paths)
    with pytest.raises(EmptyVocabularyError, match="no word left"):
        Cooccurrence(min_count=10_000).fit(lee_docs[:5])
