"""Content-based scores of items for users, and their blend with a rating model's scores.

An item is a row of an l2-normalized feature matrix (TF-IDF of its text, as the related
stories task compares stories). A user's profile is the mean of the rows of the items
they rated at least `relevant` in training (all their rated items when none is), so an
item's content score, `item · profile`, is its mean cosine to those items. Scores of items
nobody rated in training are defined as well: content reaches the catalogue's cold start.

The hybrid blends two scores per user on one scale: each model's scores of all items are
standardized per user (z-scores over the catalogue), then `(1 − w)·z_mf + w·z_content`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["blend", "content_pair_scores", "standardized", "user_profiles"]


def user_profiles(item_matrix: Any, ratings: Any, relevant: float) -> Any:
    """Profiles (users × features, CSR) from `ratings` (users × items CSR of training
    ratings, columns in `item_matrix`'s row order): the mean row of each user's items
    rated ≥ `relevant`, else of all their rated items; a user without ratings gets zeros."""
    import scipy.sparse as sp

    chosen = sp.csr_matrix(ratings, dtype=np.float64, copy=True)
    rows = np.repeat(np.arange(chosen.shape[0]), np.diff(chosen.indptr))
    liked = chosen.data >= relevant
    none_liked = np.bincount(rows, weights=liked, minlength=chosen.shape[0]) == 0
    chosen.data = (liked | none_liked[rows]).astype(np.float64)
    chosen.eliminate_zeros()
    counts = np.asarray(chosen.sum(axis=1)).ravel()
    scale = sp.diags(1.0 / np.maximum(counts, 1.0))
    return (scale @ chosen @ item_matrix).tocsr()


def content_pair_scores(
    item_matrix: Any, profiles: Any, users: np.ndarray, items: np.ndarray
) -> np.ndarray:
    """Content scores of (user, item) position pairs: the dot of item row and profile row."""
    if users.size == 0:
        return np.zeros(0)
    products = item_matrix[items].multiply(profiles[users])
    return np.asarray(products.sum(axis=1)).ravel()


def standardized(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row mean and standard deviation (1 where a row is constant) of a score matrix."""
    mean = scores.mean(axis=1)
    std = scores.std(axis=1)
    return mean, np.where(std > 0, std, 1.0)


def blend(mf_z: np.ndarray, content_z: np.ndarray, weight: float) -> np.ndarray:
    """The hybrid score `(1 − weight)·mf_z + weight·content_z` of standardized scores."""
    return (1.0 - weight) * np.asarray(mf_z) + weight * np.asarray(content_z)
