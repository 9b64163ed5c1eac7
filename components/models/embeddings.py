"""Initial embedding matrices for the token-id networks, from pretrained or run-trained vectors.

`embedding_matrix(source, vocabulary, run_dir=..., seed=...)` gives one row per vocabulary
id. `source` is a packaged name (`glove-6b-50d`, `spacy-md`), the name of a word-vector
learner fitted in this run (`word2vec`, `fasttext`, `glove`, `pretrained`: read from
`run_dir/represent/NAME/` by that learner's own `load`), or a path to word2vec/GloVe
vectors (text or binary) or a saved learner folder. Vectors load through
`components.represent.pretrained.load_vectors`; nothing is downloaded.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from .vocab import Vocabulary

__all__ = ["EMBEDDING_NAMES", "EmbeddingsError", "embedding_matrix", "load_word_vectors"]

log = logging.getLogger(__name__)

PACKAGED = ("glove-6b-50d", "spacy-md")
LEARNERS = ("word2vec", "fasttext", "glove", "pretrained")
EMBEDDING_NAMES: tuple[str, ...] = PACKAGED + LEARNERS


class EmbeddingsError(ValueError):
    """The `embeddings` setting names no vectors that can be loaded; the message lists the valid ones."""


def load_word_vectors(source: str, *, run_dir: Path | None = None) -> Any:
    """gensim `KeyedVectors` for `source` (a packaged name, a learner of the run, or a path)."""
    from components.represent.pretrained import load_vectors

    if source in PACKAGED:
        return load_vectors(source)
    folder = None if run_dir is None else Path(run_dir) / "represent" / source
    if folder is not None and (folder / "learner.json").is_file():
        from pipeline import registry

        learner = json.loads((folder / "learner.json").read_text("utf-8"))["learner"]
        return registry.lookup("represent", learner).load(folder).wv_  # type: ignore[attr-defined]
    if Path(source).expanduser().exists():
        return load_vectors(source)
    where = (
        f"no learner {source!r} was fitted in {run_dir}/represent"
        if run_dir is not None and source in LEARNERS
        else "not a packaged name, a learner of this run, or an existing file"
    )
    raise EmbeddingsError(
        f"embeddings: {source!r}: {where}; use one of {', '.join(EMBEDDING_NAMES)} "
        "(a learner must be listed under represent:) or a path to word2vec/GloVe vectors"
    )


def embedding_matrix(
    source: str, vocabulary: Vocabulary, *, run_dir: Path | None = None, seed: int = 0
) -> tuple[np.ndarray, float]:
    """A float32 matrix `(len(vocabulary), dim)` of the vectors of `source`, and the coverage.

    Row 0 (padding) is zeros. A word missing from the vectors takes its lowercase form's
    vector when there is one, else a random normal vector (seeded) with the vectors' std.
    Coverage is the share of vocabulary words (without pad/unknown) that got a real vector.
    """
    kv = load_word_vectors(source, run_dir=run_dir)
    vectors = np.asarray(kv.vectors, dtype=np.float32)
    rng = np.random.default_rng(seed)
    std = float(vectors.std()) if vectors.size else 1.0
    matrix = rng.normal(0.0, std, size=(len(vocabulary), kv.vector_size)).astype(np.float32)
    matrix[0] = 0.0
    index = kv.key_to_index
    found = 0
    for i, word in enumerate(vocabulary.words[2:], start=2):
        row = index.get(word)
        if row is None:
            row = index.get(word.lower())
        if row is not None:
            matrix[i] = vectors[row]
            found += 1
    coverage = found / max(1, len(vocabulary) - 2)
    log.info(
        "embeddings %s: %d of %d words found (coverage %.1f%%), dimension %d",
        source,
        found,
        len(vocabulary) - 2,
        100 * coverage,
        kv.vector_size,
    )
    return matrix, coverage
