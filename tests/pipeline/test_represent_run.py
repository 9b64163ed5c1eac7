"""`represent:` learners fitted by the runner on the processed documents of a run."""

from __future__ import annotations

import json

import numpy as np
import pytest
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


def _represent_config(out, executor, **execution):
    return resolve_config(
        {
            "name": "reduce",
            "corpus": {"reader": "lee-news", "limit": 200},
            "stages": [{"tokenize": {"backend": "regex"}}],
            "represent": {
                "tfidf": {"min_df": 2, "max_df": 0.8, "ngram_range": [1, 2], "max_features": 3000},
                "bow": {"binary": True, "min_df": 3},
            },
            "execution": {"executor": executor, "shard_size": 40, **execution},
            "output": {"dir": str(out)},
        }
    )


def _represent_files_of(run_dir, name):
    """(matrix, vocabulary, row ids) a learner exported into a run folder."""
    folder = run_dir / "represent" / name
    return (
        sp.load_npz(folder / "matrix.npz"),
        json.loads((folder / "vocabulary.json").read_text()),
        json.loads((folder / "doc_ids.json").read_text()),
    )


def _represent_files(run_dir):
    return {name: _represent_files_of(run_dir, name) for name in ("tfidf", "bow")}


def _assert_same_learners(result, reference):
    ours, theirs = _represent_files(result.run_dir), _represent_files(reference.run_dir)
    for name in ("tfidf", "bow"):
        assert ours[name][1] == theirs[name][1]  # vocabulary, in column order
        assert ours[name][2] == theirs[name][2]  # row order: the corpus order
        assert abs(ours[name][0] - theirs[name][0]).max() == 0
    idf = [np.load(r.run_dir / "represent" / "tfidf" / "idf.npy") for r in (result, reference)]
    np.testing.assert_array_equal(*idf)


def test_vocabulary_and_idf_reduce_across_shards_on_worker_processes(tmp_path):
    serial = run(_represent_config(tmp_path / "serial", "serial"))
    rows = serial.manifest["represent"]
    assert rows["tfidf"]["shards_reduced"] == rows["bow"]["shards_reduced"] == 5

    # the reduction equals scikit-learn's single pass over the same tokens
    docs = list(read_documents(serial.run_dir))
    token_lists = [[t.lower() for t in d.tokens.text if any(c.isalnum() for c in t)] for d in docs]
    reference = TfidfVectorizer(
        analyzer=lambda tokens: tokens, min_df=2, max_df=0.8, max_features=3000
    ).fit([t + [" ".join(p) for p in zip(t, t[1:], strict=False)] for t in token_lists])
    assert _represent_files(serial.run_dir)["tfidf"][1] == list(reference.get_feature_names_out())

    processes = run(_represent_config(tmp_path / "processes", "processes", workers=2))
    assert processes.manifest["represent"]["tfidf"]["shards_reduced"] == 5
    _assert_same_learners(processes, serial)


@pytest.mark.slow
def test_vocabulary_and_idf_reduce_across_shards_on_dask(tmp_path):
    serial = run(_represent_config(tmp_path / "serial", "serial"))
    dask = run(_represent_config(tmp_path / "dask", "dask", workers=2))
    assert dask.manifest["represent"]["tfidf"]["shards_reduced"] == 5
    _assert_same_learners(dask, serial)


def test_tfidf_over_an_incremental_dataset_reduces_over_its_parts(tmp_path, lee_texts):
    import orjson

    path = tmp_path / "docs.jsonl"
    with path.open("wb") as fh:
        for i, text in enumerate(lee_texts[:90]):
            day = f"2024-05-{1 + i % 3:02d}T09:00:00+00:00"  # three partitions
            fh.write(orjson.dumps({"id": f"n{i}", "text": text, "published": day}) + b"\n")
    config = resolve_config(
        {
            "name": "incremental-tfidf",
            "corpus": {"reader": "jsonl", "path": str(path)},
            "stages": [{"tokenize": {"backend": "regex"}}],
            "represent": {"tfidf": {"min_df": 2}},
            "execution": {"shard_size": 30},
            "output": {"dir": str(tmp_path / "run"), "incremental": True},
        }
    )
    result = run(config)
    assert result.manifest["represent"]["tfidf"]["shards_reduced"] == 9  # 3 shards x 3 days
    matrix, vocabulary, doc_ids = _represent_files_of(result.run_dir, "tfidf")
    docs = list(read_documents(result.run_dir))
    assert doc_ids == [d.id for d in docs] and sorted(doc_ids) == sorted(f"n{i}" for i in range(90))
    token_lists = [[t.lower() for t in d.tokens.text if any(c.isalnum() for c in t)] for d in docs]
    reference = TfidfVectorizer(analyzer=lambda tokens: tokens, min_df=2)
    expected = reference.fit_transform(token_lists)
    assert vocabulary == list(reference.get_feature_names_out())
    assert abs(matrix - expected).max() <= 1e-12
