"""components.ml.clustering on real features: scikit-learn's bundled handwritten digits
restricted to 0, 3 and 6 (three shapes that differ a lot: 543 images, 64 pixels each)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from components.ml import clustering as cl
from components.ml.cluster_plots import k_distance_png, k_selection_png, projection_png

DIGITS = (0, 3, 6)


@pytest.fixture(autouse=True)
def one_thread():
    """K-Means' OpenMP threads compete with the other test workers: one each is faster."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    data = load_digits()
    keep = np.isin(data.target, DIGITS)
    return data.data[keep], data.target[keep]


def test_silhouette_picks_three_clusters_that_are_the_three_digits(digits, tmp_path):
    X, y = digits
    selection = cl.select_k(X, range(2, 9), seed=0)
    assert selection.ks == list(range(2, 9)) and len(selection.silhouette) == 7
    assert selection.chosen == 3 == selection.ks[int(np.argmax(selection.silhouette))]
    assert cl.external_scores(y, selection.labels)["nmi"] > 0.95
    assert all(a > b for a, b in zip(selection.inertia, selection.inertia[1:], strict=False))
    path = k_selection_png(selection, tmp_path / "k_selection.png")
    assert path.stat().st_size > 10_000


def test_minibatch_kmeans_finds_the_same_digits(digits):
    X, y = digits
    selection = cl.select_k(X, [3], seed=0, minibatch=True)
    assert cl.external_scores(y, selection.labels)["nmi"] > 0.9


def test_the_elbow_of_the_inertia_curve_is_at_three(digits):
    X, y = digits
    selection = cl.select_k(X, range(2, 9), criterion="elbow", seed=0)
    assert selection.chosen == 3
    # the knee is where the curve lies farthest below its chord, whatever the scale
    assert cl.knee_index(selection.ks, np.asarray(selection.inertia) * 1e-6) == 1
    assert cl.knee_index([1, 2], [5.0, 1.0]) == 0


def test_agglomerative_and_dbscan_are_scikit_learns_and_find_the_digits(digits, tmp_path):
    from sklearn.cluster import DBSCAN, AgglomerativeClustering

    X, y = digits
    labels = cl.agglomerative_labels(X, linkage="ward", n_clusters=3)
    assert np.array_equal(labels, AgglomerativeClustering(n_clusters=3).fit_predict(X))
    assert cl.external_scores(y, labels)["nmi"] > 0.95
    cut = cl.agglomerative_labels(X, linkage="complete", distance_threshold=60.0)
    expected = AgglomerativeClustering(
        n_clusters=None, linkage="complete", distance_threshold=60.0
    ).fit_predict(X)
    assert np.array_equal(cut, expected) and len(np.unique(cut)) > 1

    curve = cl.k_distances(X, 10)
    assert curve.shape == (len(X),) and np.all(np.diff(curve) >= 0)
    eps = cl.suggest_eps(curve)
    assert curve[0] < eps < curve[-1]
    labels = cl.dbscan_labels(X, eps=eps, min_samples=10)
    assert np.array_equal(labels, DBSCAN(eps=eps, min_samples=10).fit_predict(X))
    clustered = labels >= 0
    assert 0 < (~clustered).sum() < 0.15 * len(X)  # some noise, counted as -1
    assert len(np.unique(labels[clustered])) == 3
    assert cl.external_scores(y[clustered], labels[clustered])["nmi"] > 0.9
    assert k_distance_png(curve, eps, 10, tmp_path / "kd.png").is_file()


def test_scores_of_sparse_rows_equal_scikit_learns_on_the_dense_array(digits):
    X, _ = digits
    labels = cl.select_k(X, [3], seed=0).labels
    dense = cl.internal_scores(X, labels, sample_size=None)
    sparse = cl.internal_scores(sp.csr_matrix(X), labels, sample_size=None)
    for name in ("silhouette", "davies_bouldin", "calinski_harabasz"):
        assert sparse[name] == pytest.approx(dense[name], rel=1e-9)
    with_noise = labels.copy()
    with_noise[:20] = -1
    assert cl.internal_scores(X, with_noise)["silhouette"] != dense["silhouette"]
    assert cl.internal_scores(X, np.zeros(len(X), dtype=int))["silhouette"] is None


def test_centroids_assign_new_rows_and_profiles_speak_in_the_tables_units(digits):
    import pandas as pd

    X, y = digits
    labels = cl.select_k(X, [3], seed=0).labels
    clusters, centers = cl.centroids(X, labels)
    assert clusters == [0, 1, 2] and centers.shape == (3, 64)
    assert np.array_equal(cl.nearest_centroid(centers, X), labels)  # k-means' own assignment
    assert np.array_equal(cl.nearest_centroid(centers, sp.csr_matrix(X)), labels)

    frame = pd.DataFrame(X[:, [20, 36]], columns=["pixel_20", "pixel_36"])
    frame["digit"] = [str(d) for d in y]
    profiles = cl.feature_profiles(frame, labels)
    for profile in profiles:
        part = frame[labels == profile["cluster"]]
        entry = next(f for f in profile["features"] if f["feature"] == "digit")
        assert entry["value"] == part["digit"].mode()[0] and entry["share"] > 0.9
        pixel = next(f for f in profile["features"] if f["feature"] == "pixel_36")
        assert pixel["cluster_mean"] == pytest.approx(part["pixel_36"].mean(), abs=1e-4)
        assert pixel["overall_mean"] == pytest.approx(frame["pixel_36"].mean(), abs=1e-4)


def test_top_terms_and_projections(digits, tmp_path):
    X, y = digits
    names = [f"pixel_{i}" for i in range(64)]
    terms = cl.top_terms(np.vstack([X[y == d].mean(axis=0) for d in DIGITS]), names, n=3)
    assert all(len(t) == 3 and t[0][1] >= t[1][1] >= t[2][1] for t in terms)
    positions, points = cl.project_2d(X, method="pca")
    assert points.shape == (len(X), 2) and np.array_equal(positions, np.arange(len(X)))
    positions, points = cl.project_2d(sp.csr_matrix(X), method="tsne", max_points=150)
    assert points.shape == (150, 2) and len(set(positions.tolist())) == 150
    path = projection_png(points, y[positions], tmp_path / "p.png", method="tsne")
    assert path.stat().st_size > 10_000
