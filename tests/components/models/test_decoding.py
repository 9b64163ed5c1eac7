"""Decoding over a step function, on a deterministic bigram model of the Lee articles.

The step function returns smoothed bigram log-probabilities counted on gensim's Lee
news articles (regex words and punctuation, lowercased; an end-of-sentence token after
each "."), so greedy loops, beams and samples are those of real text statistics.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
import torch

from components.models.decoding import beam_search, check_options, greedy, sample

EOS = 0
VOCAB = 1500  # the most frequent words; the others are <unk>


class Bigram:
    """`step`/`reorder` of a bigram model: the state is unused (None)."""

    def __init__(self, texts: list[str]):
        words = [re.findall(r"\w+|[^\w\s]", t.lower()) for t in texts]
        counts = Counter(w for ws in words for w in ws)
        self.words = ["<eos>", "<unk>", *sorted(w for w, _ in counts.most_common(VOCAB))]
        self.index = {w: i for i, w in enumerate(self.words)}
        pairs: Counter[tuple[int, int]] = Counter()
        for ws in words:
            ids = [self.index.get(w, 1) for w in ws]
            for a, b in zip(ids, ids[1:], strict=False):
                pairs[a, b] += 1
                if self.words[a] == ".":
                    pairs[a, EOS] += 1
        table = torch.full((len(self.words), len(self.words)), 0.01)
        for (a, b), n in pairs.items():
            table[a, b] += n
        self.log_probs = torch.log(table / table.sum(dim=1, keepdim=True))

    def step(self, last: torch.Tensor, state: object) -> tuple[torch.Tensor, object]:
        return self.log_probs[last], state

    @staticmethod
    def reorder(state: object, indices: torch.Tensor) -> object:
        return state


@pytest.fixture(scope="module")
def bigram(lee_texts) -> Bigram:
    return Bigram(lee_texts)


STARTS = ["the", "police", "government", "australia", "he", "a", "fire", "mr", "in", "said"]


def start_ids(model: Bigram) -> list[int]:
    return [model.index[w] for w in STARTS]


def test_beam_one_equals_greedy(bigram):
    for start in start_ids(bigram):
        expected = greedy(bigram.step, None, bos_id=start, eos_id=EOS, max_length=30)[0]
        got = beam_search(
            bigram.step, None, bigram.reorder, bos_id=start, eos_id=EOS, beam=1, max_length=30
        )
        assert got == expected
        assert expected  # something was generated


def test_batched_greedy_equals_one_at_a_time(bigram):
    starts = start_ids(bigram)
    one = [greedy(bigram.step, None, bos_id=s, eos_id=EOS, max_length=25)[0] for s in starts]

    def step(last, state):
        return bigram.log_probs[last], state

    rows = torch.tensor(starts)
    together = greedy(
        lambda last, state: step(torch.where(last == -1, rows, last), state),
        None,
        bos_id=-1,
        eos_id=EOS,
        max_length=25,
        batch_size=len(starts),
    )
    assert together == one


def test_top_k_one_equals_greedy_whatever_the_seed(bigram):
    for seed, start in enumerate(start_ids(bigram)):
        expected = greedy(bigram.step, None, bos_id=start, eos_id=EOS, max_length=30)[0]
        got = sample(
            bigram.step,
            None,
            bos_id=start,
            eos_id=EOS,
            max_length=30,
            top_k=1,
            generator=torch.Generator().manual_seed(seed),
        )
        assert got == expected


def test_same_seed_same_sample_and_seeds_differ(bigram):
    start = bigram.index["the"]

    def draw(seed: int, **options) -> list[int]:
        return sample(
            bigram.step,
            None,
            bos_id=start,
            eos_id=EOS,
            max_length=30,
            generator=torch.Generator().manual_seed(seed),
            **options,
        )

    for options in ({}, {"top_p": 0.9}, {"top_k": 40, "temperature": 0.8}):
        assert draw(7, **options) == draw(7, **options)
        assert len({tuple(draw(seed, **options)) for seed in range(5)}) > 1


def test_ngram_blocking_never_repeats_an_ngram(bigram):
    start = bigram.index["the"]
    options = {"bos_id": start, "eos_id": EOS, "max_length": 40, "min_length": 40}
    plain = greedy(bigram.step, None, **options)[0]
    assert len(set(zip(plain, plain[1:], strict=False))) < len(plain) - 1  # greedy loops
    for n in (2, 3):
        blocked_greedy = greedy(bigram.step, None, no_repeat_ngram=n, **options)[0]
        blocked_beam = beam_search(
            bigram.step, None, bigram.reorder, beam=4, no_repeat_ngram=n, **options
        )
        assert len(blocked_greedy) == len(blocked_beam) == 40
        for out in (blocked_greedy, blocked_beam):
            seq = [start, *out]
            grams = [tuple(seq[i : i + n]) for i in range(len(seq) - n + 1)]
            assert len(grams) == len(set(grams))


def test_min_length_suppresses_eos(bigram):
    for start in start_ids(bigram):
        free = greedy(bigram.step, None, bos_id=start, eos_id=EOS, max_length=60)[0]
        forced = greedy(bigram.step, None, bos_id=start, eos_id=EOS, max_length=60, min_length=25)[
            0
        ]
        beam = beam_search(
            bigram.step, None, bigram.reorder, bos_id=start, eos_id=EOS, beam=3,
            max_length=60, min_length=25,
        )  # fmt: skip
        assert len(forced) >= 25 and len(beam) >= 25
        if len(free) < 25:
            assert forced[: len(free)] == free  # the same path until EOS was due
    ends = [
        greedy(bigram.step, None, bos_id=s, eos_id=EOS, max_length=60)[0]
        for s in [bigram.index["."]]
    ]
    assert ends == [[]]  # after "." the most probable token is the end


def test_length_penalty_prefers_longer_outputs(bigram):
    def lengths(alpha: float) -> list[int]:
        return [
            len(
                beam_search(
                    bigram.step,
                    None,
                    bigram.reorder,
                    bos_id=s,
                    eos_id=EOS,
                    beam=6,
                    max_length=50,
                    length_penalty=alpha,
                )  # fmt: skip
            )
            for s in start_ids(bigram)
        ]

    none, strong = lengths(0.0), lengths(3.0)
    assert all(b >= a for a, b in zip(none, strong, strict=True))
    assert sum(strong) > sum(none)


def test_repetition_penalty_avoids_seen_tokens(bigram):
    start = bigram.index["the"]
    out = sample(
        bigram.step,
        None,
        bos_id=start,
        eos_id=EOS,
        max_length=30,
        top_k=1,
        repetition_penalty=1000.0,
        generator=torch.Generator().manual_seed(0),
    )
    seq = [start, *out]
    assert len(seq) == len(set(seq))


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"temperature": 0.0}, "temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"top_k": -1}, "top_k"),
        ({"repetition_penalty": 0.0}, "repetition_penalty"),
    ],
)
def test_bad_options_name_the_option(bigram, options, name):
    with pytest.raises(ValueError, match=name):
        check_options(**options)
    with pytest.raises(ValueError, match=name):
        sample(
            bigram.step, None, bos_id=1, eos_id=EOS, max_length=5,
            generator=torch.Generator(), **options,
        )  # fmt: skip
