"""Our GloVe: the update rule checked by hand, loss decreasing and sensible neighbours on real news."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gensim.models import KeyedVectors

from components.represent import Cooccurrence, EmptyVocabularyError, GloVe
from components.represent.glove import train_glove

LEE = dict(
    vector_size=30, window=10, min_count=5, epochs=10, x_max=10.0, batch_size=4096, device="cpu"
)


@pytest.fixture(scope="module")
def lee_glove(lee_docs):
    return GloVe(**LEE).fit(lee_docs)


def test_one_epoch_matches_the_equations_computed_by_hand(lee_tokens):
    """One full batch: J = Σ f(X)(w·w̃ + b + b̃ − log X)², AdaGrad accumulators starting at 1."""
    matrix = Cooccurrence(window=2, weighting="harmonic").fit(lee_tokens[:3]).matrix_.tocoo()
    n, d, lr, x_max, alpha = matrix.shape[0], 8, 0.05, 10.0, 0.75
    vectors, biases, losses = train_glove(
        matrix, vector_size=d, x_max=x_max, alpha=alpha, learning_rate=lr, epochs=1,
        batch_size=matrix.nnz, seed=3, device="cpu",
    )  # fmt: skip
    gen = torch.Generator().manual_seed(3)
    w, wc = [((torch.rand(n, d, generator=gen) - 0.5) / d).double().numpy() for _ in range(2)]
    b, bc = [((torch.rand(n, generator=gen) - 0.5) / d).double().numpy() for _ in range(2)]
    i, j, x = matrix.row, matrix.col, matrix.data
    f = np.minimum(1.0, (x / x_max) ** alpha)
    diff = (w[i] * wc[j]).sum(1) + b[i] + bc[j] - np.log(x)
    assert losses[0] == pytest.approx(0.5 * (f * diff**2).sum() / matrix.nnz, rel=1e-5)
    fdiff = lr * f * diff
    gi, gj = fdiff[:, None] * wc[j], fdiff[:, None] * w[i]
    expected = []
    for param, idx, grad in ((w, i, gi), (wc, j, gj), (b, i, fdiff), (bc, j, fdiff)):
        acc = np.ones_like(param)
        np.add.at(acc, idx, grad**2)
        step = np.zeros_like(param)
        np.add.at(step, idx, grad)
        expected.append(param - step / np.sqrt(acc))
    np.testing.assert_allclose(vectors, expected[0] + expected[1], atol=2e-6)
    np.testing.assert_allclose(biases, expected[2] + expected[3], atol=2e-6)


def test_loss_decreases_and_neighbours_make_sense(lee_glove):
    losses = lee_glove.loss_history_
    assert len(losses) == LEE["epochs"]
    assert all(later < earlier for earlier, later in zip(losses, losses[1:], strict=False))
    assert losses[-1] < 0.6 * losses[0]
    near = {
        w: {n for n, _ in lee_glove.most_similar(w, 10)}
        for w in ("taliban", "palestinian", "police")
    }
    assert near["taliban"] & {
        "afghanistan",
        "afghan",
        "fighters",
        "kandahar",
        "qaeda",
        "al",
        "troops",
    }
    assert near["palestinian"] & {"israeli", "arafat", "yasser", "authority", "gaza", "israel"}
    assert near["police"] & {"officers", "officer", "arrested", "security", "forces"}
    assert lee_glove.wv_.index_to_key[0] == "the"


def test_seeded_reproducible_and_persisted(lee_docs, lee_glove, tmp_path):
    small = dict(LEE, epochs=2)
    first = GloVe(**small).fit(lee_docs[:100])
    second = GloVe(**small).fit(lee_docs[:100])
    np.testing.assert_array_equal(first.wv_.vectors, second.wv_.vectors)
    restored = GloVe.load(lee_glove.save(tmp_path / "glove"))
    np.testing.assert_array_equal(restored.wv_.vectors, lee_glove.wv_.vectors)
    assert restored.loss_history_ == lee_glove.loss_history_
    path = lee_glove.export(lee_docs, tmp_path / "out")["vectors"]
    kv = KeyedVectors.load_word2vec_format(str(path))
    np.testing.assert_array_equal(kv.vectors, lee_glove.wv_.vectors)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu(lee_docs):
    small = dict(LEE, epochs=2)
    cpu = GloVe(**small).fit(lee_docs[:100])
    cuda = GloVe(**{**small, "device": "cuda"}).fit(lee_docs[:100])
    np.testing.assert_allclose(cuda.wv_.vectors, cpu.wv_.vectors, atol=1e-4)


def test_empty_vocabulary_is_a_clear_error(lee_docs):
    with pytest.raises(EmptyVocabularyError, match="min_count=100000"):
        GloVe(min_count=100_000, device="cpu").fit(lee_docs[:5])
