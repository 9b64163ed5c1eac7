"""Coreference metrics: MUC, B-cubed, CEAF-e and their average (the CoNLL F1).

Definitions follow the reference implementation described by Pradhan et al. (2014),
"Scoring Coreference Partitions of Predicted Mentions: A Reference Implementation":

- MUC (Vilain et al., 1995): link-based; recall = sum(|K| - |p(K)|) / sum(|K| - 1)
  over key clusters K, where p(K) partitions K by the response (mentions missing
  from the response are singletons); precision swaps key and response.
- B-cubed (Bagga & Baldwin, 1998): mention-based; recall = sum over K and R of
  |K & R|^2 / |K|, divided by the number of key mentions; precision swaps roles.
- CEAF-e (Luo, 2005): entity-based; the best one-to-one alignment of key and response
  clusters under phi4(K, R) = 2|K & R| / (|K| + |R|) (Hungarian algorithm);
  recall = total similarity / #key clusters, precision = total / #response clusters.

Clusters are collections of hashable mention identifiers (e.g. `(start, end)` offsets);
a mention belongs to at most one cluster of a partition. Scores are fractions in [0, 1].
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

__all__ = ["Score", "b_cubed", "ceaf_e", "conll_scores", "muc"]

Clusters = Sequence[Iterable[Hashable]]


class Score(dict):
    """Precision, recall and F1 of one metric (a dict with those three keys)."""

    def __init__(self, precision: float, recall: float):
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        super().__init__(precision=precision, recall=recall, f1=f1)

    @property
    def f1(self) -> float:
        return self["f1"]


def _as_sets(clusters: Clusters) -> list[frozenset[Hashable]]:
    sets = [frozenset(c) for c in clusters]
    return [s for s in sets if s]


def _index(clusters: list[frozenset[Hashable]]) -> dict[Hashable, int]:
    return {m: i for i, cluster in enumerate(clusters) for m in cluster}


def _muc_recall(key: list[frozenset[Hashable]], response: list[frozenset[Hashable]]) -> float:
    where = _index(response)
    numerator = denominator = 0
    for cluster in key:
        parts = {where[m] for m in cluster if m in where}
        unaligned = sum(1 for m in cluster if m not in where)
        numerator += len(cluster) - (len(parts) + unaligned)
        denominator += len(cluster) - 1
    return numerator / denominator if denominator else 0.0


def muc(key: Clusters, response: Clusters) -> Score:
    """MUC precision, recall and F1 of a `response` partition against the `key`."""
    k, r = _as_sets(key), _as_sets(response)
    return Score(_muc_recall(r, k), _muc_recall(k, r))


def _b3_recall(key: list[frozenset[Hashable]], response: list[frozenset[Hashable]]) -> float:
    where = _index(response)
    total = sum(len(c) for c in key)
    if not total:
        return 0.0
    numerator = 0.0
    for cluster in key:
        overlaps: dict[int, int] = {}
        for m in cluster:
            if m in where:
                overlaps[where[m]] = overlaps.get(where[m], 0) + 1
        numerator += sum(n * n for n in overlaps.values()) / len(cluster)
    return numerator / total


def b_cubed(key: Clusters, response: Clusters) -> Score:
    """B-cubed precision, recall and F1 of a `response` partition against the `key`."""
    k, r = _as_sets(key), _as_sets(response)
    return Score(_b3_recall(r, k), _b3_recall(k, r))


def ceaf_e(key: Clusters, response: Clusters) -> Score:
    """Entity-based CEAF (phi4 similarity, optimal alignment) of `response` against `key`."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    k, r = _as_sets(key), _as_sets(response)
    if not k or not r:
        return Score(0.0, 0.0)
    where = _index(r)
    similarity = np.zeros((len(k), len(r)))
    for i, cluster in enumerate(k):
        for m in cluster:
            j = where.get(m)
            if j is not None:
                similarity[i, j] += 1
    sizes_k = np.array([len(c) for c in k], dtype=float)[:, None]
    sizes_r = np.array([len(c) for c in r], dtype=float)[None, :]
    similarity = 2 * similarity / (sizes_k + sizes_r)
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    total = float(similarity[rows, cols].sum())
    return Score(total / len(r), total / len(k))


def conll_scores(key: Clusters, response: Clusters) -> dict[str, Score | float]:
    """MUC, B-cubed and CEAF-e scores and their average F1 (`conll_f1`)."""
    scores: dict[str, Score | float] = {
        "muc": muc(key, response),
        "b_cubed": b_cubed(key, response),
        "ceaf_e": ceaf_e(key, response),
    }
    scores["conll_f1"] = sum(s.f1 for s in scores.values() if isinstance(s, Score)) / 3
    return scores
