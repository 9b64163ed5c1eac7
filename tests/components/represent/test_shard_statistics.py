"""Term learners fitted from per-shard counts merged across shards: the same model as one pass."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from components.represent import BagOfWords, EmptyVocabularyError, OneHot, TfIdf


def fit_in_shards(learner, docs, sizes):
    """Count `docs` cut into consecutive shards of the given sizes, merge, fit."""
    merged, start = None, 0
    for size in sizes:
        stats = learner.shard_statistics(docs[start : start + size])
        merged = stats if merged is None else learner.merge_statistics(merged, stats)
        start += size
    assert start == len(docs)
    return learner.fit_statistics(merged)


SHARDINGS = [[300], [1] * 300, [37] * 8 + [4], [150, 0, 150], [7, 293]]


@pytest.mark.parametrize("sizes", SHARDINGS, ids=lambda s: f"{len(s)}-shards")
@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"min_df": 2, "max_df": 0.5, "max_features": 400},
        {"ngram_range": (1, 2), "min_df": 0.01, "sublinear_tf": True},
        {"max_features": 1000, "binary": True, "norm": "l1"},
        {"analyzer": "char_wb", "ngram_range": (2, 4), "min_df": 3},
        {"variant": "textbook", "max_features": 800, "drop_stop": True},
    ],
)
def test_tfidf_from_merged_shards_equals_one_pass_and_scikit_learn(lee_docs, settings, sizes):
    one_pass = TfIdf(**settings).fit(lee_docs)
    sharded = fit_in_shards(TfIdf(**settings), lee_docs, sizes)
    assert sharded.terms_ == one_pass.terms_
    np.testing.assert_array_equal(sharded.idf_, one_pass.idf_)
    assert abs(sharded.transform(lee_docs) - one_pass.transform(lee_docs)).max() == 0
    if settings.get("variant") != "textbook":
        joined = [" ".join(one_pass.select(d)) for d in lee_docs]
        word = settings.get("analyzer", "word") == "word"
        options = {k: v for k, v in settings.items() if k not in ("drop_stop",)}
        extra = {"tokenizer": str.split, "token_pattern": None} if word else {}
        reference = TfidfVectorizer(lowercase=False, **extra, **options).fit(joined)
        assert sharded.terms_ == list(reference.get_feature_names_out())


@pytest.mark.parametrize("cls", [BagOfWords, OneHot])
def test_counts_from_merged_shards_equal_countvectorizer(lee_docs, cls):
    # max_features cuts among many tied counts: the tie order must be scikit-learn's too
    learner = fit_in_shards(cls(max_features=2000, min_df=1), lee_docs, [50] * 6)
    joined = [" ".join(learner.select(d)) for d in lee_docs]
    reference = CountVectorizer(
        lowercase=False,
        tokenizer=str.split,
        token_pattern=None,
        max_features=2000,
        binary=cls is OneHot,
    )
    expected = reference.fit_transform(joined)
    assert learner.terms_ == list(reference.get_feature_names_out())
    assert abs(learner.transform(lee_docs) - expected).max() == 0


def test_matrix_built_shard_by_shard_equals_the_corpus_transform(lee_docs, tmp_path):
    import scipy.sparse as sp

    learner = fit_in_shards(TfIdf(min_df=2), lee_docs, [100] * 3)
    parts = [learner.shard_matrix(lee_docs[i : i + 100]) for i in range(0, 300, 100)]
    learner.export_shards(parts, tmp_path)
    matrix = sp.load_npz(tmp_path / "matrix.npz")
    assert abs(matrix - learner.transform(lee_docs)).max() == 0


def test_limits_that_leave_nothing_say_what_to_change(lee_docs):
    learner = TfIdf(min_df=0.9, max_df=0.95, drop_stop=True)
    with pytest.raises(EmptyVocabularyError, match="lower min_df or raise max_df"):
        fit_in_shards(learner, lee_docs, [150, 150])
    with pytest.raises(EmptyVocabularyError, match="lower min_df or raise max_df"):
        fit_in_shards(TfIdf(min_df=10, max_df=5), lee_docs, [300])


def test_phrases_are_learned_over_the_whole_corpus_so_they_do_not_reduce():
    assert TfIdf().reduces_across_shards()
    assert not TfIdf(phrases=True).reduces_across_shards()
