"""The word-level LSTM language model's network, its batches and its vocabulary mapping.

`LstmLanguageModel` (an `nn.Module`: `forward` gives next-token logits for the training
core; `step`/`reorder` drive `components.models.decoding`). `ChunkBatcher` cuts one token
stream into equal windows (truncated back-propagation through time). `map_vocabulary`
carries a trained model's rows over to a new vocabulary for fine-tuning.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .training import Batch
from .vocab import Vocabulary

__all__ = [
    "ChunkBatcher",
    "LstmLanguageModel",
    "detokenize",
    "generate",
    "id_stream",
    "log_likelihoods",
    "map_vocabulary",
    "split_documents",
    "start_from",
    "token_chunks",
    "with_perplexity",
]

IGNORE = -100  # the cross-entropy loss's default ignore_index
#: the state-dict entries with one row per vocabulary word
VOCAB_ROWS = ("embedding.weight", "decoder.weight", "decoder.bias")


class LstmLanguageModel(nn.Module):
    """Embedding -> dropout -> stacked LSTM -> dropout -> (projection) -> linear over the vocabulary.

    With `tie_weights` the output layer shares the embedding matrix (Press & Wolf 2017);
    when `hidden != embed_dim` a linear projection maps the LSTM output to `embed_dim`.
    State-dict keys: `embedding.weight`, `lstm.weight_ih_l{k}`, `lstm.weight_hh_l{k}`,
    `lstm.bias_ih_l{k}`, `lstm.bias_hh_l{k}` (k = 0..layers-1), `projection.*` (if any),
    `decoder.weight` (the embedding when tied), `decoder.bias`.
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        embed_dim: int = 64,
        hidden: int = 128,
        layers: int = 2,
        dropout: float = 0.3,
        tie_weights: bool = True,
    ):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(
            embed_dim,
            hidden,
            num_layers=layers,
            dropout=dropout if layers > 1 else 0.0,
            batch_first=True,
        )
        out_dim = embed_dim if tie_weights else hidden
        self.projection = (
            nn.Linear(hidden, embed_dim) if tie_weights and hidden != embed_dim else None
        )
        self.decoder = nn.Linear(out_dim, vocab_size)
        if tie_weights:
            self.decoder.weight = self.embedding.weight

    def hidden_states(self, ids: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """LSTM outputs `(batch, time, hidden)` for `ids` `(batch, time)` and the final state."""
        output, state = self.lstm(self.dropout(self.embedding(ids)), state)
        return output, state

    def logits(self, output: torch.Tensor) -> torch.Tensor:
        """Scores over the vocabulary for LSTM outputs (any leading shape)."""
        output = self.dropout(output)
        if self.projection is not None:
            output = self.projection(output)
        return self.decoder(output)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Next-token logits for every position of `ids` `(batch, time)`, as `(batch*time, V)`."""
        output, _ = self.hidden_states(ids)
        return self.logits(output).reshape(-1, self.decoder.out_features)

    def step(self, last: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """One decoding step: log-probabilities `(B, V)` after tokens `last` `(B,)`."""
        output, state = self.hidden_states(last.unsqueeze(1), state)
        return torch.log_softmax(self.logits(output[:, -1]), dim=-1), state

    @staticmethod
    def reorder(state: Any, indices: torch.Tensor) -> Any:
        """The LSTM state `(h, c)` keeping the batch rows `indices` (for beam search)."""
        h, c = state
        return h[:, indices], c[:, indices]


def token_chunks(stream: Sequence[int], length: int) -> np.ndarray:
    """`stream` cut into windows of `length + 1` ids (inputs and shifted targets), the last
    one padded with 0 (its padded targets are ignored)."""
    ids = np.asarray(stream, dtype=np.int64)
    n = max(1, -(-(len(ids) - 1) // length))
    out = np.zeros((n, length + 1), dtype=np.int64)
    for i in range(n):
        window = ids[i * length : i * length + length + 1]
        out[i, : len(window)] = window
    return out


class ChunkBatcher:
    """Batches of token windows: `inputs = (ids (B, T),)`, `target` the next ids flattened
    `(B*T,)` with padding as -100. Restartable; with `shuffle`, a seeded order per epoch
    (its generator's state goes into checkpoints)."""

    def __init__(
        self, chunks: np.ndarray, *, batch_size: int = 32, shuffle: bool = True, seed: int = 0
    ):
        self.chunks = torch.from_numpy(chunks)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-len(self.chunks) // self.batch_size)

    def state_dict(self) -> dict[str, Any]:
        """The generator's state, for checkpoints."""
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore `state_dict()`'s output."""
        self.generator.set_state(state["generator"])

    def __iter__(self) -> Iterator[Batch]:
        n = len(self.chunks)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]
            block = self.chunks[rows]
            target = block[:, 1:].clone()
            target[target == 0] = IGNORE
            yield Batch((block[:, :-1],), target.reshape(-1), rows)


def map_vocabulary(
    old_words: Sequence[str],
    new_words: Sequence[str],
    old_state: dict[str, torch.Tensor],
    new_state: dict[str, torch.Tensor],
    *,
    seed: int = 0,
) -> tuple[dict[str, torch.Tensor], list[int]]:
    """`new_state` with the vocabulary-sized rows (embedding, decoder) taken from `old_state`
    for words both vocabularies hold, and every other tensor copied; a new word's row is the
    mean of the old rows plus small seeded noise (1% of their std). Returns the state and,
    per new id, its old id (-1 for a new word)."""
    old_index = {w: i for i, w in enumerate(old_words)}
    mapping = [old_index.get(w, -1) for w in new_words]
    known = torch.tensor([i for i, o in enumerate(mapping) if o >= 0], dtype=torch.long)
    sources = torch.tensor([o for o in mapping if o >= 0], dtype=torch.long)
    fresh = torch.tensor([i for i, o in enumerate(mapping) if o < 0], dtype=torch.long)
    generator = torch.Generator().manual_seed(seed)
    out = {}
    for key, value in new_state.items():
        old = old_state[key]
        if key not in VOCAB_ROWS:
            out[key] = old.clone()
            continue
        rows = torch.empty_like(value)
        rows[known] = old[sources]
        if len(fresh):
            mean, std = old[2:].mean(dim=0), old[2:].std() * 0.01
            noise = torch.randn((len(fresh), *value.shape[1:]), generator=generator)
            rows[fresh] = mean + noise * std
        out[key] = rows
    return out, mapping


NO_SPACE_BEFORE = frozenset(".,;:!?%)]}'")
NO_SPACE_AFTER = frozenset("([{$")


def detokenize(words: Sequence[str]) -> str:
    """Words joined by spaces, without one before closing punctuation or a clitic (`'s`,
    `n't`) nor after an opening bracket; double quotes alternate opening and closing."""
    out: list[str] = []
    quoted = glue_next = False
    for word in words:
        if word == '"':
            quoted = not quoted
            glued = not quoted  # a closing quote sticks to the word before it
        else:
            glued = word[:1] in NO_SPACE_BEFORE or word.lower() == "n't"
        if out and not glued and not glue_next:
            out.append(" ")
        out.append(word)
        glue_next = word[-1:] in NO_SPACE_AFTER or (word == '"' and quoted)
    return "".join(out)


def log_likelihoods(
    network: LstmLanguageModel, vocab: Any, token_lists: Sequence[Sequence[str]]
) -> list[tuple[int, float]]:
    """Per token list: its length n and the natural-log likelihood summed over its n tokens,
    each predicted from the start-of-text (`<eos>`) and the tokens before it; an unknown
    word is scored as `<unk>`; the end of the text is not scored."""
    eos = vocab.index["<eos>"]
    network.eval()
    out = []
    with torch.no_grad():
        for words in token_lists:
            ids = torch.tensor([[eos, *vocab.encode(words)]], dtype=torch.long)
            if ids.shape[1] < 2:
                out.append((0, 0.0))
                continue
            total, state = 0.0, None
            for start in range(0, ids.shape[1] - 1, 512):
                window = ids[:, start : start + 513]
                output, state = network.hidden_states(window[:, :-1], state)
                log_p = torch.log_softmax(network.logits(output), dim=-1)[0]
                total += float(log_p.gather(1, window[0, 1:].unsqueeze(1)).sum())
            out.append((ids.shape[1] - 1, total))
    return out


class _Banned:
    """A model's decoding step with padding and the unknown word never chosen."""

    def __init__(self, network: LstmLanguageModel, banned: Sequence[int]):
        self.network = network
        self.banned = list(banned)

    def __call__(self, last: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        log_probs, state = self.network.step(last, state)
        log_probs[:, self.banned] = float("-inf")
        return log_probs, state


def generate(
    network: LstmLanguageModel,
    prompt: Sequence[int],
    *,
    eos_id: int,
    strategy: str,
    max_length: int,
    min_length: int = 0,
    beam: int = 4,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    repetition_penalty: float = 1.0,
    seed: int = 0,
) -> list[int]:
    """The ids continuing `prompt` (ids; may be empty or all unknown) until `<eos>` or
    `max_length`: `greedy`, `beam` (GNMT length penalty 1.0) or, for `sample` / `top-k` /
    `top-p`, drawn with `temperature`, `top_k`, `top_p` and `repetition_penalty` from a
    generator seeded with `seed` (per call, so each prompt's text depends on it alone)."""
    from .decoding import beam_search, greedy, sample

    network.eval()
    context = [eos_id, *prompt]
    step = _Banned(network, [0, 1])
    with torch.no_grad():
        state = None
        if len(context) > 1:
            _, state = network.hidden_states(torch.tensor([context[:-1]], dtype=torch.long))
        common = {"bos_id": context[-1], "eos_id": eos_id, "max_length": max_length}
        if strategy == "greedy":
            return greedy(step, state, min_length=min_length, **common)[0]
        if strategy == "beam":
            return beam_search(
                step, state, network.reorder, beam=beam, min_length=min_length,
                context=context[:-1], **common,
            )  # fmt: skip
        return sample(
            step,
            state,
            min_length=min_length,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            repetition_penalty=repetition_penalty,
            generator=torch.Generator().manual_seed(seed),
            context=context[:-1],
            **common,
        )


def split_documents(n: int, fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Seeded document split: (training indices, validation indices), each sorted; at
    least one training document, no validation part when `fraction` is 0 or n < 2."""
    k = min(int(round(n * fraction)) if n >= 2 else 0, max(n - 1, 0))
    order = np.random.default_rng(seed).permutation(n)
    return sorted(order[k:].tolist()), sorted(order[:k].tolist())


def id_stream(docs: Sequence[Sequence[str]], vocab: Vocabulary, eos: int) -> list[int]:
    """All documents as one id stream: `<eos>` before each and after the last."""
    out: list[int] = []
    for words in docs:
        out.append(eos)
        out.extend(vocab.encode(words))
    out.append(eos)
    return out


def with_perplexity(history: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Trainer's history rows without gradient norms, with `train_perplexity` and
    `val_perplexity` (exp of the mean token losses; capped at exp(50))."""
    rows = []
    for row in history:
        out = {k: v for k, v in row.items() if k != "grad_norms"}
        out["train_perplexity"] = float(np.exp(min(row["train_loss"], 50.0)))
        if "val_loss" in row:
            out["val_perplexity"] = float(np.exp(min(row["val_loss"], 50.0)))
        rows.append(out)
    return rows


def start_from(
    old: tuple[Vocabulary, dict[str, torch.Tensor], dict[str, Any]],
    corpus_words: Sequence[str],
    policy: str,
    seed: int,
) -> tuple[Vocabulary, LstmLanguageModel, dict[str, Any]]:
    """A network for fine-tuning: the trained model `old` (vocabulary, state, config) moved
    onto the vocabulary `policy` gives (`union`: the old words, ids unchanged, then the
    corpus' new ones; `new`: the corpus' words), with `map_vocabulary`'s rows. Returns the
    vocabulary, the network and the mapping record (counts and each id's old id, -1: new)."""
    old_vocab, old_state, config = old
    if policy == "union":
        known = set(old_vocab.words)
        words = [*old_vocab.words[2:], *(w for w in corpus_words if w not in known)]
    else:
        words = ["<eos>", *corpus_words]
    vocab = Vocabulary(words)
    network = LstmLanguageModel(
        len(vocab),
        **{k: config[k] for k in ("layers", "embed_dim", "hidden", "dropout", "tie_weights")},
    )
    state, old_ids = map_vocabulary(
        old_vocab.words, vocab.words, old_state, network.state_dict(), seed=seed
    )
    network.load_state_dict(state)
    mapping = {
        "init_vocabulary": policy,
        "kept": sum(1 for o in old_ids[2:] if o >= 0),
        "new": sum(1 for o in old_ids if o < 0),
        "old_ids": old_ids,
    }
    return vocab, network, mapping
