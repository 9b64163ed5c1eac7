"""TF-IDF on scikit-learn: equal to `TfidfVectorizer` for the same tokens and settings."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field as Range

from pipeline.registry import register

from .bow import Analyzer, DocFrequency, NgramRange
from .persist import load_array
from .terms import TermLearner
from .tokens import Field

__all__ = ["TfIdf"]


@register("represent", "tfidf")
class TfIdf(TermLearner):
    """TF-IDF document-term matrix (scikit-learn's, or the textbook variant).

    - Token selection, `analyzer`, `ngram_range`, `phrases`, `min_df`, `max_df`,
      `max_features`, `binary`: as in `bow`.
    - `variant: sklearn` (default): scikit-learn's `TfidfTransformer` with
      `norm`, `use_idf`, `smooth_idf`, `sublinear_tf`; equals `TfidfVectorizer`
      to 1e-9 given the same tokens.
    - `variant: textbook`: tf = count / number of terms in the document (all its
      terms, in the vocabulary or not), idf = log(N / df); `smooth_idf`,
      `sublinear_tf` and `use_idf` do not apply, `norm` does (set it to null for
      the raw products).

    `idf_` holds the learned inverse document frequencies in column order.
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
        variant: Literal["sklearn", "textbook"] = "sklearn",
        norm: Literal["l1", "l2"] | None = "l2",
        use_idf: bool = True,
        smooth_idf: bool = True,
        sublinear_tf: bool = False,
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
        self.variant = variant
        self.norm = norm
        self.use_idf = use_idf
        self.smooth_idf = smooth_idf
        self.sublinear_tf = sublinear_tf

    def fit(self, corpus: Iterable[Any], y: Any = None) -> TfIdf:
        """Learn vocabulary and idf from a stream of documents (or token lists); returns self."""
        self._fit(corpus)
        return self

    def fit_transform(self, corpus: Iterable[Any], y: Any = None, **fit_params: Any) -> Any:
        """Fit and return the corpus' TF-IDF matrix in one pass over the corpus."""
        counts, lengths = self._fit(corpus)
        return self._weigh(counts, lengths)

    def transform(self, docs: Iterable[Any]) -> Any:
        """The TF-IDF matrix (CSR float64, one row per document) of a stream of documents."""
        counts, lengths = self._transform_counts(docs)
        return self._weigh(counts, lengths)

    def _fit(self, corpus: Iterable[Any]) -> tuple[Any, list[int]]:
        counts, lengths = self._fit_counts(corpus)
        df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
        self._learn_document_frequencies(counts.shape[0], df)
        return counts, lengths

    def _learn_document_frequencies(self, n_docs: int, df: np.ndarray) -> None:
        if self.variant == "textbook":
            self.idf_ = np.log(n_docs / df)
        elif self.use_idf:
            smooth = int(self.smooth_idf)
            self.idf_ = np.log((n_docs + smooth) / (df + smooth)) + 1.0
        else:
            self.idf_ = None

    def _weigh(self, counts: Any, lengths: list[int]) -> Any:
        import scipy.sparse as sp
        from sklearn.preprocessing import normalize

        tf = sp.csr_matrix(counts, dtype=np.float64, copy=True)
        if self.variant == "textbook":
            row_lengths = np.repeat(
                np.maximum(np.asarray(lengths, dtype=np.float64), 1.0), np.diff(tf.indptr)
            )
            tf.data /= row_lengths
        elif self.sublinear_tf:
            np.log(tf.data, tf.data)
            tf.data += 1.0
        if self.idf_ is not None:
            tf.data *= self.idf_[tf.indices]
        if self.norm is not None:
            tf = normalize(tf, norm=self.norm, copy=False)
        return tf

    def _save_state(self, folder: Path) -> None:
        super()._save_state(folder)
        if self.idf_ is not None:
            np.save(folder / "idf.npy", self.idf_)

    def _load_state(self, folder: Path) -> None:
        super()._load_state(folder)
        idf = folder / "idf.npy"
        self.idf_ = load_array(idf) if idf.is_file() else None
