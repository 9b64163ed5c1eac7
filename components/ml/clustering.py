"""Clustering on scikit-learn: K-Means with k chosen by silhouette or the elbow, agglomerative,
DBSCAN, their scores, and cluster profiles (top terms for text, feature means for tables).

Inputs are a feature matrix: a scipy sparse matrix (TF-IDF rows, l2-normalized, so
Euclidean distance orders pairs as cosine does) or a dense array. What scikit-learn does
not do, and is done here in a few lines:

- the elbow's knee: the k whose (normalized) inertia lies farthest from the chord joining
  the first and last points of the curve;
- Davies-Bouldin and Calinski-Harabasz on sparse input (scikit-learn's functions refuse
  it): the same formulas from centroids and squared norms, equal to scikit-learn's on the
  dense array;
- agglomerative clustering and DBSCAN need dense rows: sparse TF-IDF is first reduced by a
  seeded `TruncatedSVD` (LSA; `lsa_dims`: n/10 dimensions, 10 to 100), rows l2-normalized.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "KSelection",
    "agglomerative_labels",
    "centroids",
    "dbscan_labels",
    "dense_rows",
    "external_scores",
    "feature_profiles",
    "internal_scores",
    "k_distances",
    "knee_index",
    "lsa_dims",
    "nearest_centroid",
    "project_2d",
    "select_k",
    "suggest_eps",
    "top_terms",
]

LSA_DIMS = 100  # dimensions kept when sparse rows must become dense
MINIBATCH_ROWS = 20_000  # K-Means switches to MiniBatchKMeans from this many rows ("auto")


@dataclass
class KSelection:
    """The K-Means fits over a range of k: per k its inertia and silhouette (on a seeded
    sample), the `criterion` used and the `chosen` k; `labels` and `centers` of the chosen fit."""

    ks: list[int]
    inertia: list[float]
    silhouette: list[float | None]
    criterion: str
    chosen: int
    labels: np.ndarray = field(repr=False)
    centers: np.ndarray = field(repr=False)


def _issparse(X: Any) -> bool:
    import scipy.sparse as sp

    return bool(sp.issparse(X))


def _kmeans(k: int, *, seed: int, minibatch: bool) -> Any:
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if minibatch:
        return MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=2048)
    return KMeans(n_clusters=k, random_state=seed, n_init=10)


def select_k(
    X: Any,
    ks: Sequence[int],
    *,
    criterion: str = "silhouette",
    seed: int = 0,
    sample_size: int | None = 3000,
    minibatch: bool | None = None,
) -> KSelection:
    """Fit K-Means (seeded; MiniBatchKMeans when `minibatch`, or by default from
    `MINIBATCH_ROWS` rows) for each k of `ks` (each below the number of rows) and keep
    the k with the highest silhouette (`criterion="silhouette"`, computed on a seeded
    sample of `sample_size` rows) or the elbow's knee (`criterion="elbow"`)."""
    n = X.shape[0]
    ks = sorted({int(k) for k in ks if 2 <= int(k) < n})
    if not ks:
        raise ValueError(f"no k to try: k must be at least 2 and below the {n} rows")
    use_minibatch = n >= MINIBATCH_ROWS if minibatch is None else minibatch
    inertia, silhouette, fits = [], [], []
    for k in ks:
        model = _kmeans(k, seed=seed, minibatch=use_minibatch).fit(X)
        labels = model.labels_.astype(np.int64)
        inertia.append(float(model.inertia_))
        silhouette.append(_silhouette(X, labels, sample_size=sample_size, seed=seed))
        fits.append((labels, np.asarray(model.cluster_centers_, dtype=np.float64)))
    if criterion == "elbow" or len(ks) == 1:
        best = knee_index(ks, inertia) if len(ks) > 2 else 0
    elif criterion == "silhouette":
        scored = [s if s is not None else -np.inf for s in silhouette]
        best = int(np.argmax(scored))
    else:
        raise ValueError(f"criterion {criterion!r}: use 'silhouette' or 'elbow'")
    labels, centers = fits[best]
    return KSelection(ks, inertia, silhouette, criterion, ks[best], labels, centers)


def knee_index(xs: Sequence[float], ys: Sequence[float]) -> int:
    """The index of the knee of a convex curve (falling like inertia over k, or rising like
    a sorted k-distance curve): both axes scaled to [0, 1], the point farthest below the
    straight line (chord) joining the first and the last point; the farthest from it on
    either side when no point lies below. (Our few lines of the "kneedle" idea of Satopaa
    et al. 2011; scikit-learn has no knee finder.)"""
    x = np.asarray(xs, dtype=np.float64)
    y = np.asarray(ys, dtype=np.float64)
    if x.size < 3:
        return 0
    x = (x - x.min()) / (np.ptp(x) or 1.0)
    y = (y - y.min()) / (np.ptp(y) or 1.0)
    # vertical gap to the chord: proportional to the perpendicular distance, with a sign
    below = y[0] + (y[-1] - y[0]) * (x - x[0]) / ((x[-1] - x[0]) or 1.0) - y
    if below.max() > 0:
        return int(np.argmax(below))
    return int(np.argmax(np.abs(below)))


def lsa_dims(n_rows: int) -> int:
    """The LSA dimensions for `n_rows` documents: one per ten documents, between 10 and
    `LSA_DIMS` (few documents cannot support many dimensions: the later ones fit noise)."""
    return int(min(LSA_DIMS, max(10, n_rows // 10)))


def dense_rows(X: Any, *, dims: int | None = None, seed: int = 0) -> tuple[np.ndarray, Any]:
    """Dense rows for the methods that need them: a dense `X` as float64, a sparse `X` with
    more than `dims` columns (default `lsa_dims(rows)`) reduced by a seeded TruncatedSVD
    (LSA) and l2-normalized. Returns `(rows, components)`: `components` (dims x features)
    maps new rows the same way (`None` when no reduction was made)."""
    dims = lsa_dims(X.shape[0]) if dims is None else dims
    if not _issparse(X):
        return np.asarray(X, dtype=np.float64), None
    if X.shape[1] <= dims or X.shape[0] <= dims:
        return np.asarray(X.toarray(), dtype=np.float64), None
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    svd = TruncatedSVD(n_components=dims, random_state=seed).fit(X)
    return normalize(svd.transform(X)), svd.components_


def agglomerative_labels(
    X: np.ndarray,
    *,
    linkage: str = "ward",
    n_clusters: int | None = None,
    distance_threshold: float | None = None,
) -> np.ndarray:
    """scikit-learn's `AgglomerativeClustering` labels of dense rows: `n_clusters`, or cut
    the tree at `distance_threshold` (exactly one of them)."""
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(
        n_clusters=n_clusters, linkage=linkage, distance_threshold=distance_threshold
    )
    return model.fit_predict(X).astype(np.int64)


def dbscan_labels(X: np.ndarray, *, eps: float, min_samples: int) -> np.ndarray:
    """scikit-learn's `DBSCAN` labels (Euclidean); -1 marks noise."""
    from sklearn.cluster import DBSCAN

    return DBSCAN(eps=eps, min_samples=min_samples).fit_predict(X).astype(np.int64)


def k_distances(X: np.ndarray, min_samples: int) -> np.ndarray:
    """Each row's distance to its `min_samples`-th nearest row (itself counted, as DBSCAN
    counts it), sorted ascending: the k-distance curve."""
    from sklearn.neighbors import NearestNeighbors

    k = min(min_samples, X.shape[0])
    distances, _ = NearestNeighbors(n_neighbors=k).fit(X).kneighbors(X)
    return np.sort(distances[:, -1])


def suggest_eps(curve: np.ndarray) -> float:
    """An `eps` for DBSCAN from a sorted k-distance curve: the distance at its knee
    (farthest from the chord, as `knee_index`), where distances start to climb."""
    if curve.size == 0:
        return 0.5
    return float(curve[knee_index(np.arange(curve.size), curve)])


def centroids(X: Any, labels: np.ndarray) -> tuple[list[int], np.ndarray]:
    """The clusters (sorted labels, noise -1 left out) and their mean rows (dense)."""
    clusters = sorted(int(c) for c in np.unique(labels) if c >= 0)
    rows = []
    for c in clusters:
        members = X[labels == c]
        rows.append(np.asarray(members.mean(axis=0), dtype=np.float64).ravel())
    width = X.shape[1]
    return clusters, np.vstack(rows) if rows else np.zeros((0, width))


def nearest_centroid(centers: np.ndarray, X: Any) -> np.ndarray:
    """The index of each row's nearest centre (squared Euclidean; sparse or dense rows)."""
    cross = np.asarray(X @ centers.T, dtype=np.float64)
    return np.argmin((centers**2).sum(axis=1)[None, :] - 2 * cross, axis=1)


def _silhouette(X: Any, labels: np.ndarray, *, sample_size: int | None, seed: int) -> float | None:
    from sklearn.metrics import silhouette_score

    kept = labels >= 0
    n_clusters = len(np.unique(labels[kept]))
    if n_clusters < 2 or n_clusters >= kept.sum():
        return None
    rows = X[kept] if not kept.all() else X
    size = sample_size if sample_size and sample_size < rows.shape[0] else None
    return float(silhouette_score(rows, labels[kept], sample_size=size, random_state=seed))


def internal_scores(
    X: Any, labels: np.ndarray, *, sample_size: int | None = 3000, seed: int = 0
) -> dict[str, float | None]:
    """Silhouette (on a seeded sample of `sample_size` rows), Davies-Bouldin (lower is
    better) and Calinski-Harabasz (higher is better) of `labels`, noise (-1) left out;
    `None` each where fewer than two clusters remain. Sparse `X` is scored exactly."""
    kept = labels >= 0
    clusters = np.unique(labels[kept])
    if len(clusters) < 2 or len(clusters) >= kept.sum():
        return {"silhouette": None, "davies_bouldin": None, "calinski_harabasz": None}
    rows, kept_labels = (X, labels) if kept.all() else (X[kept], labels[kept])
    silhouette = _silhouette(rows, kept_labels, sample_size=sample_size, seed=seed)
    if not _issparse(rows):
        from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

        dense = np.asarray(rows, dtype=np.float64)
        db = float(davies_bouldin_score(dense, kept_labels))
        ch = float(calinski_harabasz_score(dense, kept_labels))
    else:
        db, ch = _sparse_db_ch(rows, kept_labels)
    return {"silhouette": silhouette, "davies_bouldin": db, "calinski_harabasz": ch}


def _sparse_db_ch(X: Any, labels: np.ndarray) -> tuple[float, float]:
    """Davies-Bouldin and Calinski-Harabasz of sparse rows, by scikit-learn's formulas."""
    clusters, centers = centroids(X, labels)
    index = np.searchsorted(clusters, labels)
    squared = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
    cross = np.asarray((X @ centers.T), dtype=np.float64)[np.arange(X.shape[0]), index]
    to_centre = np.sqrt(np.maximum(squared - 2 * cross + (centers**2).sum(axis=1)[index], 0))
    sizes = np.bincount(index, minlength=len(clusters)).astype(np.float64)
    spread = np.bincount(index, weights=to_centre, minlength=len(clusters)) / sizes
    gaps = np.sqrt(((centers[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(gaps, np.inf)
    db = float(np.mean(np.max((spread[:, None] + spread[None, :]) / gaps, axis=1)))
    mean = np.asarray(X.mean(axis=0), dtype=np.float64).ravel()
    between = float((sizes * ((centers - mean) ** 2).sum(axis=1)).sum())
    within = float((to_centre**2).sum())
    n, k = X.shape[0], len(clusters)
    ch = 1.0 if within == 0 else between * (n - k) / (within * (k - 1))
    return db, ch


def external_scores(truth: Sequence[str], labels: Sequence[int]) -> dict[str, float]:
    """Agreement of the clusters with known groups: normalized mutual information and the
    adjusted Rand index (1 = the same partition, ~0 = chance)."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {
        "nmi": float(normalized_mutual_info_score(truth, labels)),
        "ari": float(adjusted_rand_score(truth, labels)),
    }


def top_terms(
    centers: np.ndarray, names: Sequence[str], n: int = 10
) -> list[list[tuple[str, float]]]:
    """The `n` terms of largest weight in each centroid (mean TF-IDF of its members)."""
    out = []
    for row in centers:
        order = np.lexsort((np.arange(row.size), -row))[:n]
        out.append([(str(names[j]), round(float(row[j]), 4)) for j in order if row[j] > 0])
    return out


def feature_profiles(
    frame: Any, labels: np.ndarray, *, top: int | None = 8
) -> list[dict[str, Any]]:
    """Each cluster described in the table's own units: for every numeric column its mean
    in the cluster against the overall mean; for every other column its most common value
    in the cluster, that value's share there and overall. Columns ordered by how far the
    cluster departs from the whole (standardized difference, or difference of shares);
    the `top` first are kept (all with `top=None`)."""
    import pandas as pd

    profiles = []
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    others = [c for c in frame.columns if c not in numeric]
    for c in sorted(int(x) for x in np.unique(labels) if x >= 0):
        part = frame[labels == c]
        rows = []
        for col in numeric:
            overall, mean, std = frame[col].mean(), part[col].mean(), frame[col].std()
            if pd.isna(overall) or pd.isna(mean):
                continue
            score = abs(mean - overall) / std if std and not pd.isna(std) else 0.0
            rows.append((score, {"feature": col, "cluster_mean": mean, "overall_mean": overall}))
        for col in others:
            counts = part[col].dropna().astype(str).value_counts()
            if counts.empty:
                continue
            value = counts.index[0]
            share = counts.iloc[0] / len(part)
            overall_share = (frame[col].astype(str) == value).mean()
            rows.append(
                (
                    abs(share - overall_share) * 2,
                    {
                        "feature": col,
                        "value": value,
                        "share": share,
                        "overall_share": overall_share,
                    },
                )
            )
        rows.sort(key=lambda r: -r[0])
        features = [_rounded(r[1]) for r in rows[:top]]
        profiles.append({"cluster": c, "size": int(len(part)), "features": features})
    return profiles


def _rounded(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        k: round(float(v), 4) if isinstance(v, float | np.floating) else v for k, v in entry.items()
    }


def project_2d(
    X: Any, *, method: str = "pca", seed: int = 0, max_points: int = 3000
) -> tuple[np.ndarray, np.ndarray]:
    """A 2-D view of the rows: `(positions, points)`, the row positions shown and their
    coordinates. PCA (TruncatedSVD for sparse rows) shows every row; t-SNE (seeded, PCA
    start) shows a seeded sample of at most `max_points`, first reduced to 50 dimensions."""
    n = X.shape[0]
    positions = np.arange(n)
    if method == "tsne" and n > max_points:
        rng = np.random.default_rng(seed)
        positions = np.sort(rng.choice(n, size=max_points, replace=False))
        X = X[positions]
    if method == "pca":
        return positions, _linear(X, 2, seed)
    if method != "tsne":
        raise ValueError(f"projection {method!r}: use 'pca' or 'tsne'")
    from sklearn.manifold import TSNE

    reduced = _linear(X, min(50, X.shape[1]), seed) if X.shape[1] > 50 else _todense(X)
    perplexity = float(min(30.0, max(2.0, (X.shape[0] - 1) / 3)))
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
    return positions, tsne.fit_transform(reduced)


def _todense(X: Any) -> np.ndarray:
    return np.asarray(X.toarray() if _issparse(X) else X, dtype=np.float64)


def _linear(X: Any, dims: int, seed: int) -> np.ndarray:
    if X.shape[0] <= dims or X.shape[1] < dims:
        dense = _todense(X)
        out = np.zeros((dense.shape[0], dims))
        out[:, : min(dims, dense.shape[1])] = dense[:, :dims]
        return out
    if _issparse(X):
        from sklearn.decomposition import TruncatedSVD

        return TruncatedSVD(n_components=dims, random_state=seed).fit_transform(X)
    from sklearn.decomposition import PCA

    return PCA(n_components=dims, random_state=seed).fit_transform(np.asarray(X, dtype=float))
