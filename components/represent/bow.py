"""Bag of words (counts or binary) and one-hot encodings, as scipy sparse matrices."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import Field as Range

from pipeline.registry import register

from .terms import TermLearner
from .tokens import Field

__all__ = ["BagOfWords", "OneHot"]

Analyzer = Literal["word", "char", "char_wb"]
NgramRange = tuple[Annotated[int, Range(ge=1)], Annotated[int, Range(ge=1)]]
DocFrequency = Annotated[int, Range(ge=0)] | Annotated[float, Range(ge=0.0, le=1.0)]


@register("represent", "bow")
class BagOfWords(TermLearner):
    """Bag of words: a sparse document-term matrix of counts (or 0/1 with `binary`).

    - Token selection: `field`, `drop_stop`, `drop_punct` (see `components.represent.tokens`).
    - `analyzer`: "word" n-grams, or character n-grams ("char", or "char_wb" inside
      word boundaries) over the selected tokens; `ngram_range`: `(min_n, max_n)`.
    - `phrases`: first join collocations found by gensim Phrases ("new_york").
    - Vocabulary limits as in scikit-learn: `min_df`/`max_df` (an int counts
      documents, a float is a proportion), `max_features` (most frequent terms).

    Columns are the terms in sorted order (`terms_`, `vocabulary_`); `transform`
    returns a `scipy.sparse.csr_matrix` of int64.
    """

    version = "1"

    def __init__(
        self,
        *,
        field: Field = "lower",
        drop_stop: bool = False,
        drop_punct: bool = True,
        analyzer: Analyzer = "word",
        ngram_range: NgramRange = (1, 1),
        phrases: bool = False,
        min_df: DocFrequency = 1,
        max_df: DocFrequency = 1.0,
        max_features: Annotated[int, Range(ge=1)] | None = None,
        binary: bool = False,
    ):
        self.field = field
        self.drop_stop = drop_stop
        self.drop_punct = drop_punct
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.phrases = phrases
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.binary = binary

    def fit(self, corpus: Iterable[Any], y: Any = None) -> BagOfWords:
        """Learn the vocabulary from a stream of documents (or token lists); returns self."""
        self._fit_counts(corpus)
        return self

    def fit_transform(self, corpus: Iterable[Any], y: Any = None, **fit_params: Any) -> Any:
        """Fit and return the corpus' document-term matrix in one pass."""
        counts, _ = self._fit_counts(corpus)
        return counts

    def transform(self, docs: Iterable[Any]) -> Any:
        """The document-term matrix (CSR, one row per document) of a stream of documents."""
        counts, _ = self._transform_counts(docs)
        return counts


@register("represent", "onehot")
class OneHot(BagOfWords):
    """One-hot encoding: each document a 0/1 row over the vocabulary; `encode` gives per-token rows.

    Same parameters as `bow` (it is `bow` with `binary` always on).
    `encode(doc)` returns a sparse `(n_tokens, n_terms)` matrix with a single 1 per
    row for the token's term (an all-zero row for a term outside the vocabulary).
    """

    version = "1"
    binary = True

    def __init__(
        self,
        *,
        field: Field = "lower",
        drop_stop: bool = False,
        drop_punct: bool = True,
        analyzer: Analyzer = "word",
        ngram_range: NgramRange = (1, 1),
        phrases: bool = False,
        min_df: DocFrequency = 1,
        max_df: DocFrequency = 1.0,
        max_features: Annotated[int, Range(ge=1)] | None = None,
    ):
        self.field = field
        self.drop_stop = drop_stop
        self.drop_punct = drop_punct
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.phrases = phrases
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features

    def encode(self, doc: Any) -> Any:
        """Per-term one-hot rows of one document, in order: a `(n_terms_in_doc, n_terms)` CSR."""
        import numpy as np
        import scipy.sparse as sp

        [terms] = self._terms([doc])
        columns = [self.vocabulary_.get(t, -1) for t in terms]
        rows = [i for i, c in enumerate(columns) if c >= 0]
        cols = [c for c in columns if c >= 0]
        data = np.ones(len(rows), dtype=np.int64)
        return sp.csr_matrix((data, (rows, cols)), shape=(len(terms), len(self.terms_)))
