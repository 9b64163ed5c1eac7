"""Term statistics of part of a corpus, merged across shards into a vocabulary.

What a document-term learner needs to choose its vocabulary is additive over
documents: the number of documents, each term's document frequency and its total
count. So each shard of a run is counted where it lies (a Dask or process worker),
the counts are summed in the main process, and the vocabulary is cut from the sums
with scikit-learn's rules (`CountVectorizer._limit_features`), giving the vocabulary
and idf a single pass over the whole corpus gives. scikit-learn has no mergeable
partial fit for `CountVectorizer`, hence this module.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np

__all__ = ["TermStatistics", "vocabulary_from_statistics"]


@dataclass
class TermStatistics:
    """Counts over some documents: how many, and per term its document frequency and total count.

    `terms` is the number of terms made from those documents (before any vocabulary
    limit), kept for error messages. Instances are plain data (picklable, so they cross
    process boundaries as task results) and merge in place with `update`.
    """

    documents: int = 0
    terms: int = 0
    df: Counter[str] = field(default_factory=Counter)
    tf: Counter[str] = field(default_factory=Counter)

    def add_document(self, document_terms: Iterable[str]) -> None:
        """Count one document's terms."""
        counts = Counter(document_terms)
        self.documents += 1
        self.terms += sum(counts.values())
        self.df.update(counts.keys())
        self.tf.update(counts)

    def update(self, other: TermStatistics) -> TermStatistics:
        """Add the counts of `other` (disjoint documents) to these, in place; returns self."""
        self.documents += other.documents
        self.terms += other.terms
        self.df.update(other.df)
        self.tf.update(other.tf)
        return self


def vocabulary_from_statistics(
    stats: TermStatistics,
    *,
    min_df: float | int,
    max_df: float | int,
    max_features: int | None,
    binary: bool,
) -> tuple[list[str], np.ndarray]:
    """The kept terms in column (sorted) order and their document frequencies.

    Applies `min_df`, `max_df` (an int counts documents, a float is a proportion) and
    `max_features` exactly as `CountVectorizer.fit` does: terms sorted, masked by
    document frequency, then the `max_features` most frequent kept (total counts, or
    document frequencies when `binary`), ties broken as scikit-learn's `argsort` does.
    Both are empty when nothing is left (no terms, or none within `min_df`/`max_df`),
    where scikit-learn raises `ValueError`: the caller says which limit to change.
    """
    n_docs = stats.documents
    high = max_df if isinstance(max_df, Integral) else max_df * n_docs
    low = min_df if isinstance(min_df, Integral) else min_df * n_docs
    terms = sorted(stats.df)
    dfs = np.fromiter((stats.df[t] for t in terms), dtype=np.int64, count=len(terms))
    mask = (dfs <= high) & (dfs >= low)
    if max_features is not None and mask.sum() > max_features:
        totals = stats.df if binary else stats.tf
        tfs = np.fromiter((totals[t] for t in terms), dtype=np.int64, count=len(terms))
        keep = (-tfs[mask]).argsort()[:max_features]
        limited = np.zeros(len(dfs), dtype=bool)
        limited[np.where(mask)[0][keep]] = True
        mask = limited
    kept = np.where(mask)[0]
    return [terms[i] for i in kept], dfs[kept]
