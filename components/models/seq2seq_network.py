"""The seq2seq network: RNN encoder, attentive RNN decoder, optional copying and coverage.

`Seq2SeqNetwork` encodes the source with an LSTM or GRU (bidirectional: each direction
`hidden_size // 2` wide, so the memory is `hidden_size` wide and Luong's dot score needs
no projection), bridges the final states into the decoder's first state (linear + tanh),
and decodes one token per `step` with input feeding (the previous context goes into the
cell). Attention over the source, padding masked, scores the decoder's current state:
`bahdanau` (additive, `v·tanh(W_h h_i + W_s s_t)`, as See et al. 2017 use it), `dot`
(`s_t·h_i`) or `general` (`s_t·W h_i`). With `copy`, a pointer-generator (See et al.
2017) mixes the vocabulary distribution with the attention scattered onto each source's
extended vocabulary (ids >= `vocab_size` are that source's out-of-vocabulary words, fed
back to the decoder as UNK). With `coverage`, the running sum of past attention enters
the scores and `coverage_weight * sum_i min(a_i, c_i)` is added to each step's loss.

`forward` (teacher forcing, ratio `teacher_forcing`, read at each call) returns the
log-probabilities of the real target positions, one row each, for the Trainer's
`cross_entropy` (rows already normalized, so it is the NLL). In training mode, coverage
rides along in one extra last column `z = log(exp(x) - 1)`, `x` the step's weighted
coverage loss: the log-sum-exp of a normalized row plus that column is exactly `x`, so
cross-entropy adds it to the NLL (validation rows have no such column: plain NLL).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .seq2seq_data import BOS_ID, EOS_ID, PAD_ID, UNK_ID

__all__ = ["BOS_ID", "EOS_ID", "PAD_ID", "UNK_ID", "Seq2SeqNetwork", "SourceAttention"]


class SourceAttention(nn.Module):
    """Attention weights over the real source positions (padding masked) and the context.

    `keys(memory)` is computed once per source; `forward(query, keys, memory, mask,
    coverage)` gives `(weights (B, S), context (B, H))`, each row of weights summing to 1
    over the unmasked positions.
    """

    def __init__(self, kind: str, size: int, *, coverage: bool):
        super().__init__()
        self.kind = kind
        if kind == "bahdanau":
            self.memory_proj: nn.Module = nn.Linear(size, size, bias=False)
            self.query_proj = nn.Linear(size, size)
            self.v = nn.Linear(size, 1, bias=False)
            self.coverage_proj = nn.Linear(1, size, bias=False) if coverage else None
        else:
            self.memory_proj = (
                nn.Linear(size, size, bias=False) if kind == "general" else nn.Identity()
            )
            self.coverage_scale = nn.Parameter(torch.zeros(1)) if coverage else None

    def keys(self, memory: torch.Tensor) -> torch.Tensor:
        """The projected source states the scores compare the query with."""
        return self.memory_proj(memory)

    def forward(
        self,
        query: torch.Tensor,
        keys: torch.Tensor,
        memory: torch.Tensor,
        mask: torch.Tensor,
        coverage: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Weights `(B, S)` (0 on padding) and context `(B, H)` for decoder states `query`."""
        if self.kind == "bahdanau":
            features = keys + self.query_proj(query).unsqueeze(1)
            if coverage is not None and self.coverage_proj is not None:
                features = features + self.coverage_proj(coverage.unsqueeze(-1))
            scores = self.v(torch.tanh(features)).squeeze(-1)
        else:
            scores = torch.bmm(keys, query.unsqueeze(-1)).squeeze(-1)
            if coverage is not None and self.coverage_scale is not None:
                scores = scores + self.coverage_scale * coverage
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)
        return weights, context


class Seq2SeqNetwork(nn.Module):
    """Encoder-decoder with attention (see the module docstring); ids 0-3 are PAD, UNK,
    BOS, EOS. `pretrained`: an initial `(vocab_size, embed_dim)` embedding matrix."""

    def __init__(
        self,
        *,
        vocab_size: int,
        embed_dim: int = 128,
        hidden_size: int = 256,
        cell: str = "lstm",
        bidirectional: bool = True,
        attention: str = "bahdanau",
        copy: bool = False,
        coverage: bool = False,
        coverage_weight: float = 1.0,
        share_embeddings: bool = True,
        dropout: float = 0.1,
        pretrained: Any = None,
    ):
        super().__init__()
        if bidirectional and hidden_size % 2:
            raise ValueError(f"hidden_size {hidden_size}: must be even for a bidirectional encoder")
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.cell = cell
        self.copy = copy
        self.coverage = coverage
        self.coverage_weight = coverage_weight
        self.teacher_forcing = 1.0  # set by the task between epochs
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD_ID)
        if pretrained is not None:
            self.embedding.weight.data.copy_(torch.as_tensor(pretrained))
        self.decoder_embedding = (
            None if share_embeddings else nn.Embedding(vocab_size, embed_dim, padding_idx=PAD_ID)
        )
        if pretrained is not None and self.decoder_embedding is not None:
            self.decoder_embedding.weight.data.copy_(torch.as_tensor(pretrained))
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.encoder = rnn(
            embed_dim,
            hidden_size // 2 if bidirectional else hidden_size,
            batch_first=True,
            bidirectional=bidirectional,
        )
        self.bridge = nn.Linear(hidden_size, hidden_size)
        self.bridge_cell = nn.Linear(hidden_size, hidden_size) if cell == "lstm" else None
        decoder_cell = nn.LSTMCell if cell == "lstm" else nn.GRUCell
        self.decoder = decoder_cell(embed_dim + hidden_size, hidden_size)
        self.attention = SourceAttention(attention, hidden_size, coverage=coverage)
        self.combine = nn.Linear(2 * hidden_size, hidden_size)
        self.output = nn.Linear(hidden_size, vocab_size)
        self.pointer = nn.Linear(2 * hidden_size + embed_dim, 1) if copy else None
        self.dropout = nn.Dropout(dropout)

    # -- encoding ------------------------------------------------------------------------
    def encode(
        self, source: torch.Tensor, lengths: torch.Tensor, source_ext: torch.Tensor
    ) -> dict[str, Any]:
        """The decoder's first state for a batch of sources `(B, S)` of `lengths` (>= 1);
        `source_ext` holds the same tokens in the extended vocabulary (used by `copy`)."""
        batch, width = source.shape
        embedded = self.dropout(self.embedding(source))
        packed = nn.utils.rnn.pack_padded_sequence(
            embedded, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False
        )
        outputs, final = self.encoder(packed)
        memory, _ = nn.utils.rnn.pad_packed_sequence(outputs, batch_first=True, total_length=width)
        h_n = final[0] if self.cell == "lstm" else final
        last = torch.cat([h_n[-2], h_n[-1]], dim=-1) if self.encoder.bidirectional else h_n[-1]
        state: dict[str, Any] = {
            "h": torch.tanh(self.bridge(last)),
            "context": memory.new_zeros(batch, self.hidden_size),
            "memory": memory,
            "keys": self.attention.keys(memory),
            "mask": torch.arange(width, device=source.device).unsqueeze(0) < lengths.unsqueeze(1),
            "source_ext": source_ext,
        }
        if self.bridge_cell is not None:
            c_n = final[1]
            last_c = (
                torch.cat([c_n[-2], c_n[-1]], dim=-1) if self.encoder.bidirectional else c_n[-1]
            )
            state["c"] = torch.tanh(self.bridge_cell(last_c))
        if self.coverage:
            state["coverage"] = memory.new_zeros(batch, width)
        return state

    def extended_size(self, state: dict[str, Any]) -> int:
        """The width of the output distribution: the vocabulary plus the batch's source OOVs."""
        if not self.copy:
            return self.vocab_size
        return max(self.vocab_size, int(state["source_ext"].max()) + 1)

    # -- one decoding step ---------------------------------------------------------------
    def step(
        self, last_tokens: torch.Tensor, state: dict[str, Any]
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        """Log-probabilities `(B, V_ext)` of the next token after `last_tokens` `(B,)` and
        the next state (with this step's `attention` weights and `coverage_loss`)."""
        last_tokens = last_tokens.to(state["h"].device)
        inputs = last_tokens.masked_fill(last_tokens >= self.vocab_size, UNK_ID)
        table = self.decoder_embedding or self.embedding
        embedded = self.dropout(table(inputs))
        cell_input = torch.cat([embedded, state["context"]], dim=-1)
        new = dict(state)
        if self.cell == "lstm":
            new["h"], new["c"] = self.decoder(cell_input, (state["h"], state["c"]))
        else:
            new["h"] = self.decoder(cell_input, state["h"])
        coverage = state.get("coverage")
        weights, context = self.attention(
            new["h"], state["keys"], state["memory"], state["mask"], coverage
        )
        new["context"], new["attention"] = context, weights
        if coverage is not None:
            new["coverage_loss"] = torch.minimum(weights, coverage).sum(dim=-1)
            new["coverage"] = coverage + weights
        hidden = self.dropout(torch.tanh(self.combine(torch.cat([new["h"], context], dim=-1))))
        never = torch.tensor([PAD_ID, BOS_ID], device=hidden.device)
        logits = self.output(hidden).index_fill(1, never, float("-inf"))
        if self.pointer is None:
            return F.log_softmax(logits, dim=-1), new
        p_gen = torch.sigmoid(self.pointer(torch.cat([context, new["h"], embedded], dim=-1)))
        dist = logits.new_zeros(len(logits), self.extended_size(state))
        dist[:, : self.vocab_size] = p_gen * torch.softmax(logits, dim=-1)
        dist = dist.scatter_add(1, state["source_ext"], (1.0 - p_gen) * weights)
        return torch.log(dist.clamp_min(1e-12)), new

    @staticmethod
    def reorder(state: dict[str, Any], indices: torch.Tensor) -> dict[str, Any]:
        """The state of the rows `indices` (beam search keeps, repeats and drops rows)."""
        return {
            k: v.index_select(0, indices) if torch.is_tensor(v) else v for k, v in state.items()
        }

    # -- training ------------------------------------------------------------------------
    def forward(
        self,
        source: torch.Tensor,
        lengths: torch.Tensor,
        source_ext: torch.Tensor,
        target_in: torch.Tensor,
        target_lengths: torch.Tensor,
    ) -> torch.Tensor:
        """Log-probabilities of every real target position `(N, V_ext [+1 with coverage])`,
        rows in (batch, time) order; `target_in` starts with BOS. In training mode, each
        step feeds the gold token with probability `teacher_forcing`, else the model's own
        previous argmax (scheduled sampling)."""
        state = self.encode(source, lengths, source_ext)
        ratio = float(self.teacher_forcing) if self.training else 1.0
        rows, penalties = [], []
        last = target_in[:, 0]
        for t in range(target_in.shape[1]):
            if t > 0:
                gold = target_in[:, t]
                if ratio < 1.0:
                    own = torch.rand(len(gold), device=gold.device) >= ratio
                    last = torch.where(own, rows[-1].detach().argmax(dim=-1), gold)
                else:
                    last = gold
            log_probs, state = self.step(last, state)
            rows.append(log_probs)
            if self.coverage:
                penalties.append(state["coverage_loss"])
        mask = torch.arange(target_in.shape[1], device=source.device).unsqueeze(
            0
        ) < target_lengths.unsqueeze(1)
        out = torch.stack(rows, dim=1)[mask]
        if self.coverage and self.coverage_weight > 0 and self.training:
            x = (self.coverage_weight * torch.stack(penalties, dim=1)[mask]).clamp_min(1e-6)
            column = x + torch.log(-torch.expm1(-x))  # log(exp(x) - 1), stably
            out = torch.cat([out, column.unsqueeze(-1)], dim=-1)
        return out
