"""Figures of a recommender on held-out ratings: RMSE, MAE, precision@k and recall@k.

Ranking protocol ("among the held-out items"): for each user, the items of their held-out
ratings are ranked by the model's score (highest first, ties by the order given); the
relevant ones are those rated at least the relevance threshold (4 of 5 stars by default,
the usual choice on MovieLens). With `hits` the relevant items among the top `k`:

- precision@k = hits / min(k, n_u), n_u the user's held-out items, averaged over users
  with at least one held-out item;
- recall@k = hits / (the user's relevant held-out items), averaged over users with one.

A random order's expected precision is the share of relevant items (`chance_at_k`).
Because about half of all ratings are relevant, that floor is high; `catalogue_at_k` also
measures the usual top-N protocol: every item a user did not rate in training is ranked,
and the top k are checked against the user's relevant held-out items.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "SplitEvaluation",
    "catalogue_at_k",
    "chance_at_k",
    "evaluate_split",
    "mae",
    "ranking_at_k",
    "rmse",
]

USER_BLOCK = 256  # users whose catalogue scores are standardized at once


def rmse(truth: Sequence[float], predicted: Sequence[float]) -> float:
    """Root mean squared error."""
    diff = np.asarray(truth, dtype=np.float64) - np.asarray(predicted, dtype=np.float64)
    return float(np.sqrt(np.mean(diff**2)))


def mae(truth: Sequence[float], predicted: Sequence[float]) -> float:
    """Mean absolute error."""
    diff = np.asarray(truth, dtype=np.float64) - np.asarray(predicted, dtype=np.float64)
    return float(np.mean(np.abs(diff)))


def _groups(users: Sequence[Any]) -> list[np.ndarray]:
    """Row positions of each user's held-out ratings, in the order given."""
    _, codes = np.unique(np.asarray(users), return_inverse=True)
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    return np.split(order, bounds) if order.size else []


def ranking_at_k(
    users: Sequence[Any], scores: Sequence[float], relevant: Sequence[bool], k: int
) -> dict[str, float | int]:
    """precision@k and recall@k over the held-out rows (parallel arrays: the user, the
    model's score, whether the rating is relevant) under the module's protocol."""
    s = np.asarray(scores, dtype=np.float64)
    rel = np.asarray(relevant, dtype=bool)
    precisions, recalls = [], []
    for rows in _groups(users):
        ranked = rows[np.lexsort((np.arange(rows.size), -s[rows]))]  # stable on ties
        hits = int(rel[ranked[:k]].sum())
        precisions.append(hits / min(k, rows.size))
        relevant_total = int(rel[rows].sum())
        if relevant_total:
            recalls.append(hits / relevant_total)
    return {
        f"precision@{k}": float(np.mean(precisions)) if precisions else 0.0,
        f"recall@{k}": float(np.mean(recalls)) if recalls else 0.0,
        "users": len(precisions),
    }


def chance_at_k(users: Sequence[Any], relevant: Sequence[bool], k: int) -> dict[str, float | int]:
    """The expected precision@k and recall@k of a random order of each user's held-out items."""
    rel = np.asarray(relevant, dtype=bool)
    precisions, recalls = [], []
    for rows in _groups(users):
        share = float(rel[rows].mean())
        precisions.append(share)
        if rel[rows].any():
            recalls.append(min(k, rows.size) / rows.size)
    return {
        f"precision@{k}": float(np.mean(precisions)) if precisions else 0.0,
        f"recall@{k}": float(np.mean(recalls)) if recalls else 0.0,
        "users": len(precisions),
    }


@dataclass
class SplitEvaluation:
    """What `evaluate_split` measured: `models` ({name: {rmse, mae, precision@k, recall@k}},
    None where a figure is not defined), the MF `history` per epoch (with the held-out RMSE),
    `predicted` (the MF rating of every rating given, train and held-out), the hybrid
    `weight` used, the `weight_curve` ([{"weight", "validation", "test"}] precision@k) and
    the whole-catalogue figures (`catalogue`: {name: {precision@k, recall@k}})."""

    models: dict[str, dict[str, float | None]]
    history: list[dict[str, float]]
    predicted: np.ndarray
    weight: float | None = None
    weight_curve: list[dict[str, float]] = field(default_factory=list)
    catalogue: dict[str, dict[str, float]] = field(default_factory=dict)


def evaluate_split(
    make_model: Callable[..., Any],
    users: np.ndarray,
    items: np.ndarray,
    ratings: np.ndarray,
    held: np.ndarray,
    *,
    k: int,
    relevant: float,
    content: tuple[Any, np.ndarray] | None = None,
    weights: Sequence[float] = (),
    validation: np.ndarray | None = None,
) -> SplitEvaluation:
    """Fit `make_model()` (and the biases-only `make_model(factors=0)`) on the ratings not
    `held` and measure every model on the held ones. `content` = (l2-normalized item rows,
    their item ids sorted) adds the content-based and hybrid recommenders; the hybrid weight
    is the one of `weights` with the best precision@k on `validation` (a mask of training
    ratings held out of a second fit), never on the held-out ratings."""
    train, test = ~held, held
    mf = make_model().fit(
        users[train],
        items[train],
        ratings[train],
        eval_set=(users[test], items[test], ratings[test]),
    )
    biases = make_model(factors=0).fit(users[train], items[train], ratings[train])
    truth, tu, ti = ratings[test], users[test], items[test]
    liked = truth >= relevant
    mean = float(ratings[train].mean())
    models: dict[str, dict[str, float | None]] = {}
    p_key, r_key = f"precision@{k}", f"recall@{k}"

    def record(name: str, predicted: np.ndarray | None, scores: np.ndarray | None) -> None:
        figures: dict[str, float | None] = {"rmse": None, "mae": None, p_key: None, r_key: None}
        if predicted is not None:
            figures["rmse"], figures["mae"] = rmse(truth, predicted), mae(truth, predicted)
        if scores is not None:
            ranked = ranking_at_k(tu, scores, liked, k)
            figures[p_key], figures[r_key] = ranked[p_key], ranked[r_key]
        models[name] = figures

    record("global_mean", np.full(truth.size, mean), None)
    record("biases", biases.predict(tu, ti), biases.score(tu, ti))
    record("mf", mf.predict(tu, ti), mf.score(tu, ti))
    _, item_codes = np.unique(items, return_inverse=True)
    popularity = np.bincount(item_codes[train], minlength=item_codes.max() + 1)
    record("popularity", None, popularity[item_codes[test]].astype(np.float64))
    chance = chance_at_k(tu, liked, k)
    models["chance"] = {"rmse": None, "mae": None, p_key: chance[p_key], r_key: chance[r_key]}
    result = SplitEvaluation(models=models, history=mf.history_, predicted=mf.predict(users, items))
    if content is None:
        result.catalogue = _catalogue(mf, biases, users, items, held, liked, k)
        return result
    item_rows, item_ids = content
    z_mf, z_content, profiles = _standardized_pairs(
        mf, item_rows, item_ids, users, items, ratings, train, test, relevant
    )
    record("content", None, z_content)
    curve = [
        {"weight": float(w), "test": ranking_at_k(tu, _blend(z_mf, z_content, w), liked, k)[p_key]}
        for w in weights
    ]
    chosen = float(weights[0])
    if validation is not None and validation.any() and len(weights) > 1:
        fit_part = train & ~validation
        inner = make_model().fit(users[fit_part], items[fit_part], ratings[fit_part])
        vz_mf, vz_c, _ = _standardized_pairs(
            inner, item_rows, item_ids, users, items, ratings, fit_part, validation, relevant
        )
        v_liked = ratings[validation] >= relevant
        for point in curve:
            blended = _blend(vz_mf, vz_c, point["weight"])
            point["validation"] = ranking_at_k(users[validation], blended, v_liked, k)[p_key]
        chosen = max(curve, key=lambda p: p["validation"])["weight"]  # first best: lowest weight
    record("hybrid", None, _blend(z_mf, z_content, chosen))
    result.weight, result.weight_curve = chosen, curve
    result.catalogue = _catalogue(
        mf, biases, users, items, held, liked, k, content=(item_rows, profiles), weight=chosen
    )
    return result


def catalogue_at_k(
    scorers: Mapping[str, Callable[[np.ndarray], np.ndarray]], seen: Any, liked_held: Any, k: int
) -> dict[str, dict[str, float]]:
    """The whole-catalogue protocol: for each user with a relevant held-out item, every item
    not in their training ratings (`seen`, users × items CSR) is ranked by each scorer (user
    positions -> a dense users × items block of scores); precision@k = relevant held-out
    items (`liked_held`, CSR) in the top k / k, recall@k = the same / relevant held-out items."""
    users = np.flatnonzero(np.diff(liked_held.indptr) > 0)
    totals = {name: np.zeros(2) for name in scorers}
    for start in range(0, users.size, USER_BLOCK):
        block = users[start : start + USER_BLOCK]
        wanted = liked_held[block].toarray() > 0
        rows, cols = seen[block].nonzero()
        for name, scorer in scorers.items():
            scores = np.array(scorer(block), dtype=np.float64)
            scores[rows, cols] = -np.inf
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            hits = np.take_along_axis(wanted, top, axis=1).sum(axis=1)
            totals[name] += [(hits / k).sum(), (hits / wanted.sum(axis=1)).sum()]
    count = max(users.size, 1)
    return {
        name: {f"precision@{k}": float(t[0] / count), f"recall@{k}": float(t[1] / count)}
        for name, t in totals.items()
    }


def _catalogue(
    mf: Any,
    biases: Any,
    users: np.ndarray,
    items: np.ndarray,
    held: np.ndarray,
    liked: np.ndarray,
    k: int,
    *,
    content: tuple[Any, Any] | None = None,
    weight: float = 0.0,
) -> dict[str, dict[str, float]]:
    """`catalogue_at_k` of popularity, the biases, MF and (with `content` = (item rows,
    profiles)) content and the hybrid at `weight`."""
    import scipy.sparse as sp

    from .recommend_content import standardized

    user_ids, user_codes = np.unique(users, return_inverse=True)
    item_ids, item_codes = np.unique(items, return_inverse=True)
    shape = (user_ids.size, item_ids.size)
    train = ~held
    seen = sp.csr_matrix(
        (np.ones(train.sum()), (user_codes[train], item_codes[train])), shape=shape
    )
    positive = np.flatnonzero(held)[liked]
    liked_held = sp.csr_matrix(
        (np.ones(positive.size), (user_codes[positive], item_codes[positive])), shape=shape
    )
    popularity = np.bincount(item_codes[train], minlength=item_ids.size).astype(np.float64)

    def by_popularity(block: np.ndarray) -> np.ndarray:
        return np.broadcast_to(popularity, (block.size, popularity.size))

    def by_biases(block: np.ndarray) -> np.ndarray:
        return _mf_full(biases, user_ids[block], item_ids)

    def by_mf(block: np.ndarray) -> np.ndarray:
        return _mf_full(mf, user_ids[block], item_ids)

    scorers: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "popularity": by_popularity,
        "biases": by_biases,
        "mf": by_mf,
    }
    if content is not None:
        item_rows, profiles = content

        def by_content(block: np.ndarray) -> np.ndarray:
            return np.asarray((profiles[block] @ item_rows.T).todense())

        def by_hybrid(block: np.ndarray) -> np.ndarray:
            full_mf, full_content = by_mf(block), by_content(block)
            (m_mean, m_std), (c_mean, c_std) = standardized(full_mf), standardized(full_content)
            z_mf = (full_mf - m_mean[:, None]) / m_std[:, None]
            return _blend(z_mf, (full_content - c_mean[:, None]) / c_std[:, None], weight)

        scorers.update(content=by_content, hybrid=by_hybrid)
    return catalogue_at_k(scorers, seen, liked_held, k)


def _mf_full(mf: Any, user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
    """The (unclipped) scores of every item of `item_ids` for each of `user_ids` (a dense
    block); a user or item the model has not seen has no bias and no factors."""
    item_pos, user_pos = mf.item_positions(item_ids), mf.user_positions(user_ids)
    known_i, known_u = item_pos >= 0, user_pos >= 0
    item_bias = np.where(known_i, mf.item_bias_[np.maximum(item_pos, 0)], 0.0)
    item_factors = np.where(known_i[:, None], mf.item_factors_[np.maximum(item_pos, 0)], 0.0)
    user_bias = np.where(known_u, mf.user_bias_[np.maximum(user_pos, 0)], 0.0)
    user_factors = np.where(known_u[:, None], mf.user_factors_[np.maximum(user_pos, 0)], 0.0)
    return mf.mean_ + user_bias[:, None] + item_bias[None, :] + user_factors @ item_factors.T


def _blend(z_mf: np.ndarray, z_content: np.ndarray, weight: float) -> np.ndarray:
    return (1.0 - weight) * z_mf + weight * z_content


def _standardized_pairs(
    mf: Any,
    item_rows: Any,
    item_ids: np.ndarray,
    users: np.ndarray,
    items: np.ndarray,
    ratings: np.ndarray,
    fit_part: np.ndarray,
    pairs: np.ndarray,
    relevant: float,
) -> tuple[np.ndarray, np.ndarray, Any]:
    """The MF and content scores of the `pairs` ratings, each standardized per user over
    the whole catalogue (`item_ids`), and the content profiles (users × features, users in
    sorted order) built from the `fit_part` ratings."""
    import scipy.sparse as sp

    from .recommend_content import content_pair_scores, standardized, user_profiles

    user_ids, user_codes = np.unique(users, return_inverse=True)
    item_codes = np.searchsorted(item_ids, items)
    shape = (user_ids.size, item_ids.size)
    fitted = sp.csr_matrix(
        (ratings[fit_part], (user_codes[fit_part], item_codes[fit_part])), shape=shape
    )
    profiles = user_profiles(item_rows, fitted, relevant)
    pair_users = user_codes[pairs]
    content = content_pair_scores(item_rows, profiles, pair_users, item_codes[pairs])
    scored = mf.score(users[pairs], items[pairs])
    stats = np.zeros((4, user_ids.size))
    needed = np.unique(pair_users)
    for start in range(0, needed.size, USER_BLOCK):
        block = needed[start : start + USER_BLOCK]
        stats[0, block], stats[1, block] = standardized(_mf_full(mf, user_ids[block], item_ids))
        cosines = np.asarray((profiles[block] @ item_rows.T).todense())
        stats[2, block], stats[3, block] = standardized(cosines)
    z_mf = (scored - stats[0, pair_users]) / stats[1, pair_users]
    z_content = (content - stats[2, pair_users]) / stats[3, pair_users]
    return z_mf, z_content, profiles
