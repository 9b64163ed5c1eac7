"""`represent:` learners fitted by the runner on the processed documents of a run."""

from __future__ import annotations

import json

import numpy as np
import scipy.sparse as sp
from gensim.models import KeyedVectors
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.config import resolve_config
from pipeline.runner import run
from pipeline.store import read_documents


def test_runner_fits_learners_exports_standard_formats_and_skips_them_when_unchanged(tmp_path):
    config = resolve_config(
        {
            "name": "represent",
            "corpus": {"reader": "lee-news", "limit": 120},
            "stages": [{"tokenize": {}}, {"stopwords": {}}],
            "represent": {
                "tfidf": {"min_df": 2},
                "word2vec": {"vector_size": 32, "epochs": 2, "seed": 1, "min_count": 2},
            },
            "execution": {"shard_size": 50},
            "output": {"dir": str(tmp_path / "run")},
        }
    )
    first = run(config)
    folder = first.run_dir / "represent"
    matrix = sp.load_npz(folder / "tfidf" / "matrix.npz")
    vocabulary = json.loads((folder / "tfidf" / "vocabulary.json").read_text())
    assert matrix.shape == (120, len(vocabulary))

    # the same tokens through scikit-learn give the same matrix
    docs = list(read_documents(first.run_dir))
    token_lists = [[t.lower() for t in d.tokens.text if any(c.isalnum() for c in t)] for d in docs]
    reference = TfidfVectorizer(analyzer=lambda tokens: tokens, min_df=2)
    expected = reference.fit_transform(token_lists)
    order = [reference.vocabulary_[w] for w in vocabulary]  # our column order
    assert set(reference.vocabulary_) == set(vocabulary)
    assert np.allclose(matrix.toarray(), expected.toarray()[:, order], atol=1e-9)

    vectors = KeyedVectors.load_word2vec_format(str(folder / "word2vec" / "vectors.txt"))
    assert vectors.vector_size == 32 and "said" in vectors.key_to_index

    again = run(config)
    assert all(row["reused"] for row in again.manifest["represent"].values())
