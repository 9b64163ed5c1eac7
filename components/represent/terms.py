"""Terms of a document: word n-grams, character n-grams, phrases; the base of the sparse learners.

A document's terms come from scikit-learn's own analyzer
(`CountVectorizer(...).build_analyzer()`) applied to the selected tokens: as they
are for word n-grams, joined by single spaces for character n-grams. So a learner
here and a scikit-learn vectorizer given the same tokens produce the same terms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline.stage import LazyResources

from .persist import read_json, read_learner, write_json, write_learner
from .phrases import frozen_phrases, phrases_to_json, train_phrases
from .termstats import TermStatistics, vocabulary_from_statistics
from .tokens import EmptyVocabularyError, TokenSelection

__all__ = ["TermLearner", "term_analyzer"]

ANALYZERS = ("word", "char", "char_wb")


def term_analyzer(analyzer: str, ngram_range: Sequence[int]) -> Callable[[list[str]], list[str]]:
    """scikit-learn's analyzer taking one token list to its terms.

    `analyzer` "word" makes word n-grams of the tokens; "char" and "char_wb" make
    character n-grams of the tokens joined by single spaces. `ngram_range` is
    `(min_n, max_n)`. Raises `ValueError` for another analyzer.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    if analyzer not in ANALYZERS:
        raise ValueError(f"unknown analyzer {analyzer!r}; use word, char or char_wb")
    word = analyzer == "word"
    return CountVectorizer(
        analyzer=analyzer,
        ngram_range=(int(ngram_range[0]), int(ngram_range[1])),
        preprocessor=_identity if word else _join_tokens,
        tokenizer=_identity if word else None,
        token_pattern=None,
        lowercase=False,
    ).build_analyzer()


def _join_tokens(tokens: list[str]) -> str:
    """The text character n-grams are made from."""
    return " ".join(tokens)


def _identity(terms: list[str]) -> list[str]:
    """Tokens that are already tokens; terms made before scikit-learn's counting sees them."""
    return terms


class TermLearner(TokenSelection, LazyResources, TransformerMixin, BaseEstimator):
    """Shared machinery of the sparse document-term learners (bag of words, one-hot, TF-IDF).

    Counting is scikit-learn's `CountVectorizer` over our terms, so vocabulary limits
    (`min_df`, `max_df`, `max_features`), column order (sorted terms) and dtypes are
    exactly scikit-learn's.
    """

    analyzer: str
    ngram_range: Sequence[int]
    min_df: float | int
    max_df: float | int
    max_features: int | None
    binary: bool
    phrases: bool

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """An `ngram_range` whose low end exceeds its high end (no term could be made)."""
        low, high = params["ngram_range"]
        if low > high:
            return [
                f"ngram_range: {[low, high]!r} is invalid: the low end {low} exceeds "
                f"the high end {high} (did you mean {[high, low]!r}?)"
            ]
        return []

    # ---- terms

    def _terms(self, docs: Iterable[Any]) -> Iterator[list[str]]:
        """Each document's terms: selected tokens, phrases joined when learned, n-grams."""
        analyze = term_analyzer(
            self.analyzer, self.ngram_range
        )  # once per stream, not per document
        phrases = self._resource("phrases", self._learned_phrases) if self.phrases else None
        for doc in docs:
            tokens = self.select(doc)
            if phrases is not None:
                tokens = phrases[tokens]
            yield analyze(tokens)

    def _term_lists(self, docs: Iterable[Any]) -> _TermStream:
        return _TermStream(self._terms(docs))

    def _counter(self, vocabulary: dict[str, int] | None = None) -> Any:
        from sklearn.feature_extraction.text import CountVectorizer

        return CountVectorizer(
            analyzer=_identity,
            token_pattern=None,
            lowercase=False,
            vocabulary=vocabulary,
            min_df=self.min_df,
            max_df=self.max_df,
            max_features=self.max_features,
            binary=self.binary,
            dtype=np.int64,
        )

    def _fit_counts(self, corpus: Iterable[Any]) -> tuple[Any, list[int]]:
        """Learn the vocabulary; return the document-term counts and each document's term count."""
        if self.phrases:
            phrases = self._keep_resource("phrases", train_phrases(self.token_corpus(corpus)))
            self.phrases_ = phrases_to_json(phrases)
        else:
            self._drop_resources("phrases")
            self.phrases_ = None
        counter = self._counter()
        stream = self._term_lists(corpus)
        try:
            counts = counter.fit_transform(stream)
        except ValueError:
            # Once every document is counted, CountVectorizer fails only for an empty
            # vocabulary: no terms at all, or none within min_df/max_df.
            if not stream.finished:
                raise
            n_docs = len(stream.lengths)
            if sum(stream.lengths) == 0:
                raise self._no_terms_error(n_docs) from None
            raise self._limits_error(n_docs) from None
        self.vocabulary_ = dict(counter.vocabulary_)
        self.terms_ = [str(t) for t in counter.get_feature_names_out()]
        self._keep_resource("count_vectorizer", counter)
        return counts, stream.lengths

    def _no_terms_error(self, n_docs: int) -> EmptyVocabularyError:
        """Token selection left no term in any document."""
        return EmptyVocabularyError(
            f"{self.name}: no terms left after token selection "  # type: ignore[attr-defined]
            f"(field={self.field!r}, drop_stop={self.drop_stop}, drop_punct={self.drop_punct}) "
            f"in {n_docs} documents: keep stop words or punctuation, or check the tokenize stage"
        )

    def _limits_error(self, n_docs: int) -> EmptyVocabularyError:
        """There are terms, but none within the `min_df`/`max_df` limits."""
        return EmptyVocabularyError(
            f"{self.name}: no term passes the vocabulary limits (min_df={self.min_df!r}, "  # type: ignore[attr-defined]
            f"max_df={self.max_df!r}) over {n_docs} documents: lower min_df or raise max_df"
        )

    # ---- fitting from per-shard counts (a run reduces them across its shards)

    def reduces_across_shards(self) -> bool:
        """Whether the vocabulary can be cut from merged per-shard counts.

        Not with `phrases`: collocations are learned over the whole corpus first.
        """
        return not self.phrases

    def shard_statistics(self, docs: Iterable[Any]) -> TermStatistics:
        """Document count, document frequencies and total counts of the terms of `docs`."""
        stats = TermStatistics()
        for terms in self._terms(docs):
            stats.add_document(terms)
        return stats

    def merge_statistics(self, first: TermStatistics, second: TermStatistics) -> TermStatistics:
        """The statistics of two disjoint sets of documents together (`first` is updated in place:
        merging shard after shard costs each shard's terms, not the whole vocabulary again)."""
        return first.update(second)

    def fit_statistics(self, stats: TermStatistics) -> Any:
        """Fit from merged `shard_statistics`: the same vocabulary (and idf) as `fit` on those documents."""
        if stats.terms == 0:
            raise self._no_terms_error(stats.documents)
        terms, dfs = vocabulary_from_statistics(
            stats,
            min_df=self.min_df,
            max_df=self.max_df,
            max_features=self.max_features,
            binary=self.binary,
        )
        if not terms:
            raise self._limits_error(stats.documents)
        self._drop_resources("phrases", "count_vectorizer")
        self.phrases_ = None
        self.terms_ = terms
        self.vocabulary_ = {term: i for i, term in enumerate(terms)}
        self._learn_document_frequencies(stats.documents, dfs.astype(np.float64))
        return self

    def _learn_document_frequencies(self, n_docs: int, df: np.ndarray) -> None:
        """Hook for learners that keep corpus statistics beyond the vocabulary (TF-IDF's idf)."""

    def _transform_counts(self, docs: Iterable[Any]) -> tuple[Any, list[int]]:
        counter = self._resource("count_vectorizer", self._vocabulary_counter)
        stream = self._term_lists(docs)
        return counter.transform(stream), stream.lengths

    def _vocabulary_counter(self) -> Any:
        """The counter for the learned vocabulary (as fitted, or loaded from a folder)."""
        return self._counter(self.vocabulary_)

    def _learned_phrases(self) -> Any:
        """The phrase model learned by `fit`, rebuilt from `phrases_` (e.g. after `load`)."""
        return frozen_phrases(self.phrases_)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The vocabulary in column order (scikit-learn's name for it)."""
        return np.asarray(self.terms_, dtype=object)

    # ---- persistence

    def _save_state(self, folder: Path) -> None:
        write_json(folder / "vocabulary.json", self.terms_)
        if self.phrases_ is not None:
            write_json(folder / "phrases.json", self.phrases_)

    def _load_state(self, folder: Path) -> None:
        self.terms_ = read_json(folder / "vocabulary.json")
        self.vocabulary_ = {term: i for i, term in enumerate(self.terms_)}
        phrases = folder / "phrases.json"
        self.phrases_ = read_json(phrases) if phrases.is_file() else None

    def save(self, path: str | Path) -> Path:
        """Write `learner.json`, `vocabulary.json` (terms in column order) and learned arrays."""
        folder = write_learner(self, path)
        self._save_state(folder)
        return folder

    @classmethod
    def load(cls, path: str | Path) -> Any:
        """Load a learner saved with `save` (JSON and `.npy` only)."""
        learner, folder = read_learner(cls, path)
        learner._load_state(folder)
        return learner

    def export(self, corpus: Iterable[Any], out_dir: str | Path) -> dict[str, Path]:
        """Write the corpus' document-term matrix (`matrix.npz`, scipy CSR), `vocabulary.json`
        (terms in column order) and `doc_ids.json` (row order) into `out_dir`."""
        ids: list[str] = []
        matrix = self.transform(_recording_ids(corpus, ids))
        return self.export_shards([(ids, matrix)], out_dir)

    def shard_matrix(self, docs: Iterable[Any]) -> tuple[list[str], Any]:
        """(document ids, matrix rows) of one shard, for `export_shards`."""
        ids: list[str] = []
        return ids, self.transform(_recording_ids(docs, ids))

    def export_shards(
        self, shards: Iterable[tuple[list[str], Any]], out_dir: str | Path
    ) -> dict[str, Path]:
        """`export` from per-shard `shard_matrix` results, stacked in the order given."""
        import scipy.sparse as sp

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        ids: list[str] = []
        blocks = []
        for shard_ids, matrix in shards:
            ids.extend(shard_ids)
            blocks.append(sp.csr_matrix(matrix))
        n_terms = len(self.terms_)
        matrix = sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, n_terms))
        sp.save_npz(out / "matrix.npz", matrix, compressed=True)
        write_json(out / "vocabulary.json", self.terms_)
        write_json(out / "doc_ids.json", ids)
        return {
            "matrix": out / "matrix.npz",
            "vocabulary": out / "vocabulary.json",
            "doc_ids": out / "doc_ids.json",
        }


class _TermStream:
    """The term lists handed to scikit-learn, recording what went through: each
    document's number of terms, and whether the stream was read to its end."""

    def __init__(self, term_lists: Iterable[list[str]]):
        self.term_lists = term_lists
        self.lengths: list[int] = []
        self.finished = False

    def __iter__(self) -> Iterator[list[str]]:
        for terms in self.term_lists:
            self.lengths.append(len(terms))
            yield terms
        self.finished = True


def _recording_ids(corpus: Iterable[Any], ids: list[str]) -> Iterator[Any]:
    for i, doc in enumerate(corpus):
        ids.append(getattr(doc, "id", str(i)))
        yield doc
