"""The topic models behind `lda` and `nmf`: vocabulary, compact bags of words, fitting,
per-document distributions, coherence, and saving as plain files.

- `PackedBows`: the bags of words of a corpus in three flat arrays (restartable, with
  `len`, iterating as gensim's lists of `(term id, count)`), so a large corpus does not
  sit in memory as millions of Python tuples.
- `LdaModelFit`: gensim's `LdaModel` (`LdaMulticore` with `workers` > 1). A document's
  distribution is inferred with the model's random state reseeded first, so it is the
  same in the run's predictions, in `nlp predict`, and after a save/load round trip.
  Saved as `.npy` (topic-word sufficient statistics, alpha, eta): gensim's own `save`
  pickles, and loading never unpickles.
- `NmfModelFit`: scikit-learn's `NMF` over scikit-learn TF-IDF (`TfidfTransformer`) of
  the same counts; saved as `.npy` (`components_`, idf).
- `coherence_by_k`: gensim's `CoherenceModel` over the topics of every candidate number
  of topics at once (the word statistics are accumulated in one pass for all of them).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .topic_corpus import Bow, PackedBows

__all__ = ["LdaModelFit", "NmfModelFit", "coherence_by_k", "lda_params", "read_json"]


def _normalized(row: np.ndarray) -> np.ndarray | None:
    row = np.asarray(row, dtype=np.float64)
    total = row.sum()
    return row / total if total > 0 and math.isfinite(total) else None


class LdaModelFit:
    """A fitted gensim LDA model and how to infer a document's topic distribution."""

    def __init__(self, model: Any, dictionary: Any, seed: int):
        self.model = model
        self.dictionary = dictionary
        self.seed = seed
        self._rng = np.random.RandomState(seed)
        model.random_state = self._rng

    @classmethod
    def fit(
        cls,
        bows: PackedBows,
        dictionary: Any,
        num_topics: int,
        *,
        passes: int,
        iterations: int,
        alpha: str | float,
        workers: int,
        seed: int,
    ) -> LdaModelFit:
        """Train on `bows` (gensim's `LdaModel`, or `LdaMulticore` with `workers` > 1)."""
        from gensim.models import LdaModel, LdaMulticore

        params = lda_params(
            num_topics, passes=passes, iterations=iterations, alpha=alpha, seed=seed
        )
        if workers > 1:
            model = LdaMulticore(bows, id2word=dictionary, workers=workers, **params)
        else:
            model = LdaModel(bows, id2word=dictionary, **params)
        return cls(model, dictionary, seed)

    @property
    def num_topics(self) -> int:
        """The number of topics."""
        return int(self.model.num_topics)

    def topic_terms(self, topn: int) -> list[list[tuple[str, float]]]:
        """Each topic's `topn` most probable words with their probabilities."""
        topics = self.model.get_topics()  # (topics, terms), rows sum to 1
        return _top_terms(topics, self.dictionary, topn)

    def distribution(self, bow: Bow) -> np.ndarray | None:
        """The topic distribution of one bag of words (the same every call)."""
        if not bow:
            return None
        self._rng.seed(self.seed)
        gamma, _ = self.model.inference([bow])
        return _normalized(gamma[0])

    def training_distributions(self, bows: PackedBows) -> Iterator[np.ndarray | None]:
        """The distribution of each training bag, in order."""
        for bow in bows:
            yield self.distribution(bow)

    def save(self, folder: Path) -> None:
        """Write `lda_sstats.npy`, `lda_alpha.npy`, `lda_eta.npy`."""
        np.save(folder / "lda_sstats.npy", self.model.state.sstats)
        np.save(folder / "lda_alpha.npy", np.asarray(self.model.alpha))
        np.save(folder / "lda_eta.npy", np.asarray(self.model.eta))

    @classmethod
    def load(cls, folder: Path, dictionary: Any, *, iterations: int, seed: int) -> LdaModelFit:
        """The model saved by `save`, rebuilt around its saved topic-word statistics."""
        from gensim.models import LdaModel

        sstats = np.load(folder / "lda_sstats.npy", allow_pickle=False)
        alpha = np.load(folder / "lda_alpha.npy", allow_pickle=False)
        eta = np.load(folder / "lda_eta.npy", allow_pickle=False)
        model = LdaModel(
            id2word=dictionary,
            num_topics=sstats.shape[0],
            alpha=alpha,
            eta=eta,
            iterations=iterations,
            random_state=seed,
            dtype=sstats.dtype,
        )
        model.state.sstats[...] = sstats
        model.sync_state()
        return cls(model, dictionary, seed)


def lda_params(
    num_topics: int, *, passes: int, iterations: int, alpha: str | float, seed: int
) -> dict[str, Any]:
    """The keyword arguments `lda` gives gensim's `LdaModel` (the benchmark gives bare
    gensim the same). `eval_every=None`: no perplexity estimate after each pass (it costs
    an extra inference pass and nothing reads it)."""
    return {
        "num_topics": num_topics,
        "passes": passes,
        "iterations": iterations,
        "alpha": alpha,
        "random_state": seed,
        "eval_every": None,
    }


class NmfModelFit:
    """A fitted scikit-learn NMF over TF-IDF of the bags of words."""

    def __init__(
        self,
        components: np.ndarray,
        idf: np.ndarray,
        dictionary: Any,
        *,
        init: str,
        max_iter: int,
        seed: int,
        doc_topic: np.ndarray | None = None,
    ):
        self.components = components
        self.idf = idf
        self.dictionary = dictionary
        self.init = init
        self.max_iter = max_iter
        self.seed = seed
        self.doc_topic = doc_topic  # W of the training documents (not saved)

    @classmethod
    def fit(
        cls,
        bows: PackedBows,
        dictionary: Any,
        num_topics: int,
        *,
        init: str,
        max_iter: int,
        seed: int,
    ) -> NmfModelFit:
        """TF-IDF (`TfidfTransformer`: l2 rows, smoothed idf) of the counts, then `NMF`."""
        from sklearn.decomposition import NMF
        from sklearn.feature_extraction.text import TfidfTransformer

        tfidf = TfidfTransformer()
        matrix = tfidf.fit_transform(bows.counts_matrix(len(dictionary)))
        nmf = NMF(n_components=num_topics, init=init, max_iter=max_iter, random_state=seed)
        doc_topic = nmf.fit_transform(matrix)
        return cls(
            nmf.components_,
            tfidf.idf_,
            dictionary,
            init=init,
            max_iter=max_iter,
            seed=seed,
            doc_topic=doc_topic,
        )

    @property
    def num_topics(self) -> int:
        """The number of topics."""
        return int(self.components.shape[0])

    def topic_terms(self, topn: int) -> list[list[tuple[str, float]]]:
        """Each topic's `topn` heaviest words, weights as shares of the topic's row."""
        totals = self.components.sum(axis=1, keepdims=True)
        return _top_terms(
            self.components / np.where(totals > 0, totals, 1.0), self.dictionary, topn
        )

    def distribution(self, bow: Bow) -> np.ndarray | None:
        """A new document's topic weights (NMF's transform, components fixed), normalized to
        sum to 1; `None` when the document gets no weight on any topic."""
        from sklearn.decomposition import non_negative_factorization
        from sklearn.preprocessing import normalize

        if not bow:
            return None
        packed = PackedBows()
        packed.append(bow)
        row = packed.counts_matrix(len(self.idf)).multiply(self.idf).tocsr()
        weights, _, _ = non_negative_factorization(
            normalize(row),
            H=self.components,
            n_components=self.num_topics,
            init=None,
            update_H=False,
            max_iter=self.max_iter,
            random_state=self.seed,
        )
        return _normalized(weights[0])

    def training_distributions(self, bows: PackedBows) -> Iterator[np.ndarray | None]:
        """The training documents' rows of NMF's document-topic matrix, normalized."""
        assert self.doc_topic is not None, "only a model fitted in this process has them"
        for row in self.doc_topic:
            yield _normalized(row)

    def save(self, folder: Path) -> None:
        """Write `nmf_components.npy` and `nmf_idf.npy`."""
        np.save(folder / "nmf_components.npy", self.components)
        np.save(folder / "nmf_idf.npy", self.idf)

    @classmethod
    def load(
        cls, folder: Path, dictionary: Any, *, init: str, max_iter: int, seed: int
    ) -> NmfModelFit:
        """The model saved by `save`."""
        components = np.load(folder / "nmf_components.npy", allow_pickle=False)
        idf = np.load(folder / "nmf_idf.npy", allow_pickle=False)
        return cls(components, idf, dictionary, init=init, max_iter=max_iter, seed=seed)


def _top_terms(topics: np.ndarray, dictionary: Any, topn: int) -> list[list[tuple[str, float]]]:
    out = []
    for row in topics:
        order = np.argsort(-row, kind="stable")[:topn]
        out.append([(dictionary[int(i)], float(row[i])) for i in order])
    return out


def coherence_by_k(
    topics_by_k: Mapping[int, Sequence[Sequence[str]]],
    *,
    measure: str,
    dictionary: Any,
    texts: Iterable[list[str]],
    bows: PackedBows,
) -> dict[int, tuple[float | None, list[float | None]]]:
    """`{k: (mean coherence, per-topic coherences)}` by gensim's `CoherenceModel` (`c_v`,
    `c_npmi` over `texts`, a restartable iterable of token lists; `u_mass` over `bows`).
    NaN values (a word pair never seen together under some measures) become `None`."""
    from gensim.models.coherencemodel import CoherenceModel

    union = [list(t) for topics in topics_by_k.values() for t in topics]
    topn = max(len(t) for t in union)
    source: dict[str, Any] = {"corpus": bows} if measure == "u_mass" else {"texts": texts}
    model = CoherenceModel(
        topics=union, dictionary=dictionary, coherence=measure, topn=topn, processes=1, **source
    )
    model.estimate_probabilities()  # once, for the words of every k's topics
    out: dict[int, tuple[float | None, list[float | None]]] = {}
    for k, topics in topics_by_k.items():
        model.topics = [list(t) for t in topics]  # a subset of the union: statistics kept
        per_topic = [_finite(v) for v in model.get_coherence_per_topic()]
        values = [v for v in per_topic if v is not None]
        out[k] = (float(np.mean(values)) if values else None, per_topic)
    return out


def _finite(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def read_json(path: Path) -> Any:
    """The JSON content of `path`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
