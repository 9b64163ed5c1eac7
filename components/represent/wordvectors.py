"""The common base of the word-vector learners (Word2Vec, FastText, GloVe, pretrained).

A fitted learner holds gensim `KeyedVectors` in `wv_`, usable anywhere word vectors
are (document vectors, embedding initialisation, `most_similar`). `transform(docs)`
returns each document's mean word vector; `export` writes the vectors in word2vec
text format; `save`/`load` use `.npy` + JSON (no pickle).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .persist import (
    export_word2vec,
    load_keyed_vectors,
    read_learner,
    save_keyed_vectors,
    write_learner,
)
from .tokens import TokenSelection

__all__ = ["WordVectorLearner", "mean_vectors"]


def mean_vectors(kv: Any, token_lists: Iterable[list[str]], *, oov: bool = False) -> np.ndarray:
    """Mean vector of each token list over the words `kv` knows (zeros when it knows none).

    With `oov`, every word counts (FastText builds vectors for unseen words).
    """
    rows = []
    for tokens in token_lists:
        words = tokens if oov else [t for t in tokens if t in kv.key_to_index]
        if words:
            rows.append(
                np.mean([kv[w] for w in words], axis=0)
                if oov
                else kv.vectors[[kv.key_to_index[w] for w in words]].mean(axis=0)
            )
        else:
            rows.append(np.zeros(kv.vector_size, dtype=np.float32))
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), kv.vector_size)


class WordVectorLearner(TokenSelection, TransformerMixin, BaseEstimator):
    """Base class: learned word vectors in `wv_` (gensim KeyedVectors)."""

    wv_: Any

    def transform(self, docs: Iterable[Any]) -> np.ndarray:
        """Each document's mean word vector, shape `(n_docs, vector_size)`, float32."""
        return mean_vectors(self.wv_, (self.select(doc) for doc in docs))

    def most_similar(self, word: str, topn: int = 10) -> list[tuple[str, float]]:
        """The `topn` nearest words by cosine similarity."""
        return self.wv_.most_similar(word, topn=topn)

    def save(self, path: str | Path) -> Path:
        """Write `learner.json`, `vectors.npy` and `vocab.json` (words and counts) into `path`."""
        folder = write_learner(self, path)
        self._save_state(folder)
        return folder

    def _save_state(self, folder: Path) -> None:
        save_keyed_vectors(self.wv_, folder)

    @classmethod
    def load(cls, path: str | Path) -> Any:
        """Load a learner saved with `save` (no pickle: `.npy` and JSON only)."""
        learner, folder = read_learner(cls, path)
        learner._load_state(folder)
        return learner

    def _load_state(self, folder: Path) -> None:
        self.wv_ = load_keyed_vectors(folder)

    def export(self, corpus: Iterable[Any], out_dir: str | Path) -> dict[str, Path]:
        """Write `vectors.txt` in word2vec text format (read it with
        `KeyedVectors.load_word2vec_format(path)`) into `out_dir`."""
        out = Path(out_dir)
        return {"vectors": export_word2vec(self.wv_, out / "vectors.txt")}
