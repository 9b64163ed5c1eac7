"""The topics task's corpus pass: compact bags of words, the vocabulary, the documents' dates.

`read_corpus` reads the (restartable) corpus once and keeps, per document, only its id,
its date and either a bag of words or why it has none; documents are not kept. The bags
sit in a `PackedBows`: three flat arrays (term ids, counts, row offsets), restartable,
with `len`, iterating as gensim's lists of `(term id, count)`, so a large corpus does not
sit in memory as millions of Python tuples. The vocabulary is a gensim `Dictionary`,
saved as plain JSON (`dictionary_to_json`), never pickled.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import numpy as np

from pipeline.config import ConfigError
from pipeline.document import Document

from ..ml.dates import read_date
from ..represent.tokens import Field
from .base import document_tokens

__all__ = [
    "NO_TERMS",
    "NO_TOKENS",
    "CorpusData",
    "PackedBows",
    "TokenTexts",
    "dictionary_from_json",
    "dictionary_to_json",
    "read_corpus",
]

Bow = list[tuple[int, int]]
NO_TOKENS = "no tokens"
NO_TERMS = "no vocabulary terms"  # tokens, but none within the vocabulary limits


class PackedBows:
    """Bags of words of many documents, packed: term ids, counts and row offsets in flat
    arrays (8 bytes a distinct term per document). Iterates (restartably) as gensim BoW lists."""

    def __init__(self) -> None:
        self._ids = array("i")
        self._counts = array("i")
        self._offsets = array("q", [0])

    def append(self, bow: Iterable[tuple[int, int]]) -> None:
        """Add one document's `(term id, count)` pairs."""
        pairs = list(bow)
        if pairs:
            terms, counts = zip(*pairs, strict=True)
            self._ids.extend(terms)
            self._counts.extend(counts)
        self._offsets.append(len(self._ids))

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, index: int) -> Bow:
        start, end = self._offsets[index], self._offsets[index + 1]
        return list(
            zip(self._ids[start:end].tolist(), self._counts[start:end].tolist(), strict=True)
        )

    def __iter__(self) -> Iterator[Bow]:
        ids, counts, offsets = self._ids, self._counts, self._offsets
        for i in range(len(offsets) - 1):
            start, end = offsets[i], offsets[i + 1]
            yield list(zip(ids[start:end].tolist(), counts[start:end].tolist(), strict=True))

    def remapped(self, mapping: np.ndarray) -> tuple[PackedBows, np.ndarray]:
        """The bags with term `t` renamed `mapping[t]`, terms mapped to -1 dropped (ids keep
        their relative order, so each bag stays sorted) and bags left empty dropped; also a
        boolean array, per original document, of whether its bag was dropped."""
        ids = np.frombuffer(self._ids, dtype=np.int32) if len(self._ids) else np.zeros(0, np.int32)
        counts = np.frombuffer(self._counts, dtype=np.int32) if len(ids) else ids
        new_ids = mapping[ids] if len(ids) else ids
        keep = new_ids >= 0
        rows = np.repeat(np.arange(len(self)), np.diff(np.frombuffer(self._offsets, np.int64)))
        lengths = np.bincount(rows[keep], minlength=len(self))
        out = PackedBows()
        out._ids = array("i", new_ids[keep].astype(np.int32).tobytes())
        out._counts = array("i", counts[keep].astype(np.int32).tobytes())
        offsets = np.concatenate([[0], np.cumsum(lengths[lengths > 0])]).astype(np.int64)
        out._offsets = array("q", offsets.tobytes())
        return out, lengths == 0

    def counts_matrix(self, n_terms: int) -> Any:
        """The bags as a CSR document-term count matrix (float64)."""
        import scipy.sparse as sp

        return sp.csr_matrix(
            (
                np.frombuffer(self._counts, dtype=np.int32).astype(np.float64),
                np.frombuffer(self._ids, dtype=np.int32),
                np.frombuffer(self._offsets, dtype=np.int64),
            ),
            shape=(len(self), n_terms),
        )


def dictionary_to_json(dictionary: Any) -> dict[str, Any]:
    """A gensim `Dictionary` as plain data: tokens in id order, document frequencies, counts."""
    tokens = [None] * len(dictionary)
    for token, index in dictionary.token2id.items():
        tokens[index] = token
    return {
        "tokens": tokens,
        "dfs": [int(dictionary.dfs.get(i, 0)) for i in range(len(tokens))],
        "num_docs": int(dictionary.num_docs),
    }


def dictionary_from_json(data: Mapping[str, Any]) -> Any:
    """The gensim `Dictionary` written by `dictionary_to_json`."""
    from gensim.corpora import Dictionary

    dictionary = Dictionary()
    dictionary.token2id = {token: i for i, token in enumerate(data["tokens"])}
    dictionary.dfs = {i: int(df) for i, df in enumerate(data["dfs"])}
    dictionary.num_docs = int(data["num_docs"])
    return dictionary


class CorpusData:
    """What the fit keeps per document: id, date, and a bag of words or why it has none."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.dates: list[datetime | None] = []
        self.slots: list[int | str] = []  # index into `bows`, or the reason it was skipped
        self.bows = PackedBows()
        self.dictionary: Any = None


def read_corpus(
    corpus: Iterable[Document],
    *,
    field: Field,
    drop_stop: bool,
    date_field: str | None,
    min_df: int,
    max_df: float,
    max_features: int | None,
    where: str,
) -> CorpusData:
    """One pass over `corpus`: each document's tokens into a gensim `Dictionary` and a packed
    bag of words, its date from `meta[date_field]`; then the vocabulary limits
    (`Dictionary.filter_extremes`). `ConfigError` at `where` when nothing is left to model."""
    from gensim.corpora import Dictionary

    data = CorpusData()
    dictionary = Dictionary()
    raw = PackedBows()
    for doc in corpus:
        data.ids.append(doc.id)
        data.dates.append(read_date(doc.meta.get(date_field)) if date_field else None)
        tokens = document_tokens(doc, field=field, drop_stop=drop_stop, where=where)
        if tokens:
            data.slots.append(len(raw))
            raw.append(dictionary.doc2bow(tokens, allow_update=True))
        else:
            data.slots.append(NO_TOKENS)
    if not len(raw):
        raise ConfigError(
            f"{where}: no document has tokens to model ({len(data.ids)} documents read"
            f"{', all empty after the stages' if data.ids else ''}): check the corpus and `stages:`"
        )
    before = dict(dictionary.token2id)
    dictionary.filter_extremes(no_below=min_df, no_above=max_df, keep_n=max_features)
    if not len(dictionary):
        raise ConfigError(
            f"{where}: no term is left in the vocabulary ({len(before)} terms in {len(raw)} "
            f"documents, none in at least min_df={min_df} and at most max_df={max_df} "
            "of them): lower min_df or raise max_df"
        )
    mapping = np.full(len(before), -1, dtype=np.int64)
    for token, new_id in dictionary.token2id.items():
        mapping[before[token]] = new_id
    bows, empty = raw.remapped(mapping)
    if empty.any():  # documents whose every token fell outside the vocabulary
        renumber = np.cumsum(~empty) - 1
        data.slots = [
            s if isinstance(s, str) else (NO_TERMS if empty[s] else int(renumber[s]))
            for s in data.slots
        ]
    data.bows = bows
    data.dictionary = dictionary
    return data


class TokenTexts:
    """The corpus' token lists, re-read from the corpus at each iteration (restartable)."""

    def __init__(self, corpus: Iterable[Document], *, field: Field, drop_stop: bool, where: str):
        self.corpus = corpus
        self.field = field
        self.drop_stop = drop_stop
        self.where = where

    def __iter__(self) -> Iterator[list[str]]:
        for doc in self.corpus:
            yield document_tokens(doc, field=self.field, drop_stop=self.drop_stop, where=self.where)
