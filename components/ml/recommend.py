"""Matrix factorization with biases for explicit ratings, fitted by ALS or SGD.

The model is r̂(u, i) = μ + b_u + b_i + p_u · q_i (μ the training mean), minimising over
the training ratings

    J = Σ_r (r − r̂)² + reg · (Σ_u n_u |p_u|² + Σ_i n_i |q_i|²) + bias_reg · (Σ_u b_u² + Σ_i b_i²)

where n_u, n_i count the ratings of a user and of an item. The factor penalty is the one
per-rating SGD applies (Funk, Koren) and ALS-WR's "weighted-λ" (Zhou et al., 2008), so `reg`
means the same for both solvers; the biases take a plain penalty (Koren's λ₂), which
shrinks the bias of an item with few ratings towards 0 (`bias_reg=None`: weighted like the
factors). ALS solves each user's (b_u, p_u) and then each item's (b_i, q_i) in closed form
(batched ridge regressions), so J never increases; SGD makes seeded, shuffled passes of
mini-batches whose per-rating updates are summed.

Written here because no maintained library fits explicit ratings with biases offline:
`surprise` is unmaintained and compiles C extensions, `implicit` is for implicit feedback.
`factors=0` is the biases-only baseline.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np

__all__ = ["BiasedMF", "split_ratings", "top_k"]


class BiasedMF:
    """Biased matrix factorization (scikit-learn style) of (user, item, rating) triples.

    `factors` latent dimensions (0: biases only); `solver` "als" (closed-form alternating
    least squares) or "sgd" (seeded, shuffled mini-batches of `batch_size` ratings with
    `learning_rate`); `reg` the per-rating L2 penalty of the factors, `bias_reg` the
    biases' (see the module docstring); `epochs` passes; `init_scale` the
    standard deviation of the initial factors; `clip` keeps predictions in the training
    ratings' range. Users and items are any hashable ids.
    """

    def __init__(
        self,
        *,
        factors: int = 20,
        solver: Literal["als", "sgd"] = "als",
        reg: float = 0.2,
        bias_reg: float | None = 5.0,
        epochs: int = 15,
        learning_rate: float = 0.02,
        batch_size: int = 64,
        init_scale: float = 0.1,
        clip: bool = True,
        seed: int = 0,
    ):
        self.factors = factors
        self.solver = solver
        self.reg = reg
        self.bias_reg = bias_reg
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.init_scale = init_scale
        self.clip = clip
        self.seed = seed

    def get_params(self) -> dict[str, Any]:
        """The constructor's parameters."""
        names = ("factors", "solver", "reg", "bias_reg", "epochs", "learning_rate", "batch_size")
        return {n: getattr(self, n) for n in (*names, "init_scale", "clip", "seed")}

    # -- fitting -------------------------------------------------------------------------

    def fit(
        self,
        users: Sequence[Any],
        items: Sequence[Any],
        ratings: Sequence[float],
        *,
        eval_set: tuple[Sequence[Any], Sequence[Any], Sequence[float]] | None = None,
    ) -> Self:
        """Fit on parallel arrays of user ids, item ids and ratings. `eval_set` (same form)
        adds its RMSE per epoch to `history_`; `history_[0]` is the state before epoch 1."""
        if self.solver not in ("als", "sgd"):
            raise ValueError(f"solver {self.solver!r}: use 'als' or 'sgd'")
        r = np.asarray(ratings, dtype=np.float64)
        if r.size == 0:
            raise ValueError("no ratings to fit on")
        self.user_ids_, u = np.unique(np.asarray(users), return_inverse=True)
        self.item_ids_, i = np.unique(np.asarray(items), return_inverse=True)
        self._index()
        n_users, n_items = len(self.user_ids_), len(self.item_ids_)
        rng = np.random.default_rng(self.seed)
        self.mean_ = float(r.mean())
        self.rating_range_ = (float(r.min()), float(r.max()))
        self.user_bias_ = np.zeros(n_users)
        self.item_bias_ = np.zeros(n_items)
        self.user_factors_ = rng.normal(0.0, self.init_scale, (n_users, self.factors))
        self.item_factors_ = rng.normal(0.0, self.init_scale, (n_items, self.factors))
        self.seen_ = _csr(u, i, r, n_users, n_items)
        evaluation = None
        if eval_set is not None:
            evaluation = tuple(np.asarray(a) for a in eval_set)
        self.history_: list[dict[str, float]] = [self._record(0, u, i, r, evaluation)]
        if self.solver == "als":
            by_user, by_item = _Grouped(u, i, n_users, n_items), _Grouped(i, u, n_items, n_users)
            for epoch in range(1, self.epochs + 1):
                self._als_step(u, i, r, by_user, by_item)
                self.history_.append(self._record(epoch, u, i, r, evaluation))
        else:
            for epoch in range(1, self.epochs + 1):
                self._sgd_epoch(u, i, r, rng)
                self.history_.append(self._record(epoch, u, i, r, evaluation))
        return self

    def _als_step(
        self, u: np.ndarray, i: np.ndarray, r: np.ndarray, by_user: _Grouped, by_item: _Grouped
    ) -> None:
        """One sweep: every user's (b_u, p_u) given the items, then every item's given the users."""
        solved = by_user.ridge(
            r - self.mean_ - self.item_bias_[i], self.item_factors_, self.reg, self.bias_reg
        )
        self.user_bias_, self.user_factors_ = solved[:, 0], solved[:, 1:]
        solved = by_item.ridge(
            r - self.mean_ - self.user_bias_[u], self.user_factors_, self.reg, self.bias_reg
        )
        self.item_bias_, self.item_factors_ = solved[:, 0], solved[:, 1:]

    def _sgd_epoch(self, u: np.ndarray, i: np.ndarray, r: np.ndarray, rng: Any) -> None:
        """One shuffled pass of mini-batch SGD (each batch's per-rating updates summed)."""
        lr, reg = self.learning_rate, self.reg
        bu, bi, P, Q = self.user_bias_, self.item_bias_, self.user_factors_, self.item_factors_
        # the bias penalty shared out over a user's (an item's) ratings, as the objective has it
        if self.bias_reg is None:
            reg_u, reg_i = np.full(bu.size, reg), np.full(bi.size, reg)
        else:
            reg_u = self.bias_reg / np.maximum(np.bincount(u, minlength=bu.size), 1)
            reg_i = self.bias_reg / np.maximum(np.bincount(i, minlength=bi.size), 1)
        order = rng.permutation(r.size)
        for start in range(0, r.size, self.batch_size):
            batch = order[start : start + self.batch_size]
            ub, ib = u[batch], i[batch]
            pu, qi = P[ub], Q[ib]
            err = r[batch] - (self.mean_ + bu[ub] + bi[ib] + np.einsum("ij,ij->i", pu, qi))
            np.add.at(bu, ub, lr * (err - reg_u[ub] * bu[ub]))
            np.add.at(bi, ib, lr * (err - reg_i[ib] * bi[ib]))
            np.add.at(P, ub, lr * (err[:, None] * qi - reg * pu))
            np.add.at(Q, ib, lr * (err[:, None] * pu - reg * qi))

    def _record(
        self, epoch: int, u: np.ndarray, i: np.ndarray, r: np.ndarray, evaluation: Any
    ) -> dict[str, float]:
        """The epoch's objective J, training RMSE and (with an eval set) its RMSE."""
        err = r - self._raw(u, i)
        n_u = np.bincount(u, minlength=len(self.user_bias_))
        n_i = np.bincount(i, minlength=len(self.item_bias_))
        penalty = self.reg * (
            n_u @ (self.user_factors_**2).sum(axis=1) + n_i @ (self.item_factors_**2).sum(axis=1)
        )
        if self.bias_reg is None:
            penalty += self.reg * (n_u @ self.user_bias_**2 + n_i @ self.item_bias_**2)
        else:
            penalty += self.bias_reg * (
                self.user_bias_ @ self.user_bias_ + self.item_bias_ @ self.item_bias_
            )
        row = {
            "epoch": epoch,
            "objective": float(err @ err + penalty),
            "train_rmse": float(np.sqrt(np.mean(err**2))),
        }
        if evaluation is not None:
            eu, ei, er = evaluation
            row["eval_rmse"] = float(np.sqrt(np.mean((er - self.predict(eu, ei)) ** 2)))
        return row

    # -- using ---------------------------------------------------------------------------

    def predict(self, users: Sequence[Any], items: Sequence[Any]) -> np.ndarray:
        """Predicted ratings of parallel arrays of users and items. An unknown user or item
        contributes no bias and no factors (an unknown pair gets the global mean)."""
        u = self.user_positions(users)
        i = self.item_positions(items)
        out = self._raw(u, i)
        return np.clip(out, *self.rating_range_) if self.clip else out

    def score(self, users: Sequence[Any], items: Sequence[Any]) -> np.ndarray:
        """`predict` without the clipping: the scores to rank by (clipping makes ties)."""
        u = self.user_positions(users)
        return self._raw(u, self.item_positions(items))

    def score_items(self, user: Any) -> np.ndarray:
        """The unclipped predicted rating of every known item (`item_ids_` order) for `user`."""
        pos = self._user_index.get(_key(user), -1)
        scores = self.mean_ + self.item_bias_
        if pos >= 0:
            scores = scores + self.user_bias_[pos] + self.item_factors_ @ self.user_factors_[pos]
        return scores

    def seen_items(self, user: Any) -> np.ndarray:
        """Positions (in `item_ids_`) of the items `user` rated in the training data."""
        pos = self._user_index.get(_key(user), -1)
        if pos < 0:
            return np.zeros(0, dtype=np.int64)
        return self.seen_.indices[self.seen_.indptr[pos] : self.seen_.indptr[pos + 1]]

    def recommend(
        self, user: Any, k: int = 10, *, exclude_seen: bool = True
    ) -> list[tuple[Any, float]]:
        """The `k` items with the highest (unclipped) predicted rating for `user` as (item, score),
        best first (ties by item order); items the user rated in training left out."""
        scores = self.score_items(user)
        if exclude_seen:
            scores = scores.copy()
            scores[self.seen_items(user)] = -np.inf
        top = top_k(scores, k)
        return [(self.item_ids_[j].item(), float(scores[j])) for j in top]

    def _raw(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        """μ + b_u + b_i + p_u · q_i for positions, -1 meaning unknown."""
        known_u, known_i = u >= 0, i >= 0
        out = np.full(u.shape, self.mean_)
        out[known_u] += self.user_bias_[u[known_u]]
        out[known_i] += self.item_bias_[i[known_i]]
        both = known_u & known_i
        out[both] += np.einsum("ij,ij->i", self.user_factors_[u[both]], self.item_factors_[i[both]])
        return out

    def _index(self) -> None:
        self._user_index = {_key(v): n for n, v in enumerate(self.user_ids_)}
        self._item_index = {_key(v): n for n, v in enumerate(self.item_ids_)}

    def user_positions(self, users: Sequence[Any]) -> np.ndarray:
        """Positions of `users` in `user_ids_` (-1: not seen in training)."""
        return _positions(self.user_ids_, self._user_index, users)

    def item_positions(self, items: Sequence[Any]) -> np.ndarray:
        """Positions of `items` in `item_ids_` (-1: not seen in training)."""
        return _positions(self.item_ids_, self._item_index, items)

    # -- files ---------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write the parameters and learned arrays as JSON and `.npy` files (no pickle)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {
            "params": self.get_params(),
            "mean": self.mean_,
            "rating_range": list(self.rating_range_),
            "history": self.history_,
        }
        (folder / "mf.json").write_text(json.dumps(state, indent=2), encoding="utf-8")
        for name in ("user_ids", "item_ids"):
            ids = getattr(self, f"{name}_")
            np.save(folder / f"{name}.npy", ids.astype(str) if ids.dtype == object else ids)
        for name in ("user_bias", "item_bias", "user_factors", "item_factors"):
            np.save(folder / f"{name}.npy", getattr(self, f"{name}_"))
        for name in ("indptr", "indices", "data"):
            np.save(folder / f"seen_{name}.npy", getattr(self.seen_, name))

    @classmethod
    def load(cls, folder: Path) -> Self:
        """A fitted model read back from a folder written by `save`."""
        import scipy.sparse as sp

        folder = Path(folder)
        state = json.loads((folder / "mf.json").read_text(encoding="utf-8"))
        model = cls(**state["params"])
        model.mean_ = state["mean"]
        model.rating_range_ = tuple(state["rating_range"])
        model.history_ = state["history"]
        arrays = {p.stem: np.load(p, allow_pickle=False) for p in folder.glob("*.npy")}
        for name in ("user_ids", "item_ids", "user_bias", "item_bias"):
            setattr(model, f"{name}_", arrays[name])
        model.user_factors_ = arrays["user_factors"]
        model.item_factors_ = arrays["item_factors"]
        shape = (len(model.user_ids_), len(model.item_ids_))
        parts = (arrays["seen_data"], arrays["seen_indices"], arrays["seen_indptr"])
        model.seen_ = sp.csr_matrix(parts, shape=shape)
        model._index()
        return model


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the `k` highest finite scores, highest first (ties by position)."""
    finite = np.flatnonzero(np.isfinite(scores))
    if finite.size > k:
        cut = np.argpartition(-scores[finite], k - 1)[:k]
        threshold = scores[finite[cut]].min()
        finite = finite[scores[finite] >= threshold]
    order = np.lexsort((finite, -scores[finite]))
    return finite[order][:k]


def split_ratings(
    users: Sequence[Any],
    *,
    fraction: float = 0.2,
    by: Literal["random", "latest"] = "random",
    timestamps: Sequence[float] | None = None,
    seed: int = 0,
    min_train: int = 1,
) -> np.ndarray:
    """A per-user held-out split: a boolean mask, True for the ratings held out. Each user
    holds out round(fraction × n_u) ratings (at most n_u − `min_train`): chosen at random
    (seeded) or, with `by="latest"`, the latest by `timestamps` (ties by position)."""
    u = np.asarray(users)
    n = u.size
    if by == "latest" and timestamps is None:
        raise ValueError("split by 'latest' needs the ratings' timestamps")
    rng = np.random.default_rng(seed)
    key = rng.random(n) if by == "random" else np.asarray(timestamps, dtype=np.float64)
    _, codes = np.unique(u, return_inverse=True)
    order = np.lexsort((np.arange(n), key, codes))  # by user, then key (latest last)
    held = np.zeros(n, dtype=bool)
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    for group in np.split(order, bounds):
        count = min(int(round(fraction * group.size)), group.size - min_train)
        if count > 0:
            held[group[group.size - count :]] = True
    return held


def _positions(ids: np.ndarray, index: dict[Any, int], values: Sequence[Any]) -> np.ndarray:
    """Positions of `values` among the sorted `ids` (-1: unknown): a binary search when
    both are numbers or both text, else a lookup in `index` one value at a time."""
    keys = np.asarray(values)
    numbers = keys.dtype.kind in "iuf" and ids.dtype.kind in "iuf"
    if keys.ndim != 1 or not (numbers or keys.dtype.kind == ids.dtype.kind == "U"):
        return np.fromiter((index.get(_key(v), -1) for v in values), dtype=np.int64)
    pos = np.searchsorted(ids, keys)
    inside = pos < ids.size
    found = np.zeros(keys.size, dtype=bool)
    found[inside] = ids[pos[inside]] == keys[inside]
    return np.where(found, pos, -1).astype(np.int64)


def _key(value: Any) -> Any:
    """A dictionary key for an id given as a numpy scalar or a plain value."""
    return value.item() if hasattr(value, "item") else value


def _csr(u: np.ndarray, i: np.ndarray, r: np.ndarray, n_users: int, n_items: int) -> Any:
    import scipy.sparse as sp

    matrix = sp.csr_matrix((r, (u, i)), shape=(n_users, n_items))
    matrix.sum_duplicates()
    return matrix


class _Grouped:
    """The ratings grouped by one side (rows: users or items), for ALS's batched ridge
    regressions: a CSR matrix rows x others whose data order `perm` maps to the ratings."""

    def __init__(self, rows: np.ndarray, others: np.ndarray, n_rows: int, n_others: int):
        import scipy.sparse as sp

        self.perm = np.lexsort((others, rows))
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_rows))])
        shape = (n_rows, n_others)
        self.ones = sp.csr_matrix((np.ones(rows.size), others[self.perm], indptr), shape=shape)
        self.counts = np.diff(indptr).astype(np.float64)

    def ridge(
        self, target: np.ndarray, other_factors: np.ndarray, reg: float, bias_reg: float | None
    ) -> np.ndarray:
        """Per row, argmin over w = (bias, factors) of Σ (target − [1, f_o]·w)² over the
        row's n ratings + reg·n·|factors|² + bias_reg·bias² (reg·n·bias² when None): every
        row's normal equations from two sparse products, then one batched solve."""
        design = np.hstack([np.ones((other_factors.shape[0], 1)), other_factors])
        d = design.shape[1]
        outer = (design[:, :, None] * design[:, None, :]).reshape(-1, d * d)
        gram = np.asarray(self.ones @ outer).reshape(-1, d, d)
        gram[:, np.arange(d), np.arange(d)] += reg * np.maximum(self.counts, 1.0)[:, None]
        if bias_reg is not None:
            gram[:, 0, 0] += bias_reg - reg * np.maximum(self.counts, 1.0)
        weighted = self.ones.copy()
        weighted.data = target[self.perm]
        rhs = np.asarray(weighted @ design)
        return np.linalg.solve(gram, rhs[..., None])[..., 0]
