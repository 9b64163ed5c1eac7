"""Decoding over a step function: greedy, beam search and sampling (top-k, top-p, temperature).

A model exposes one decoding step, `step(last_tokens (B,), state) -> (log_probs (B, V),
new_state)`, and, for beam search, `reorder(state, indices) -> state` (keep/copy the rows
`indices` of every tensor in the state). The functions here know nothing of the model:
the seq2seq decoder and the language model share them. To continue a prompt, the caller
runs the prompt through the model first and passes the resulting state, with the prompt's
last token as `bos_id` (and the tokens before it as `context`, which n-gram blocking and
the repetition penalty count as already generated).

Conventions: `max_length` counts generated tokens (an EOS included); returned sequences
hold neither the start token nor the EOS. `min_length` forbids EOS until that many tokens
have been generated. Ties between equal scores go to the lower token id (as `argmax`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

__all__ = [
    "Reorder",
    "Step",
    "beam_search",
    "check_options",
    "gnmt_length_penalty",
    "greedy",
    "sample",
]

#: `step(last_tokens (B,) int64, state) -> (log_probs (B, V), new_state)`
Step = Callable[[torch.Tensor, Any], tuple[torch.Tensor, Any]]
#: `reorder(state, indices (K,) int64) -> state` whose rows are the old rows `indices`
Reorder = Callable[[Any, torch.Tensor], Any]


def check_options(
    *,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    repetition_penalty: float = 1.0,
    beam: int = 1,
    max_length: int = 1,
    min_length: int = 0,
    no_repeat_ngram: int = 0,
) -> None:
    """Raise a `ValueError` naming the first decoding option out of its range."""
    problems = [
        ("temperature", temperature, temperature > 0, "> 0"),
        ("top_p", top_p, 0 < top_p <= 1, "in (0, 1]"),
        ("top_k", top_k, top_k >= 0, ">= 0 (0: off)"),
        ("repetition_penalty", repetition_penalty, repetition_penalty > 0, "> 0 (1: off)"),
        ("beam", beam, beam >= 1, ">= 1"),
        ("max_length", max_length, max_length >= 0, ">= 0"),
        ("min_length", min_length, min_length >= 0, ">= 0"),
        ("no_repeat_ngram", no_repeat_ngram, no_repeat_ngram >= 0, ">= 0 (0: off)"),
    ]
    for name, value, ok, rule in problems:
        if not ok:
            raise ValueError(f"{name} must be {rule}; got {value!r}")


def gnmt_length_penalty(length: int, alpha: float) -> float:
    """GNMT's length penalty `((5 + length) / 6) ** alpha` (Wu et al. 2016); alpha 0: none."""
    return ((5.0 + length) / 6.0) ** alpha


def greedy(
    step: Step,
    state: Any,
    *,
    bos_id: int,
    eos_id: int,
    max_length: int,
    min_length: int = 0,
    batch_size: int = 1,
    no_repeat_ngram: int = 0,
) -> list[list[int]]:
    """The most probable next token at each step, for `batch_size` rows decoded together.

    `state` holds `batch_size` rows. A row stops at its EOS (not returned); the others go on
    until all stopped or `max_length` tokens. Returns one token list per row.
    """
    check_options(max_length=max_length, min_length=min_length, no_repeat_ngram=no_repeat_ngram)
    out: list[list[int]] = [[] for _ in range(batch_size)]
    done = [False] * batch_size
    last = torch.full((batch_size,), bos_id, dtype=torch.long)
    for t in range(max_length):
        log_probs, state = step(last, state)
        scores = log_probs.detach().float().clone()
        if t < min_length:
            scores[:, eos_id] = float("-inf")
        if no_repeat_ngram:
            for row in range(batch_size):
                _block_ngrams(scores[row], [bos_id, *out[row]], no_repeat_ngram)
        chosen = scores.argmax(dim=-1)
        for row, token in enumerate(chosen.tolist()):
            if done[row]:
                continue
            if token == eos_id:
                done[row] = True
            else:
                out[row].append(token)
        if all(done):
            break
        last = torch.where(torch.tensor(done), torch.full_like(chosen, eos_id), chosen)
    return out


def beam_search(
    step: Step,
    state: Any,
    reorder: Reorder,
    *,
    bos_id: int,
    eos_id: int,
    beam: int = 4,
    max_length: int,
    min_length: int = 0,
    length_penalty: float = 1.0,
    no_repeat_ngram: int = 0,
    context: Sequence[int] = (),
) -> list[int]:
    """The best sequence of a beam search for one input (`state` holds one row).

    Each step keeps the `beam` best live hypotheses by summed log-probability; a hypothesis
    ending in EOS among the `beam` best candidates is finished, and the search stops when
    `beam` are finished (as fairseq), so beam 1 is exactly `greedy`. The winner among the
    finished (plus the live ones, at `max_length`) has the best summed log-probability
    divided by GNMT's `((5 + len) / 6) ** length_penalty` (len counts the EOS; 0: no
    normalisation; larger: longer outputs). `no_repeat_ngram` n: no n-gram occurs twice.
    """
    check_options(
        beam=beam, max_length=max_length, min_length=min_length, no_repeat_ngram=no_repeat_ngram
    )
    prefix = [*context, bos_id]
    live: list[list[int]] = [[]]
    live_scores = torch.zeros(1, dtype=torch.float64)
    last = torch.tensor([bos_id], dtype=torch.long)
    finished: list[tuple[float, list[int]]] = []  # (normalised score, tokens)
    for t in range(max_length):
        log_probs, state = step(last, state)
        scores = log_probs.detach().to(torch.float64).clone()
        if t < min_length:
            scores[:, eos_id] = float("-inf")
        if no_repeat_ngram:
            for row, tokens in enumerate(live):
                _block_ngrams(scores[row], prefix + tokens, no_repeat_ngram)
        total = (live_scores.unsqueeze(1) + scores).reshape(-1)
        vocab = scores.shape[1]
        ranked = torch.sort(total, descending=True, stable=True)
        top_scores = ranked.values[: 2 * beam].tolist()
        top_index = ranked.indices[: 2 * beam].tolist()
        parents, tokens_next, new_scores, new_live = [], [], [], []
        for rank, (score, flat) in enumerate(zip(top_scores, top_index, strict=True)):
            if score == float("-inf"):
                break
            parent, token = divmod(flat, vocab)
            if token == eos_id:
                if rank < beam:
                    length = len(live[parent]) + 1
                    norm = score / gnmt_length_penalty(length, length_penalty)
                    finished.append((norm, live[parent]))
                continue
            if len(new_live) < beam:
                parents.append(parent)
                tokens_next.append(token)
                new_scores.append(score)
                new_live.append([*live[parent], token])
        if len(finished) >= beam or not new_live:
            break
        index = torch.tensor(parents, dtype=torch.long)
        state = reorder(state, index)
        live = new_live
        live_scores = torch.tensor(new_scores, dtype=torch.float64)
        last = torch.tensor(tokens_next, dtype=torch.long)
    else:
        for score, tokens in zip(live_scores.tolist(), live, strict=True):
            finished.append((score / gnmt_length_penalty(len(tokens), length_penalty), tokens))
    if not finished:
        return []
    best = max(range(len(finished)), key=lambda i: (finished[i][0], -i))
    return list(finished[best][1])


def sample(
    step: Step,
    state: Any,
    *,
    bos_id: int,
    eos_id: int,
    max_length: int,
    min_length: int = 0,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    repetition_penalty: float = 1.0,
    generator: torch.Generator,
    context: Sequence[int] = (),
) -> list[int]:
    """Draw each next token from the model's distribution, reshaped (`state`: one row).

    In order: the repetition penalty (CTRL, Keskar et al. 2019: a score of a token already
    in `context` or generated is divided by the penalty when positive, multiplied when
    negative; the step's log-probabilities are the scores), the temperature, then top-k
    (the k best, 0: off) and top-p (the smallest set of best tokens reaching probability
    `top_p`). Draws use `generator` only, so the same seed gives the same tokens; top-k 1
    is exactly `greedy`.
    """
    check_options(
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        repetition_penalty=repetition_penalty,
        max_length=max_length,
        min_length=min_length,
    )
    out: list[int] = []
    seen = [*context, bos_id]
    last = torch.tensor([bos_id], dtype=torch.long)
    for t in range(max_length):
        log_probs, state = step(last, state)
        scores = log_probs.detach()[0].float().clone()
        if repetition_penalty != 1.0 and seen:
            ids = torch.tensor(sorted(set(seen)), dtype=torch.long)
            picked = scores[ids]
            scores[ids] = torch.where(
                picked > 0, picked / repetition_penalty, picked * repetition_penalty
            )
        if t < min_length:
            scores[eos_id] = float("-inf")
        scores = scores / temperature
        order = torch.sort(scores, descending=True, stable=True).indices
        keep = len(order) if top_k <= 0 else min(top_k, len(order))
        if top_p < 1.0:
            probs = torch.softmax(scores[order[:keep]], dim=-1)
            before = torch.cumsum(probs, dim=-1) - probs  # mass of the better tokens
            keep = max(1, int((before < top_p).sum()))
        kept = order[:keep]
        probs = torch.softmax(scores[kept], dim=-1)
        token = int(kept[torch.multinomial(probs, 1, generator=generator)])
        if token == eos_id:
            break
        out.append(token)
        seen.append(token)
        last = torch.tensor([token], dtype=torch.long)
    return out


def _block_ngrams(scores: torch.Tensor, tokens: Sequence[int], n: int) -> None:
    """Set to -inf (in place) the score of every token that would repeat an n-gram of `tokens`."""
    if len(tokens) < n:
        return
    tail = tuple(tokens[len(tokens) - n + 1 :]) if n > 1 else ()
    for i in range(len(tokens) - n + 1):
        if tuple(tokens[i : i + n - 1]) == tail:
            scores[tokens[i + n - 1]] = float("-inf")
