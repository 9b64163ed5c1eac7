"""Word-word co-occurrence counts: sparse, symmetric window, distance weighting, PPMI, one pass."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field as Range
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline.registry import register

from .persist import load_array, read_json, read_learner, write_json, write_learner
from .tokens import EmptyVocabularyError, Field, TokenSelection

__all__ = ["Cooccurrence", "CooccurrenceCounter", "ppmi"]

_SHIFT = np.int64(32)
_LOW = np.int64(0xFFFFFFFF)


class CooccurrenceCounter:
    """Accumulates weighted co-occurrence counts from token lists, in bounded memory.

    With a fixed `vocabulary` (word → row), other words are skipped before windowing,
    as GloVe's `cooccur` does; without one, rows are assigned as words appear and
    rare words are pruned in `result()`. Pairs are buffered as packed int64 keys and
    merged into a sorted (key, weight) table whenever the buffer outgrows it, so
    memory follows the number of distinct pairs, not the corpus length.
    """

    def __init__(
        self,
        *,
        window: int,
        weighting: str = "none",
        vocabulary: dict[str, int] | None = None,
        buffer_pairs: int = 1_000_000,
    ):
        self.window = window
        self.weights = [1.0 / d if weighting == "harmonic" else 1.0 for d in range(1, window + 1)]
        self.fixed = vocabulary is not None
        self.index: dict[str, int] = dict(vocabulary) if vocabulary is not None else {}
        self.word_counts = np.zeros(max(len(self.index), 1024), dtype=np.int64)
        self.buffer_pairs = buffer_pairs
        self._keys: list[np.ndarray] = []
        self._vals: list[np.ndarray] = []
        self._buffered = 0
        self.table_keys = np.zeros(0, dtype=np.int64)
        self.table_vals = np.zeros(0, dtype=np.float64)
        self.tokens_seen = 0

    def add(self, tokens: Sequence[str]) -> None:
        """Count the pairs of one token list (one document)."""
        index = self.index
        if self.fixed:
            ids = np.fromiter((index.get(t, -1) for t in tokens), dtype=np.int64, count=len(tokens))
            ids = ids[ids >= 0]
        else:
            ids = np.fromiter(
                (index.setdefault(t, len(index)) for t in tokens), dtype=np.int64, count=len(tokens)
            )
            if len(index) > len(self.word_counts):
                grown = np.zeros(max(len(index), 2 * len(self.word_counts)), dtype=np.int64)
                grown[: len(self.word_counts)] = self.word_counts
                self.word_counts = grown
        self.tokens_seen += len(ids)
        if not len(ids):
            return
        self.word_counts[: ids.max() + 1] += np.bincount(ids)
        packed = ids << _SHIFT
        for distance in range(1, min(self.window, len(ids) - 1) + 1):
            keys = packed[:-distance] | ids[distance:]
            self._keys.append(keys)
            self._vals.append(np.full(len(keys), self.weights[distance - 1]))
            self._buffered += len(keys)
        if self._buffered >= max(self.buffer_pairs, len(self.table_keys)):
            self._merge()

    def _merge(self) -> None:
        if not self._keys:
            return
        keys = np.concatenate([self.table_keys, *self._keys])
        vals = np.concatenate([self.table_vals, *self._vals])
        self._keys, self._vals, self._buffered = [], [], 0
        unique, inverse = np.unique(keys, return_inverse=True)
        self.table_keys = unique
        self.table_vals = np.bincount(inverse, weights=vals, minlength=len(unique))

    def result(
        self, *, min_count: int = 1, max_vocab: int | None = None
    ) -> tuple[Any, list[str], np.ndarray]:
        """The symmetric CSR matrix (float64), its words and their counts, most frequent first.

        Words seen fewer than `min_count` times, or beyond the `max_vocab` most
        frequent, lose their row and column.
        """
        import scipy.sparse as sp

        self._merge()
        n = len(self.index)
        counts = self.word_counts[:n]
        words = np.empty(n, dtype=object)
        for word, i in self.index.items():
            words[i] = word
        # most frequent first, ties in order of first appearance (stable sort)
        order = np.argsort(-counts, kind="stable")
        order = order[counts[order] >= min_count]
        if not self.fixed:
            order = order[counts[order] > 0]
        if max_vocab is not None:
            order = order[:max_vocab]
        new_id = np.full(n, -1, dtype=np.int64)
        new_id[order] = np.arange(len(order))
        rows = new_id[self.table_keys >> _SHIFT]
        cols = new_id[self.table_keys & _LOW]
        keep = (rows >= 0) & (cols >= 0)
        size = len(order)
        upper = sp.csr_matrix(
            (self.table_vals[keep], (rows[keep], cols[keep])), shape=(size, size), dtype=np.float64
        )
        matrix = (upper + upper.T).tocsr()
        matrix.sum_duplicates()
        matrix.sort_indices()
        return matrix, [str(w) for w in words[order]], counts[order].copy()


def ppmi(matrix: Any, context_smoothing: float = 1.0) -> Any:
    """Positive pointwise mutual information of a co-occurrence matrix (CSR in, CSR out).

    PMI(w, c) = log(P(w, c) / (P(w) P_α(c))) with the context distribution raised to
    `context_smoothing` (α = 0.75 in Levy, Goldberg & Dagan 2015; 1 = plain PMI);
    negative values become 0 and are not stored.
    """
    import scipy.sparse as sp

    m = sp.csr_matrix(matrix, dtype=np.float64)
    total = m.sum()
    row_sums = np.asarray(m.sum(axis=1)).ravel()
    col_sums = np.asarray(m.sum(axis=0)).ravel() ** context_smoothing
    col_p = col_sums / col_sums.sum()
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    with np.errstate(divide="ignore"):
        pmi = np.log(m.data / total) - np.log(row_sums[rows] / total) - np.log(col_p[m.indices])
    pmi[pmi < 0] = 0.0
    out = sp.csr_matrix((pmi, m.indices.copy(), m.indptr.copy()), shape=m.shape)
    out.eliminate_zeros()
    return out


@register("represent", "cooccurrence")
class Cooccurrence(TokenSelection, TransformerMixin, BaseEstimator):
    """Word-word co-occurrence matrix from one streaming pass: sparse, symmetric, optionally PPMI.

    - `window`: words on each side that count as context (inside one document).
    - `weighting`: "none" (each pair counts 1) or "harmonic" (1/distance, as GloVe).
    - `min_count`, `max_vocab`: drop rare words (their rows and columns) after counting.
    - `ppmi`: also compute positive PMI, with `context_smoothing` α (0.75 is common).

    Learned: `words_` (rows, most frequent first), `word_counts_`, `matrix_` (symmetric
    CSR of weighted counts) and `ppmi_` (or None). `transform(docs)` maps each
    document to the sum of its words' rows (PPMI rows with `ppmi`), a CSR matrix.
    """

    version = "1"

    def __init__(
        self,
        *,
        field: Field = "lower",
        drop_stop: bool = False,
        drop_punct: bool = True,
        window: Annotated[int, Range(ge=1)] = 5,
        weighting: Literal["none", "harmonic"] = "none",
        min_count: Annotated[int, Range(ge=1)] = 1,
        max_vocab: Annotated[int, Range(ge=1)] | None = None,
        ppmi: bool = False,
        context_smoothing: Annotated[float, Range(gt=0.0, le=1.0)] = 1.0,
    ):
        self.field = field
        self.drop_stop = drop_stop
        self.drop_punct = drop_punct
        self.window = window
        self.weighting = weighting
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.ppmi = ppmi
        self.context_smoothing = context_smoothing

    def fit(self, corpus: Iterable[Any], y: Any = None) -> Cooccurrence:
        """Count co-occurrences over the corpus in one pass; returns self."""
        counter = CooccurrenceCounter(window=self.window, weighting=self.weighting)
        for doc in corpus:
            counter.add(self.select(doc))
        matrix, words, counts = counter.result(min_count=self.min_count, max_vocab=self.max_vocab)
        if not words:
            raise EmptyVocabularyError(
                f"cooccurrence: no word left after token selection (field={self.field!r}, "
                f"drop_stop={self.drop_stop}, drop_punct={self.drop_punct}) and min_count={self.min_count}"
            )
        self.words_ = words
        self.word_counts_ = counts
        self.matrix_ = matrix
        self.ppmi_ = ppmi(matrix, self.context_smoothing) if self.ppmi else None
        self.vocabulary_ = {w: i for i, w in enumerate(words)}
        return self

    def transform(self, docs: Iterable[Any]) -> Any:
        """Each document as the sum of its words' rows (raw or PPMI): a CSR matrix."""
        import scipy.sparse as sp

        index = self.vocabulary_
        rows, cols = [], []
        n_docs = 0
        for n_docs, doc in enumerate(docs, start=1):
            ids = [index[t] for t in self.select(doc) if t in index]
            rows.extend([n_docs - 1] * len(ids))
            cols.extend(ids)
        bag = sp.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(n_docs, len(self.words_)), dtype=np.float64
        )
        return bag @ (self.ppmi_ if self.ppmi_ is not None else self.matrix_)

    def save(self, path: str | Path) -> Path:
        """Write `learner.json`, `vocabulary.json`, `word_counts.npy`, `matrix.npz` (+ `ppmi.npz`)."""
        import scipy.sparse as sp

        folder = write_learner(self, path)
        write_json(folder / "vocabulary.json", self.words_)
        np.save(folder / "word_counts.npy", self.word_counts_)
        sp.save_npz(folder / "matrix.npz", self.matrix_)
        if self.ppmi_ is not None:
            sp.save_npz(folder / "ppmi.npz", self.ppmi_)
        return folder

    @classmethod
    def load(cls, path: str | Path) -> Cooccurrence:
        """Load a learner saved with `save` (npz/npy read without pickle)."""
        import scipy.sparse as sp

        learner, folder = read_learner(cls, path)
        learner.words_ = read_json(folder / "vocabulary.json")
        learner.vocabulary_ = {w: i for i, w in enumerate(learner.words_)}
        learner.word_counts_ = load_array(folder / "word_counts.npy")
        learner.matrix_ = sp.load_npz(folder / "matrix.npz").tocsr()
        ppmi_path = folder / "ppmi.npz"
        learner.ppmi_ = sp.load_npz(ppmi_path).tocsr() if ppmi_path.is_file() else None
        return learner

    def export(self, corpus: Iterable[Any], out_dir: str | Path) -> dict[str, Path]:
        """Write the word-word matrix (`cooccurrence.npz`, + `ppmi.npz`) and `vocabulary.json`."""
        import scipy.sparse as sp

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        sp.save_npz(out / "cooccurrence.npz", self.matrix_)
        write_json(out / "vocabulary.json", self.words_)
        paths = {"matrix": out / "cooccurrence.npz", "vocabulary": out / "vocabulary.json"}
        if self.ppmi_ is not None:
            sp.save_npz(out / "ppmi.npz", self.ppmi_)
            paths["ppmi"] = out / "ppmi.npz"
        return paths
