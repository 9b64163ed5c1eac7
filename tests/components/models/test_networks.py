"""The networks: padding never changes a text's output; pretrained embeddings load and freeze."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from components.models.networks import MLP, RNNClassifier, TextCNN, TransformerClassifier
from components.models.vocab import Vocabulary
from tests.components.models.training_fixtures import one_torch_thread, words  # noqa: F401


@pytest.fixture(scope="module")
def lee_ids(lee_texts):
    tokens = [words(t)[:40] for t in lee_texts[:20]]
    vocab = Vocabulary.build(tokens)
    return vocab, [vocab.encode(t) for t in tokens]


def _pad(seqs, width):
    ids = torch.zeros(len(seqs), width, dtype=torch.int64)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
    return ids, torch.tensor([len(s) for s in seqs])


NETWORKS = {
    "lstm-last": lambda n: RNNClassifier(
        n, 8, hidden=6, cell="lstm", pooling="last", num_classes=3
    ),
    "bigru-max": lambda n: RNNClassifier(
        n, 8, hidden=6, cell="gru", bidirectional=True, pooling="max", num_classes=3
    ),
    "rnn-mean-2layers": lambda n: RNNClassifier(
        n, 8, hidden=6, layers=2, cell="rnn", pooling="mean", num_classes=3
    ),
    "bilstm-last": lambda n: RNNClassifier(
        n, 8, hidden=6, cell="lstm", bidirectional=True, pooling="last", num_classes=3
    ),
    "textcnn": lambda n: TextCNN(n, 8, filter_sizes=(2, 3), num_filters=5, num_classes=3),
    "transformer": lambda n: TransformerClassifier(
        n, 16, heads=2, layers=2, feedforward=32, max_length=80, num_classes=3
    ),
}


@pytest.mark.parametrize("name", NETWORKS)
def test_padding_does_not_change_a_texts_logits(name, lee_ids):
    vocab, ids = lee_ids
    torch.manual_seed(0)
    net = NETWORKS[name](len(vocab)).eval()
    short, long = ids[0][:7], ids[1]
    with torch.no_grad():
        alone = net(*_pad([short], len(short)))
        batched = net(*_pad([short, long], 60))
    assert alone.shape == (1, 3) and batched.shape == (2, 3)
    assert torch.allclose(alone[0], batched[0], atol=1e-5)


def test_bidirectional_last_state_concatenates_both_directions(lee_ids):
    vocab, ids = lee_ids
    torch.manual_seed(0)
    net = RNNClassifier(
        len(vocab), 8, hidden=6, cell="gru", bidirectional=True, pooling="last", num_classes=2
    )
    assert net.output.in_features == 12


def test_pretrained_embedding_is_copied_and_frozen():
    matrix = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    frozen = TextCNN(10, 4, filter_sizes=(2,), num_filters=3, pretrained=matrix, freeze=True)
    assert not frozen.embedding.weight.requires_grad
    assert torch.equal(frozen.embedding.weight[1:], torch.from_numpy(matrix[1:]))
    assert not frozen.embedding.weight[0].any()  # padding row
    trainable = RNNClassifier(10, 4, pretrained=matrix, freeze=False)
    assert trainable.embedding.weight.requires_grad


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "elu", "tanh", "sigmoid", "linear"])
def test_mlp_layers_and_activations(activation):
    net = MLP(12, hidden=(8, 4), activation=activation, num_classes=3)
    assert [m.out_features for m in net.modules() if isinstance(m, torch.nn.Linear)] == [8, 4, 3]
    assert net(torch.randn(5, 12)).shape == (5, 3)
