"""The bucketing batcher: each sequence once per epoch, correct padding, seeded order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from components.models.training import BucketBatcher, FeatureBatcher
from components.models.vocab import Vocabulary
from tests.components.models.training_fixtures import one_torch_thread, words  # noqa: F401


@pytest.fixture(scope="module")
def lee_ids(lee_texts):
    tokens = [words(t) for t in lee_texts]
    vocab = Vocabulary.build(tokens, min_count=2)
    return [vocab.encode(t) for t in tokens]


def test_every_sequence_once_per_epoch_with_zero_padding(lee_ids):
    batcher = BucketBatcher(
        lee_ids, list(range(len(lee_ids))), batch_size=16, max_length=120, bucket_chunks=5
    )
    for _ in range(2):
        seen = []
        for batch in batcher:
            ids, lengths = batch.inputs
            assert ids.dtype == torch.int64 and ids.shape[1] == int(lengths.max())
            assert torch.equal(batch.target, batch.index)  # targets travel with their rows
            for row, i, n in zip(ids, batch.index.tolist(), lengths.tolist(), strict=True):
                expected = lee_ids[i][:120]
                assert n == len(expected)
                assert row[:n].tolist() == expected
                assert not row[n:].any()  # padding is id 0
            seen.extend(batch.index.tolist())
        assert sorted(seen) == list(range(len(lee_ids)))
    assert len(batcher) == -(-len(lee_ids) // 16)


def test_buckets_hold_similar_lengths(lee_ids):
    bucketed = BucketBatcher(lee_ids, None, batch_size=16, max_length=10_000, bucket_chunks=50)
    spread = np.mean([float(b.inputs[1].max() - b.inputs[1].min()) for b in bucketed])
    rng = np.random.default_rng(0)
    lengths = np.array([len(s) for s in lee_ids])
    random_spread = np.mean(
        [np.ptp(lengths[rng.permutation(len(lengths))[:16]]) for _ in range(50)]
    )
    assert spread < random_spread / 3


def test_same_seed_same_order_and_epochs_differ(lee_ids):
    def orders(seed):
        batcher = BucketBatcher(lee_ids, None, batch_size=16, seed=seed)
        return [[b.index.tolist() for b in batcher] for _ in range(2)]

    first, second = orders(7), orders(7)
    assert first == second
    assert first[0] != first[1]
    assert orders(8)[0] != first[0]


def test_generator_state_resumes_the_same_epoch_sequence(lee_ids):
    a = BucketBatcher(lee_ids, None, batch_size=16, seed=3)
    list(a)
    state = a.state_dict()
    expected = [b.index.tolist() for b in a]
    b = BucketBatcher(lee_ids, None, batch_size=16, seed=99)
    b.load_state_dict(state)
    assert [x.index.tolist() for x in b] == expected


def test_unshuffled_batches_keep_input_order_or_sort_by_length(lee_ids):
    plain = [b.index.tolist() for b in BucketBatcher(lee_ids, None, batch_size=32, shuffle=False)]
    assert sum(plain, []) == list(range(len(lee_ids)))
    by_length = BucketBatcher(lee_ids, None, batch_size=32, shuffle=False, sort_by_length=True)
    maxima = [int(b.inputs[1].max()) for b in by_length]
    assert maxima == sorted(maxima)


def test_empty_and_short_sequences_are_padded_to_min_length():
    batch = next(iter(BucketBatcher([[], [5, 6]], None, min_length=5, shuffle=False)))
    ids, lengths = batch.inputs
    assert ids.shape == (2, 5)
    assert lengths.tolist() == [1, 2]
    assert ids.tolist() == [[0, 0, 0, 0, 0], [5, 6, 0, 0, 0]]


def test_feature_batcher_densifies_sparse_rows_once_per_epoch():
    from scipy import sparse

    matrix = sparse.random(50, 7, density=0.3, format="csr", random_state=0, dtype=np.float64)
    batcher = FeatureBatcher(matrix, np.arange(50), batch_size=8, seed=1)
    rows = []
    for batch in batcher:
        (x,) = batch.inputs
        assert x.dtype == torch.float32
        assert np.allclose(x.numpy(), matrix[batch.index.numpy()].toarray())
        rows.extend(batch.index.tolist())
    assert sorted(rows) == list(range(50))
