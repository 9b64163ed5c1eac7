"""ROUGE of predicted texts against references, through Google's `rouge-score` package.

`rouge_scores(predictions, references)` gives the mean precision, recall and F1 of each
ROUGE type over the pairs, as the summarisation literature reports them (macro average over
documents, as `rouge-score`'s own scripts and Hugging Face `evaluate` do before bootstrapping).
`RougeMeans` accumulates the same figures one pair at a time, for streamed corpora.

Tokenization is the package's: lowercased, every run of characters outside `[a-z0-9]`
is a separator (so "end.Next" is two tokens, but non-ASCII letters are dropped), and with
`stemmer` the Porter stemmer on words longer than three letters. `rougeLsum` splits both
texts on newlines ("\\n"), as the package does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = ["ROUGE_TYPES", "RougeMeans", "rouge_scores"]

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
_ROUGE_TYPE = re.compile(r"rouge[1-9]|rougeL|rougeLsum")


class RougeMeans:
    """Running means of ROUGE precision/recall/F1 per type: `add(prediction, reference)` per
    pair, `result()` at the end. `types` are `rouge-score` names ("rouge1".."rouge9",
    "rougeL", "rougeLsum"); an unknown one is a `ValueError` here, before any pair."""

    def __init__(self, *, types: Sequence[str] = ROUGE_TYPES, stemmer: bool = True):
        from rouge_score import rouge_scorer

        self.types = tuple(types)
        if not self.types:
            raise ValueError("rouge: name at least one ROUGE type (e.g. rouge1, rouge2, rougeL)")
        unknown = [t for t in self.types if not _ROUGE_TYPE.fullmatch(str(t))]
        if unknown:
            raise ValueError(
                f"rouge: unknown ROUGE type(s) {', '.join(map(repr, unknown))}; "
                "use rouge1 .. rouge9, rougeL or rougeLsum"
            )
        self.stemmer = stemmer
        self._scorer = rouge_scorer.RougeScorer(list(self.types), use_stemmer=stemmer)
        self._sums = {t: [0.0, 0.0, 0.0] for t in self.types}
        self.documents = 0

    def add(self, prediction: str, reference: str) -> dict[str, dict[str, float]]:
        """Score one pair, add it to the means and return its own scores per type."""
        scores = self._scorer.score(reference, prediction)  # the package takes the target first
        pair = {}
        for rouge_type in self.types:
            s = scores[rouge_type]
            sums = self._sums[rouge_type]
            sums[0] += s.precision
            sums[1] += s.recall
            sums[2] += s.fmeasure
            pair[rouge_type] = {"precision": s.precision, "recall": s.recall, "f1": s.fmeasure}
        self.documents += 1
        return pair

    def result(self) -> dict[str, Any]:
        """`{type: {"precision", "recall", "f1"}, "documents": n}`: the means over the pairs
        added (zeros when none was)."""
        n = max(self.documents, 1)
        out: dict[str, Any] = {
            t: {"precision": p / n, "recall": r / n, "f1": f / n}
            for t, (p, r, f) in self._sums.items()
        }
        out["documents"] = self.documents
        return out


def rouge_scores(
    predictions: Sequence[str],
    references: Sequence[str],
    *,
    types: Sequence[str] = ROUGE_TYPES,
    stemmer: bool = True,
) -> dict[str, Any]:
    """Mean ROUGE precision, recall and F1 of each type over aligned (prediction, reference)
    pairs: `{"rouge1": {"precision", "recall", "f1"}, ..., "documents": n}`. Raises
    `ValueError` when the two sequences differ in length or a type is unknown."""
    if len(predictions) != len(references):
        raise ValueError(
            f"rouge: {len(predictions)} predictions for {len(references)} references; "
            "pass one prediction per reference, in the same order"
        )
    means = RougeMeans(types=types, stemmer=stemmer)
    for prediction, reference in zip(predictions, references, strict=True):
        means.add(prediction, reference)
    return means.result()
