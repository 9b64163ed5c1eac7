"""The data side of the `seq2seq` task: target words, token ids, batches, decoding, outputs.

Targets are tokenized with `TARGET_PATTERN` (the regex tokenizer's default words and
numbers, without placeholders and punctuation), lowercased. A source's extended
vocabulary (copying) numbers its out-of-vocabulary words from `vocab_size` on, in order
of first occurrence; `PairBatcher` turns id lists into the network's batches and
`decode_sources` runs `decoding.greedy` / `decoding.beam_search` over the network's step.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.report_sections import image_block, table_block, text_block, write_section

__all__ = [
    "BOS_ID",
    "EOS_ID",
    "PAD_ID",
    "TARGET_PATTERN",
    "UNK_ID",
    "PairBatcher",
    "Pairs",
    "decode_sources",
    "encode_source",
    "encode_target",
    "pair_batches",
    "target_tokens",
    "teacher_forcing_ratio",
    "write_predictions",
    "write_report",
]

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3  # `Vocabulary` fixes 0 and 1; the task adds 2 and 3
#: the regex tokenizer's default words and numbers, without placeholders and punctuation
TARGET_PATTERN = re.compile(r"\d+(?:[.,:]\d+)+|\w+(?:[-'\u2019]\w+)*")


def target_tokens(text: Any) -> list[str]:
    """The lowercased words of a target text (`TARGET_PATTERN`); [] for None."""
    return TARGET_PATTERN.findall(str(text).lower()) if text is not None else []


def teacher_forcing_ratio(
    epoch: int, *, start: float, decay: str, floor: float, epochs: int
) -> float:
    """The ratio of epoch `epoch` (1-based): `start` at epoch 1, then down to `floor` at the
    last epoch, linearly or geometrically (`decay`); `none` keeps `start`."""
    if decay == "none" or epochs <= 1 or start <= floor:
        return start
    frac = min(1.0, max(0.0, (epoch - 1) / (epochs - 1)))
    if decay == "exponential" and floor > 0:
        return start * (floor / start) ** frac
    return start + (floor - start) * frac


@dataclass
class Pairs:
    """The documents of a fit, in corpus order: ids, source tokens, targets (None: missing)."""

    ids: list[str]
    sources: list[list[str]]
    targets: list[list[str] | None]
    references: list[str | None]


def encode_source(
    tokens: Sequence[str], index: Mapping[str, int], vocab_size: int
) -> tuple[list[int], list[int], list[str]]:
    """A source's ids (OOV -> UNK), its ids in its extended vocabulary (the i-th distinct
    OOV word -> `vocab_size + i`) and those OOV words, in order of first occurrence."""
    ids: list[int] = []
    ext: list[int] = []
    oovs: dict[str, int] = {}
    for token in tokens:
        i = index.get(token, UNK_ID)
        ids.append(i)
        if i == UNK_ID:
            i = vocab_size + oovs.setdefault(token, len(oovs))
        ext.append(i)
    return ids, ext, list(oovs)


def encode_target(
    tokens: Sequence[str], index: Mapping[str, int], vocab_size: int, oovs: Sequence[str]
) -> list[int]:
    """A target's ids followed by EOS; a word outside the vocabulary takes its source's
    extended id when the source holds it (`oovs`; pass none without copying), else UNK."""
    position = {word: k for k, word in enumerate(oovs)}
    out = []
    for token in tokens:
        i = index.get(token, UNK_ID)
        if i == UNK_ID and token in position:
            i = vocab_size + position[token]
        out.append(i)
    return [*out, EOS_ID]


class PairBatcher:
    """Restartable mini-batches of (source, target) pairs for `Seq2SeqNetwork.forward`.

    Rows are grouped by source length as `BucketBatcher` does (its seeded generator, its
    `state_dict` for resumed runs). `inputs`: source ids, lengths, extended ids, decoder
    inputs (BOS + target; extended ids as UNK), target lengths; `target`: the real target
    positions' extended ids (EOS included), rows flattened in (batch, time) order.
    """

    def __init__(
        self,
        sources: Sequence[Sequence[int]],
        sources_ext: Sequence[Sequence[int]],
        targets: Sequence[Sequence[int]],
        *,
        vocab_size: int,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int = 0,
    ):
        self.sources = [np.asarray(s, dtype=np.int64) for s in sources]
        self.sources_ext = [np.asarray(s, dtype=np.int64) for s in sources_ext]
        self.targets = [np.asarray(t, dtype=np.int64) for t in targets]
        self.vocab_size = vocab_size
        from .training import BucketBatcher

        self.rows = BucketBatcher(
            self.sources, batch_size=batch_size, max_length=1 << 30, shuffle=shuffle, seed=seed
        )

    def __len__(self) -> int:
        return len(self.rows)

    def state_dict(self) -> dict[str, Any]:
        """The shuffling generator's state (for checkpoints)."""
        return self.rows.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore `state_dict()`'s output."""
        self.rows.load_state_dict(state)

    def __iter__(self) -> Iterator[Any]:
        import torch

        from .training import Batch

        for rows in self.rows.epoch_indices():
            lengths = np.array([max(1, len(self.sources[r])) for r in rows])
            target_lengths = np.array([len(self.targets[r]) for r in rows])
            source = np.zeros((len(rows), lengths.max()), dtype=np.int64)
            source_ext = np.zeros_like(source)
            target_in = np.zeros((len(rows), target_lengths.max()), dtype=np.int64)
            for i, r in enumerate(rows):
                source[i, : len(self.sources[r])] = self.sources[r]
                source_ext[i, : len(self.sources_ext[r])] = self.sources_ext[r]
                gold = self.targets[r][:-1]
                target_in[i, 0] = BOS_ID
                target_in[i, 1 : len(gold) + 1] = np.where(gold >= self.vocab_size, UNK_ID, gold)
            target = np.concatenate([self.targets[r] for r in rows])
            yield Batch(
                tuple(
                    torch.from_numpy(a)
                    for a in (source, lengths, source_ext, target_in, target_lengths)
                ),
                torch.from_numpy(target),
                torch.from_numpy(np.asarray(rows)),
            )


def pair_batches(
    pairs: Pairs,
    rows: Sequence[int],
    index: Mapping[str, int],
    *,
    copy: bool,
    batch_size: int,
    shuffle: bool,
    seed: int,
) -> PairBatcher:
    """The `PairBatcher` of the pairs `rows` with the vocabulary `index` (word -> id);
    without `copy`, extended ids are not used (OOV words are UNK on both sides)."""
    sources, sources_ext, targets = [], [], []
    for i in rows:
        ids, ext, oovs = encode_source(pairs.sources[i], index, len(index))
        sources.append(ids)
        sources_ext.append(ext if copy else ids)
        targets.append(
            encode_target(pairs.targets[i] or [], index, len(index), oovs if copy else ())
        )
    return PairBatcher(
        sources,
        sources_ext,
        targets,
        vocab_size=len(index),
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
    )


def decode_sources(
    network: Any,
    words: Sequence[str],
    sources: Sequence[Sequence[str]],
    *,
    strategy: str = "beam",
    beam: int = 4,
    max_length: int = 30,
    min_length: int = 0,
    length_penalty: float = 1.0,
    no_repeat_ngram: int = 0,
    batch_size: int = 64,
) -> list[list[str]]:
    """The generated words for each source (token lists; `words`: the vocabulary, id ->
    word), on the CPU in eval mode: greedy in batches of similar lengths, beam search one
    source at a time. Extended ids become their source words; with copying the decoder
    may not pick UNK (the pointer can produce the word itself), without it UNK is left
    out of the words; an empty source gets no words."""
    import torch

    from .decoding import beam_search, check_options, greedy

    check_options(
        beam=beam, max_length=max_length, min_length=min_length, no_repeat_ngram=no_repeat_ngram
    )
    network.to("cpu").eval()
    index = {w: i for i, w in enumerate(words)}
    vocab = len(words)
    out: list[list[str]] = [[] for _ in sources]
    order = sorted((i for i, s in enumerate(sources) if s), key=lambda i: len(sources[i]))
    size = batch_size if strategy == "greedy" else 1
    with torch.no_grad():
        for start in range(0, len(order), size):
            rows = order[start : start + size]
            encoded = [encode_source(sources[i], index, vocab) for i in rows]
            width = max(len(e[0]) for e in encoded)
            ids = torch.zeros(len(rows), width, dtype=torch.long)
            ext = torch.zeros_like(ids)
            for r, (s, x, _) in enumerate(encoded):
                ids[r, : len(s)] = torch.tensor(s)
                ext[r, : len(x)] = torch.tensor(x) if network.copy else torch.tensor(s)
            lengths = torch.tensor([len(e[0]) for e in encoded])
            state = network.encode(ids, lengths, ext)
            common = {"bos_id": BOS_ID, "eos_id": EOS_ID, "max_length": max_length}
            common.update(min_length=min_length, no_repeat_ngram=no_repeat_ngram)
            step = _KnownWordsStep(network) if network.copy else network.step
            if strategy == "greedy":
                found = greedy(step, state, batch_size=len(rows), **common)
            else:
                found = [
                    beam_search(
                        step,
                        state,
                        network.reorder,
                        beam=beam,
                        length_penalty=length_penalty,
                        **common,
                    )
                ]
            for r, tokens, (_, _, oovs) in zip(rows, found, encoded, strict=True):
                out[r] = [words[t] if t < vocab else oovs[t - vocab] for t in tokens if t != UNK_ID]
    return out


class _KnownWordsStep:
    """The network's decoding step with UNK ruled out (for copying networks)."""

    def __init__(self, network: Any):
        self.network = network

    def __call__(self, last_tokens: Any, state: Any) -> tuple[Any, Any]:
        log_probs, state = self.network.step(last_tokens, state)
        log_probs[:, UNK_ID] = float("-inf")
        return log_probs, state


def write_predictions(
    path: Path, pairs: Pairs, texts: Sequence[Sequence[str] | None], parts: Sequence[str]
) -> None:
    """`predictions.jsonl`: `{"id", "text", "split"}` per document in corpus order (split:
    train | validation | test | no_target | empty_source); documents without an entry in
    `texts` (None) are left out."""
    with path.open("w", encoding="utf-8") as fh:
        for doc_id, words, part, source in zip(pairs.ids, texts, parts, pairs.sources, strict=True):
            if words is None:
                continue
            line = {
                "id": doc_id,
                "text": " ".join(words),
                "split": part if source else "empty_source",
            }
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")


def write_report(
    staging: Path, task: Any, metrics: Mapping[str, Any], samples: list[list[str]]
) -> None:
    """The task's report section: ROUGE F1 of greedy, beam and Lead, and sample headlines."""
    blocks: list[dict[str, Any]] = []
    test = metrics.get("test")
    if test:
        blocks.append(
            text_block(
                f"{test['documents']:,} held-out documents; ROUGE F1 (rouge-score, stemmed)."
            )
        )
        rows = [
            [name, *(round(test[key][t]["f1"], 4) for t in ("rouge1", "rouge2", "rougeL"))]
            for name, key in (
                (f"beam {task.beam}", "beam"),
                ("greedy", "greedy"),
                ("Lead (first 10 words)", "lead"),
            )
        ]
        blocks.append(
            table_block(
                "ROUGE on the held-out part", ["decoding", "ROUGE-1", "ROUGE-2", "ROUGE-L"], rows
            )
        )
    if samples:
        blocks.append(table_block("Sample outputs (held out)", ["generated", "reference"], samples))
    counts = Counter({"without target": metrics["without_target"], **metrics["skipped"]})
    if sum(counts.values()):
        blocks.append(
            text_block(
                ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in counts.items() if n)
                + " (left out of training)."
            )
        )
    if metrics["history"]:
        blocks.append(image_block("Learning curve", "learning_curve.png"))
    write_section(
        staging,
        f"Seq2seq: {task.target} ({task.attention} attention{', copy' if task.copy else ''})",
        blocks,
        order=55,
    )
