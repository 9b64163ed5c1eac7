"""The networks of the text classifiers: `nn.Module`s that define `forward` and nothing else.

Training (optimizer, loss, early stopping, devices) lives in `components.models.training`.
Sequence networks take `(ids (batch, time) int64, lengths (batch,) int64)` with pad id 0,
as `BucketBatcher` gives them; `MLP` takes a `(batch, features)` float tensor. Each returns
logits `(batch, num_classes)`. An embedding can start from a pretrained matrix (`freeze`
keeps it fixed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import nn

from .training.conv import ConvBlock

__all__ = ["MLP", "RNNClassifier", "TextCNN", "TransformerClassifier", "make_embedding"]

Cell = Literal["rnn", "lstm", "gru"]
Pooling = Literal["last", "max", "mean"]
Activation = Literal["relu", "leaky_relu", "elu", "tanh", "sigmoid", "linear"]


def make_embedding(
    vocab_size: int,
    embed_dim: int,
    *,
    padding_idx: int = 0,
    pretrained: Any = None,
    freeze: bool = False,
) -> nn.Embedding:
    """An `nn.Embedding`; from `pretrained` (array or tensor, shape (vocab_size, dim)) when given.

    The padding row is zero either way; `freeze` stops its training.
    """
    if pretrained is None:
        return nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
    weights = torch.as_tensor(pretrained, dtype=torch.float32).clone()
    weights[padding_idx] = 0.0
    return nn.Embedding.from_pretrained(weights, freeze=freeze, padding_idx=padding_idx)


def _padding_mask(ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """True at real tokens (positions below each row's length)."""
    positions = torch.arange(ids.shape[1], device=ids.device)
    return positions.unsqueeze(0) < lengths.to(ids.device).unsqueeze(1)


class RNNClassifier(nn.Module):
    """Embedding, a (bi)directional RNN/LSTM/GRU over packed sequences, pooling, dropout, linear.

    `pooling`: `last` (final hidden states, both directions concatenated), `max` or `mean`
    over the real time steps (padding never counts).
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = 100,
        hidden: int = 128,
        layers: int = 1,
        cell: Cell = "lstm",
        bidirectional: bool = False,
        dropout: float = 0.5,
        num_classes: int = 2,
        padding_idx: int = 0,
        pooling: Pooling = "max",
        pretrained: Any = None,
        freeze: bool = False,
    ):
        super().__init__()
        rnn_class = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.embedding = make_embedding(
            vocab_size, embed_dim, padding_idx=padding_idx, pretrained=pretrained, freeze=freeze
        )
        self.encoder = rnn_class(
            self.embedding.embedding_dim,
            hidden,
            num_layers=layers,
            bidirectional=bidirectional,
            batch_first=True,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden * (2 if bidirectional else 1), num_classes)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits `(batch, num_classes)`."""
        from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

        embedded = self.dropout(self.embedding(ids))
        packed = pack_padded_sequence(
            embedded, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        out, state = self.encoder(packed)
        if self.pooling == "last":
            h = state[0] if isinstance(state, tuple) else state  # LSTM: (h, c)
            directions = 2 if self.encoder.bidirectional else 1
            pooled = torch.cat([h[-d] for d in range(directions, 0, -1)], dim=1)
        else:
            padded, _ = pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
            mask = _padding_mask(ids, lengths).unsqueeze(-1)
            if self.pooling == "max":
                pooled = padded.masked_fill(~mask, float("-inf")).max(dim=1).values
            else:
                pooled = (padded * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.output(self.dropout(pooled))


class TextCNN(nn.Module):
    """Kim (2014): embedding, parallel Conv1d of `filter_sizes` widths, ReLU, max over time,
    dropout, linear. Sequences shorter than the widest filter must be padded to it.

    Each width is the shared `training.conv.ConvBlock` (1-D, valid padding, no fixed pool:
    the max over time is masked to the real tokens); its weights are
    `encoder.K.conv.weight/bias`, and folders saved with the former names load as well."""

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = 100,
        filter_sizes: Sequence[int] = (3, 4, 5),
        num_filters: int = 100,
        dropout: float = 0.5,
        num_classes: int = 2,
        padding_idx: int = 0,
        pretrained: Any = None,
        freeze: bool = False,
    ):
        super().__init__()
        self.embedding = make_embedding(
            vocab_size, embed_dim, padding_idx=padding_idx, pretrained=pretrained, freeze=freeze
        )
        dim = self.embedding.embedding_dim
        # the shared conv block (Conv1d + ReLU, no fixed pool: the max over time is masked)
        self.encoder = nn.ModuleList(
            ConvBlock(dim, num_filters, k, dims=1, padding="valid", pool="none")
            for k in filter_sizes
        )
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(num_filters * len(filter_sizes), num_classes)
        self.register_load_state_dict_pre_hook(_legacy_conv_names)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits `(batch, num_classes)`; windows reaching past each length are masked."""
        x = self.embedding(ids).transpose(1, 2)  # (batch, dim, time)
        lengths = lengths.to(ids.device)
        pooled = []
        for block in self.encoder:
            h = block(x)  # relu(conv): (batch, filters, time - k + 1)
            # only windows inside the text count (a text shorter than k keeps its first one),
            # so the amount of padding never changes the result
            last_start = (lengths - block.kernel_size).clamp(min=0)
            starts = torch.arange(h.shape[2], device=ids.device)
            valid = (starts.unsqueeze(0) <= last_start.unsqueeze(1)).unsqueeze(1)
            pooled.append(h.masked_fill(~valid, 0.0).max(dim=2).values)
        return self.output(self.dropout(torch.cat(pooled, dim=1)))


def _legacy_conv_names(module: nn.Module, state: dict[str, Any], prefix: str, *args: Any) -> None:
    """Rename the weights of a TextCNN saved before the shared `ConvBlock`
    (`encoder.K.weight` -> `encoder.K.conv.weight`), so older model folders and
    checkpoints still load."""
    import re

    pattern = re.compile(rf"^{re.escape(prefix)}encoder\.(\d+)\.(weight|bias)$")
    for key in [k for k in state if pattern.match(k)]:
        index, name = pattern.match(key).groups()  # type: ignore[union-attr]
        state[f"{prefix}encoder.{index}.conv.{name}"] = state.pop(key)


class TransformerClassifier(nn.Module):
    """Token plus learned position embeddings, `nn.TransformerEncoder` with a padding mask,
    mean over the real tokens, dropout, linear."""

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = 64,
        heads: int = 4,
        layers: int = 2,
        feedforward: int = 128,
        max_length: int = 256,
        dropout: float = 0.1,
        num_classes: int = 2,
        padding_idx: int = 0,
        pretrained: Any = None,
        freeze: bool = False,
    ):
        super().__init__()
        self.embedding = make_embedding(
            vocab_size, embed_dim, padding_idx=padding_idx, pretrained=pretrained, freeze=freeze
        )
        width = self.embedding.embedding_dim
        # attention splits the width between the heads: pretrained vectors of another width
        # (GloVe's 50 with 4 heads) are projected to the next multiple of `heads`
        dim = -(-width // heads) * heads
        self.project = nn.Linear(width, dim) if dim != width else nn.Identity()
        self.position = nn.Embedding(max_length, dim)
        layer = nn.TransformerEncoderLayer(
            dim, heads, dim_feedforward=feedforward, dropout=dropout, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(dim, num_classes)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits `(batch, num_classes)`."""
        positions = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
        x = self.project(self.embedding(ids)) + self.position(positions)
        real = _padding_mask(ids, lengths)
        h = self.encoder(x, src_key_padding_mask=~real)
        mask = real.unsqueeze(-1).to(h.dtype)
        pooled = (h * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.output(self.dropout(pooled))


class MLP(nn.Module):
    """A feed-forward network over a fixed feature vector: Linear + activation + dropout per
    width in `hidden`, then a linear output layer."""

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int] = (256, 128),
        activation: Activation = "relu",
        dropout: float = 0.5,
        num_classes: int = 2,
    ):
        super().__init__()
        activations = {
            "relu": nn.ReLU,
            "leaky_relu": nn.LeakyReLU,
            "elu": nn.ELU,
            "tanh": nn.Tanh,
            "sigmoid": nn.Sigmoid,
            "linear": nn.Identity,
        }
        layers: list[nn.Module] = []
        width = in_features
        for size in hidden:
            layers += [nn.Linear(width, size), activations[activation](), nn.Dropout(dropout)]
            width = size
        self.encoder = nn.Sequential(*layers)
        self.output = nn.Linear(width, num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Logits `(batch, num_classes)`."""
        return self.output(self.encoder(features))
