"""Document vectors from word vectors: mean, TF-IDF-weighted mean, SIF (Arora, Liang & Ma 2017)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field as Range
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline.registry import register

from .persist import (
    load_array,
    load_keyed_vectors,
    read_json,
    read_learner,
    save_keyed_vectors,
    write_json,
    write_learner,
)
from .pretrained import Format, load_vectors
from .tokens import Field, TokenSelection

__all__ = ["DocVectors"]


@register("represent", "docvectors")
class DocVectors(TokenSelection, TransformerMixin, BaseEstimator):
    """Document vectors over any word vectors: mean, TF-IDF-weighted mean or SIF.

    - `vectors`: where the word vectors come from: a packaged name ("glove-6b-50d",
      "spacy-md"), a vectors file or a folder saved by a word-vector learner
      (`format`, `limit` as in `pretrained`). From Python it may also be gensim
      `KeyedVectors` or a fitted word-vector learner.
    - `method`: "mean" (plain average of the known words), "tfidf" (average weighted
      by each word's tf × idf in the document, idf = ln((1+N)/(1+df)) + 1 from the
      fitting corpus), "sif" (weights a / (a + p(w)) with p(w) the word's frequency
      in the fitting corpus, then the first `components` principal directions of
      the fitted documents' vectors removed).
    - `sif_a`: the SIF smoothing constant (1e-3 in the paper).

    Words without a vector are skipped; a document with none gets the zero vector.
    `transform` returns a float32 array `(n_docs, dim)`.
    """

    version = "1"

    def __init__(
        self,
        *,
        vectors: Any = "glove-6b-50d",
        format: Format = "auto",
        limit: Annotated[int, Range(ge=1)] | None = None,
        method: Literal["mean", "tfidf", "sif"] = "sif",
        sif_a: Annotated[float, Range(gt=0.0)] = 1e-3,
        components: Annotated[int, Range(ge=0)] = 1,
        field: Field = "lower",
        drop_stop: bool = False,
        drop_punct: bool = True,
    ):
        self.vectors = vectors
        self.format = format
        self.limit = limit
        self.method = method
        self.sif_a = sif_a
        self.components = components
        self.field = field
        self.drop_stop = drop_stop
        self.drop_punct = drop_punct

    def _word_vectors(self) -> Any:
        source = self.vectors
        if isinstance(source, str | Path):
            return load_vectors(source, format=self.format, limit=self.limit)
        return getattr(source, "wv_", source)

    def fit(self, corpus: Iterable[Any], y: Any = None) -> DocVectors:
        """Load the word vectors and learn word weights (and SIF's common directions); returns self.

        "mean" reads nothing; "tfidf" reads the corpus once; "sif" twice (restartable corpus).
        """
        kv = self._word_vectors()
        self.wv_ = kv
        self.weights_ = None
        self.common_ = None
        if self.method == "mean":
            return self
        if self.method == "sif":
            self.token_corpus(corpus)  # fails early on a one-shot generator
        counts: Counter[str] = Counter()
        n_docs = 0
        for doc in corpus:
            tokens = self.select(doc)
            counts.update(set(tokens) if self.method == "tfidf" else tokens)
            n_docs += 1
        known = {w: c for w, c in counts.items() if w in kv.key_to_index}
        if self.method == "tfidf":
            self.weights_ = {
                w: float(np.log((1 + n_docs) / (1 + df)) + 1.0) for w, df in known.items()
            }
        else:
            total = sum(counts.values()) or 1
            self.weights_ = {w: self.sif_a / (self.sif_a + c / total) for w, c in known.items()}
            if self.components > 0:
                self.common_ = self._common_directions(self._weighted(corpus))
        return self

    def _common_directions(self, matrix: np.ndarray) -> np.ndarray | None:
        from sklearn.decomposition import TruncatedSVD

        k = min(self.components, matrix.shape[0] - 1, matrix.shape[1] - 1)
        if k < 1:
            return None
        svd = TruncatedSVD(n_components=k, n_iter=7, random_state=0)
        svd.fit(matrix)
        return svd.components_.astype(np.float32)

    def _weighted(self, docs: Iterable[Any]) -> np.ndarray:
        kv = self.wv_
        index = kv.key_to_index
        weights = self.weights_
        dim = kv.vector_size
        rows = []
        for doc in docs:
            tokens = [t for t in self.select(doc) if t in index]
            if not tokens:
                rows.append(np.zeros(dim, dtype=np.float32))
                continue
            vectors = kv.vectors[[index[t] for t in tokens]]
            if weights is None:  # mean
                rows.append(vectors.mean(axis=0))
                continue
            # per occurrence: idf (tfidf; the counts make it tf·idf) or a / (a + p(w)) (sif)
            w = np.array([weights.get(t, 1.0) for t in tokens], dtype=np.float32)
            weighted = (w[:, None] * vectors).sum(axis=0)
            rows.append(weighted / w.sum() if self.method == "tfidf" else weighted / len(tokens))
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), dim)

    def transform(self, docs: Iterable[Any]) -> np.ndarray:
        """The document vectors of a stream of documents (or token lists)."""
        matrix = self._weighted(docs)
        if self.common_ is not None:
            matrix = matrix - (matrix @ self.common_.T) @ self.common_
        return matrix

    def save(self, path: str | Path) -> Path:
        """Write `learner.json`, `weights.json`, `common.npy`; in-memory word vectors as `.npy` + JSON."""
        folder = write_learner(self, path)
        write_json(folder / "weights.json", self.weights_)
        if self.common_ is not None:
            np.save(folder / "common.npy", self.common_)
        if not isinstance(self.vectors, str | Path):
            save_keyed_vectors(self.wv_, folder, prefix="word_")
        return folder

    @classmethod
    def load(cls, path: str | Path) -> DocVectors:
        """Load a learner saved with `save`; named or file word vectors are loaded from their source again."""
        learner, folder = read_learner(cls, path)
        if (folder / "word_vectors.npy").is_file():
            learner.vectors = load_keyed_vectors(folder, prefix="word_")
        learner.wv_ = learner._word_vectors()
        learner.weights_ = read_json(folder / "weights.json")
        common = folder / "common.npy"
        learner.common_ = load_array(common) if common.is_file() else None
        return learner

    def export(self, corpus: Iterable[Any], out_dir: str | Path) -> dict[str, Path]:
        """Write the corpus' document vectors (`doc_vectors.npy`) and `doc_ids.json` (row order)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        ids: list[str] = []

        def recording() -> Iterable[Any]:
            for i, doc in enumerate(corpus):
                ids.append(getattr(doc, "id", str(i)))
                yield doc

        np.save(out / "doc_vectors.npy", self.transform(recording()))
        write_json(out / "doc_ids.json", ids)
        return {"doc_vectors": out / "doc_vectors.npy", "doc_ids": out / "doc_ids.json"}
