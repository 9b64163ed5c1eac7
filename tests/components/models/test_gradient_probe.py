"""The gradient reaching each input position: vanishing in an Elman RNN, much less in an LSTM.

Real text: gensim's mini_newsgroup posts (Usenet, most over 100 tokens). The networks are
freshly initialised (seeded), read to their last token (`pooling: last`), so the only path
from the loss to an early word runs back through every later step.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from components.models.estimator import FitContext
from components.models.networks import MLP, RNNClassifier, TextCNN, TransformerClassifier
from components.models.neural import NEURAL
from components.models.training import (
    BucketBatcher,
    PositionGradientRecorder,
    Trainer,
    TrainingError,
    gradient_by_position,
)
from components.models.vocab import Vocabulary

MAX_LENGTH = 120


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Torch on one thread (the suite shares two cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def posts() -> tuple[list[list[str]], list[str]]:
    """The 200 mini_newsgroup posts as lowercase word tokens, and their labels."""
    from corpora.newsgroups import MiniNewsgroupsReader

    docs = list(MiniNewsgroupsReader().read())
    return [re.findall(r"[a-z0-9']+", d.text.lower()) for d in docs], [
        d.meta["label"] for d in docs
    ]


@pytest.fixture(scope="module")
def vocab(posts) -> Vocabulary:
    return Vocabulary.build(posts[0], min_count=1, max_size=50000)


def batches(posts, vocab, rows, *, max_length: int = MAX_LENGTH) -> BucketBatcher:
    texts, labels = posts
    classes = sorted(set(labels))
    return BucketBatcher(
        [vocab.encode(texts[i]) for i in rows],
        [classes.index(labels[i]) for i in rows],
        batch_size=len(rows),
        max_length=max_length,
        shuffle=False,
    )


def long_rows(posts, n: int, min_tokens: int = MAX_LENGTH) -> list[int]:
    return [i for i, t in enumerate(posts[0]) if len(t) >= min_tokens][:n]


def rnn(vocab, cell: str, seed: int) -> RNNClassifier:
    torch.manual_seed(seed)
    return RNNClassifier(len(vocab), 32, hidden=32, cell=cell, pooling="last", num_classes=2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_rnn_gradient_vanishes_with_distance_and_the_lstm_keeps_far_more(posts, vocab, seed):
    batch = batches(posts, vocab, long_rows(posts, 16))
    elman = gradient_by_position(rnn(vocab, "rnn", seed), batch)
    lstm = gradient_by_position(rnn(vocab, "lstm", seed), batch)
    assert len(elman.mean_norm) == MAX_LENGTH and elman.documents[100] == 16
    assert elman.mean_norm[0] > 0
    # measured over seeds 0-9: the rnn keeps 0.6-2.6e-4 of the last token's gradient at
    # 10 tokens, 0.7-19e-10 at 25, <1e-17 at 50 and exactly 0 (float32 underflow) at 100;
    # the untrained LSTM (forget gates near 0.5) 2.5-5.9e-3, 0.8-3.7e-6 and 0.2-2.5e-11:
    # 18-48x the rnn's at 10 tokens, 1,200-25,000x at 25
    assert elman.relative(100) < 1e-2
    assert elman.relative(50) < 1e-8
    assert elman.relative(25) < 1e-6
    assert lstm.relative(25) > 100 * elman.relative(25) > 0
    assert lstm.relative(10) > 5 * elman.relative(10)


def test_documents_count_each_distance_and_padding_gets_nothing(posts, vocab):
    rows = list(range(24))  # short and long posts together: plenty of padding
    lengths = [min(len(posts[0][i]), MAX_LENGTH) for i in rows]
    assert min(lengths) < MAX_LENGTH
    batch = batches(posts, vocab, rows)
    torch.manual_seed(0)
    networks = [
        rnn(vocab, "rnn", 0),
        rnn(vocab, "lstm", 0),
        RNNClassifier(len(vocab), 16, hidden=16, cell="gru", pooling="mean", num_classes=2),
        TextCNN(len(vocab), 16, num_filters=8, num_classes=2),
        TransformerClassifier(len(vocab), 16, heads=2, layers=1, max_length=MAX_LENGTH),
    ]
    for network in networks:
        result = gradient_by_position(network, batch)
        assert result.padding_max_norm == 0.0, type(network).__name__
        assert result.documents == [sum(n > d for n in lengths) for d in range(max(lengths))]
        assert all(v > 0 for v in result.mean_norm[:10])


def test_the_probe_leaves_parameters_mode_and_random_state_as_they_were(posts, vocab):
    network = rnn(vocab, "lstm", 0).eval()
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    result = gradient_by_position(network, batches(posts, vocab, range(40)), max_documents=10)
    assert result.documents[0] == 10
    assert all(p.grad is None for p in network.parameters())
    assert not network.training
    assert torch.equal(torch.rand(3), expected)


def test_probing_during_training_changes_no_weight(posts, vocab):
    rows = list(range(0, 200, 5))
    weights = []
    for probe in (False, True):
        network = rnn(vocab, "rnn", 3)
        train = batches(posts, vocab, rows, max_length=60)
        train.batch_size = 8
        recorder = PositionGradientRecorder(
            model=network, batches=batches(posts, vocab, rows[:8], max_length=60), epochs=(1, 2)
        )
        Trainer(epochs=2, lr=1e-2, seed=3).fit(
            network, train, log_epoch=recorder if probe else None
        )
        weights.append({k: v.clone() for k, v in network.state_dict().items()})
    assert [r["label"] for r in recorder.records_] == ["after epoch 1", "after epoch 2"]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_a_network_without_positions_is_refused_with_a_reason():
    features = BucketBatcher([[1, 2, 3]], [0], shuffle=False)
    with pytest.raises(TrainingError, match="no `embedding` module"):
        gradient_by_position(MLP(4, hidden=(4,)), features)


def test_a_sequence_estimator_writes_the_probe_and_the_mlp_does_not(posts, tmp_path):
    texts, labels = posts
    texts = [t[:80] for t in texts[:120]]
    validation = (texts[100:], labels[100:120])
    for name in ("rnn", "mlp"):
        workdir = tmp_path / name
        params = {"epochs": 2, "hidden": 16, "pooling": "last"} if name == "rnn" else {"epochs": 1}
        NEURAL[name](**params).fit(
            texts[:100], labels[:100], validation=validation, context=FitContext(workdir, seed=1)
        )
        if name == "mlp":
            assert not (workdir / "gradient_by_position.json").exists()
            continue
        record = json.loads((workdir / "gradient_by_position.json").read_text("utf-8"))
        assert record["architecture"] == "rnn"
        labels_seen = [r["label"] for r in record["records"]]
        assert labels_seen[0] == "after epoch 1" and labels_seen[-1].startswith("after training")
        for r in record["records"]:
            assert r["documents"][0] == 8  # 100 training documents: the 8-document floor
            assert np.all(np.diff(r["documents"]) <= 0) and r["padding_max_norm"] == 0.0
        assert (workdir / "gradient_by_position.png").stat().st_size > 10_000
