"""The clustering tasks: `kmeans`, `agglomerative` and `dbscan` over the run's documents.

Features are the task's own TF-IDF of the selected tokens (sublinear tf, l2-normalized
rows), the run's document vectors, or a table's rows through the tabular feature steps
(`features: {table: FEATURES_SPEC}`, documents read by the `table` reader). The clustering
itself is `components.ml.clustering` (scikit-learn). Outputs in the task folder:
`metrics.json` (k, silhouette, Davies-Bouldin, Calinski-Harabasz, sizes, noise, and NMI/ARI
against a `label` meta key when the documents carry one), `predictions.jsonl` (`{id,
cluster}`, null for a document without features), `profiles.json` (top terms per cluster,
or each feature's cluster mean against the overall mean), `k_selection.png` (k-means over a
range), `k_distance.png` (DBSCAN), `projection.png` and the report section. `predict`
assigns a new document to the nearest cluster centroid in the feature space.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field as Range

from pipeline import registry
from pipeline.config import ConfigError
from pipeline.document import Document
from pipeline.registry import register
from pipeline.report_sections import write_section

from ..ml import clustering as cl
from ..ml.cluster_plots import cluster_name, report_blocks
from ..represent.tokens import Field
from .base import AnalyticsTask, JsonLines, staged_key, write_json
from .cluster_features import ClusterData, ClusterFeatures, Features

__all__ = ["AgglomerativeClusters", "ClusterTask", "DbscanClusters", "KMeansClusters"]

Linkage = Literal["ward", "average", "complete", "single"]
CENTROIDS_FILE = "centroids.npy"


class ClusterTask(AnalyticsTask):
    """What the three clustering tasks share (see the module docstring); subclasses
    set `method` and implement `_cluster`."""

    features: Features
    field: Field
    drop_stop: bool
    min_df: int
    max_features: int | None
    projection: str | None
    sample_size: int
    max_points: int
    top_terms: int
    label: str
    seed: int

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """Cheap checks: `features` as a mapping must be `{table: FEATURES_SPEC}` (`auto`
        or the tabular feature steps' mapping, checked by `features_problems`)."""
        features = params.get("features")
        if isinstance(features, Mapping):
            if set(features) != {"table"}:
                return [
                    f"features: {features!r} is not understood: use tfidf, docvectors or "
                    "{table: FEATURES_SPEC} (auto, or the tabular feature steps)"
                ]
            from ..ml.tabular import features_problems

            return features_problems(features["table"], "features.table")
        return []

    # -- fitting --------------------------------------------------------------------------

    def _fit(self, corpus: Iterable[Document], staging: Path, run_dir: Path | None) -> None:
        where = staged_key(staging)
        problems = self.check_params(self.get_params())
        if problems:
            raise ConfigError.of([ConfigError(f"{where}.{p}") for p in problems])
        t0 = time.perf_counter()
        data = ClusterData(self.label)
        self.source_ = self._source()
        X = self.source_.fit_matrix(corpus, data, run_dir, where)
        if X.shape[0] < 3:
            raise ConfigError(
                f"{where}.features: only {X.shape[0]} documents have features; clustering "
                "needs at least 3 (check the corpus and the stages that give the tokens)"
            )
        extra: dict[str, Any] = {}
        labels = self._cluster(X, staging, extra, where)
        clusters, centers = cl.centroids(X, labels)
        self.centroids_ = centers
        self.clusters_ = clusters
        metrics = self._metrics(X, labels, data, extra, t0)
        profiles = self._profiles(centers, labels, data)
        self.names_ = {p["cluster"]: p["name"] for p in profiles}
        cluster_of = dict(zip(data.rows, labels.tolist(), strict=True))
        with JsonLines(staging / "predictions.jsonl") as out:
            for position, doc_id in enumerate(data.ids):
                out.write({"id": doc_id, "cluster": cluster_of.get(position)})
        write_json(staging / "profiles.json", profiles)
        images = [
            name for name in ("k_selection.png", "k_distance.png") if (staging / name).is_file()
        ]
        if self.projection:
            from ..ml.cluster_plots import projection_png

            positions, points = cl.project_2d(
                X, method=self.projection, seed=self.seed, max_points=self.max_points
            )
            names = {c: self.names_.get(c, "") for c in clusters}
            projection_png(
                points,
                labels[positions],
                staging / "projection.png",
                method=self.projection,
                names=names,
            )
            images.append("projection.png")
        metrics["seconds"] = round(time.perf_counter() - t0, 3)
        write_json(staging / "metrics.json", metrics)
        write_section(staging, self._title(), report_blocks(metrics, profiles, images), order=40)

    def _cluster(self, X: Any, staging: Path, extra: dict[str, Any], where: str) -> np.ndarray:
        raise NotImplementedError

    def _title(self) -> str:
        return f"Clusters ({self.method})"

    # -- outputs --------------------------------------------------------------------------

    def _metrics(
        self, X: Any, labels: np.ndarray, data: ClusterData, extra: dict[str, Any], t0: float
    ) -> dict[str, Any]:
        scores = cl.internal_scores(X, labels, sample_size=self.sample_size, seed=self.seed)
        sizes = Counter(int(c) for c in labels if c >= 0)
        metrics: dict[str, Any] = {
            "method": self.method,
            "features": self.source_.kind,
            "documents": len(data.ids),
            "clustered": int(X.shape[0]),
            "skipped": dict(data.skipped),
            "feature_columns": int(X.shape[1]),
            "k": len(sizes),
            **{k: None if v is None else round(v, 4) for k, v in scores.items()},
            "cluster_sizes": {str(c): sizes[c] for c in sorted(sizes)},
            **extra,
        }
        truth = [data.truth[p] for p in data.rows]
        known = [i for i, t in enumerate(truth) if t is not None]
        if known:
            kept = [i for i in known if labels[i] >= 0] if self.method == "dbscan" else known
            observed = cl.external_scores([truth[i] for i in kept], labels[kept])
            shuffled = np.random.default_rng(self.seed).permutation(labels[kept])
            chance = cl.external_scores([truth[i] for i in kept], shuffled)
            metrics["external"] = {
                "label": self.label,
                "documents": len(kept),
                "classes": len({truth[i] for i in kept}),
                "nmi": round(observed["nmi"], 4),
                "ari": round(observed["ari"], 4),
                "nmi_shuffled": round(chance["nmi"], 4),
            }
        return metrics

    def _profiles(
        self, centers: np.ndarray, labels: np.ndarray, data: ClusterData
    ) -> list[dict[str, Any]]:
        sizes = Counter(int(c) for c in labels if c >= 0)
        examples: dict[int, list[str]] = {}
        for row, c in enumerate(labels.tolist()):
            if c >= 0 and len(examples.setdefault(c, [])) < 3:
                examples[c].append(data.titles[data.rows[row]])
        if data.frame is not None:
            profiles = cl.feature_profiles(data.frame, labels, top=None)
            for p in profiles:
                for entry in p["features"]:
                    entry["used"] = entry["feature"] in self.source_.used_
                # the clustering features first, then the most distinctive other columns
                p["features"] = sorted(p["features"], key=lambda f: not f["used"])[:12]
                p["name"] = cluster_name([f for f in p["features"] if f["used"]][:2])
                p["examples"] = [
                    data.ids[data.rows[r]] for r in np.flatnonzero(labels == p["cluster"])[:3]
                ]
            return profiles
        terms = (
            cl.top_terms(centers, self.source_.terms_, self.top_terms)
            if self.features == "tfidf"
            else None
        )
        out = []
        for i, c in enumerate(self.clusters_):
            entry: dict[str, Any] = {"cluster": c, "size": sizes[c]}
            if terms is not None:
                entry["top_terms"] = [[t, w] for t, w in terms[i]]
                entry["name"] = ", ".join(t for t, _ in terms[i][:3])
            else:
                entry["name"] = ""
            entry["examples"] = examples.get(c, [])
            out.append(entry)
        return out

    # -- using ----------------------------------------------------------------------------

    def predict_document(self, doc: Document) -> dict[str, Any]:
        """`{"id", "cluster"}`: the cluster whose centroid is nearest to the document's
        features (`null` when it has none: no tokens, no known word, no table row)."""
        row = self.source_.row(doc)
        if row is None or not len(self.clusters_):
            return {"id": doc.id, "cluster": None}
        index = int(cl.nearest_centroid(self.centroids_, row)[0])
        return {"id": doc.id, "cluster": int(self.clusters_[index])}

    def _save_state(self, folder: Path) -> None:
        np.save(folder / CENTROIDS_FILE, self.centroids_)
        write_json(folder / "clusters.json", {"clusters": self.clusters_, "names": self.names_})
        self.source_.save(folder)

    def _load_state(self, folder: Path) -> None:
        self.centroids_ = np.load(folder / CENTROIDS_FILE, allow_pickle=False)
        record = json.loads((folder / "clusters.json").read_text(encoding="utf-8"))
        self.clusters_ = [int(c) for c in record["clusters"]]
        self.names_ = {int(c): n for c, n in record["names"].items()}
        self.source_ = self._source().load(folder)

    def _source(self) -> ClusterFeatures:
        return ClusterFeatures(
            features=self.features, field=self.field, drop_stop=self.drop_stop,
            min_df=self.min_df, max_features=self.max_features,
        )  # fmt: skip


@register("task", "kmeans")
class KMeansClusters(ClusterTask):
    """K-Means (seeded; MiniBatchKMeans from 20,000 documents unless `minibatch` says).

    - `k`: a number of clusters, or `[lo, hi]`: every k from lo to hi is fitted and the one
      with the best `criterion` kept: "silhouette" (mean silhouette on a seeded sample of
      `sample_size` documents) or "elbow" (the knee of the inertia curve); both curves are
      plotted in `k_selection.png`.
    - `features`: "tfidf" (the task's own sublinear TF-IDF of the tokens chosen by `field`,
      `drop_stop`, `min_df`, `max_features`), "docvectors" (the run's), or
      `{table: FEATURES_SPEC}` (rows of the `table` reader through the feature steps).
    - `projection`: "pca", "tsne" (a seeded sample of at most `max_points`) or null.
    - `label`: the meta key of known groups, when present scored with NMI / ARI.
    """

    method = "kmeans"
    version = "1"

    def __init__(
        self,
        *,
        k: int | list[int] = [2, 10],  # noqa: B006 - stored as given, never mutated
        criterion: Literal["silhouette", "elbow"] = "silhouette",
        minibatch: bool | None = None,
        features: Features = "tfidf",
        field: Field = "lower",
        drop_stop: bool = True,
        min_df: Annotated[int, Range(ge=1)] = 2,
        max_features: Annotated[int, Range(ge=1)] | None = None,
        projection: Literal["pca", "tsne"] | None = "pca",
        sample_size: Annotated[int, Range(ge=10)] = 3000,
        max_points: Annotated[int, Range(ge=10)] = 3000,
        top_terms: Annotated[int, Range(ge=1)] = 10,
        label: str = "label",
        seed: int = 0,
    ):
        _store(self, locals())

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """`k` is a number of at least 2 or a range `[lo, hi]` with 2 <= lo <= hi."""
        k = params.get("k")
        ok = isinstance(k, int) and k >= 2
        ok = ok or (
            isinstance(k, list) and len(k) == 2 and all(isinstance(v, int) for v in k)
            and 2 <= k[0] <= k[1]
        )  # fmt: skip
        if not ok:
            return [
                f"k: {k!r} is invalid: give a number of clusters (at least 2) or a range [lo, hi]"
            ]
        return super().check_params(params)

    def _cluster(self, X: Any, staging: Path, extra: dict[str, Any], where: str) -> np.ndarray:
        from ..ml.cluster_plots import k_selection_png

        lo, hi = (self.k, self.k) if isinstance(self.k, int) else self.k
        ks = [k for k in range(lo, hi + 1) if k < X.shape[0]]
        if not ks:
            raise ConfigError(
                f"{where}.k: {self.k!r} clusters need more than {lo} documents with features, "
                f"and the corpus has {X.shape[0]}: lower k"
            )
        selection = cl.select_k(
            X, ks, criterion=self.criterion, seed=self.seed,
            sample_size=self.sample_size, minibatch=self.minibatch,
        )  # fmt: skip
        extra["k_selection"] = {
            "criterion": self.criterion,
            "ks": selection.ks,
            "silhouette": [None if s is None else round(s, 4) for s in selection.silhouette],
            "inertia": [round(v, 4) for v in selection.inertia],
            "chosen": selection.chosen,
        }
        if len(ks) > 1:
            k_selection_png(selection, staging / "k_selection.png")
        return selection.labels


@register("task", "agglomerative")
class AgglomerativeClusters(ClusterTask):
    """Agglomerative (hierarchical) clustering of the documents or table rows.

    `linkage` ward, average, complete or single; `k` clusters, or the tree cut at
    `distance_threshold` (set `k: null`). Sparse TF-IDF is first reduced by a seeded LSA
    (n/10 dimensions, 10 to 100; `dense_dims` in metrics). The whole distance tree is built
    in memory: meant for up to some tens of thousands of documents. Other settings as
    `kmeans`.
    """

    method = "agglomerative"
    version = "1"

    def __init__(
        self,
        *,
        k: Annotated[int, Range(ge=2)] | None = 5,
        distance_threshold: Annotated[float, Range(gt=0)] | None = None,
        linkage: Linkage = "ward",
        features: Features = "tfidf",
        field: Field = "lower",
        drop_stop: bool = True,
        min_df: Annotated[int, Range(ge=1)] = 2,
        max_features: Annotated[int, Range(ge=1)] | None = None,
        projection: Literal["pca", "tsne"] | None = "pca",
        sample_size: Annotated[int, Range(ge=10)] = 3000,
        max_points: Annotated[int, Range(ge=10)] = 3000,
        top_terms: Annotated[int, Range(ge=1)] = 10,
        label: str = "label",
        seed: int = 0,
    ):
        _store(self, locals())

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """Exactly one of `k` and `distance_threshold`."""
        if (params.get("k") is None) == (params.get("distance_threshold") is None):
            return [
                "distance_threshold: give either k (a number of clusters) or "
                "distance_threshold (where to cut the tree) with k: null, not both or neither"
            ]
        return super().check_params(params)

    def _cluster(self, X: Any, staging: Path, extra: dict[str, Any], where: str) -> np.ndarray:
        rows, _ = cl.dense_rows(X, seed=self.seed)
        extra["dense_dims"] = rows.shape[1]
        k = None if self.k is None else min(self.k, rows.shape[0] - 1)
        extra.update({"linkage": self.linkage, "distance_threshold": self.distance_threshold})
        return cl.agglomerative_labels(
            rows, linkage=self.linkage, n_clusters=k, distance_threshold=self.distance_threshold
        )


@register("task", "dbscan")
class DbscanClusters(ClusterTask):
    """DBSCAN clustering: dense regions of the documents or rows, the rest noise.

    Clusters are dense regions (`min_samples` rows within `eps`), the rest noise (counted,
    cluster -1 in the predictions of the fit). `eps: null` takes the knee of the k-distance
    curve (plotted in `k_distance.png`). Sparse TF-IDF is first reduced by a seeded LSA
    (n/10 dimensions, 10 to 100; rows l2-normalized). Other settings as `kmeans`; `predict`
    gives a new document the cluster of the nearest centroid.
    """

    method = "dbscan"
    version = "1"

    def __init__(
        self,
        *,
        eps: Annotated[float, Range(gt=0)] | None = None,
        min_samples: Annotated[int, Range(ge=2)] = 5,
        features: Features = "tfidf",
        field: Field = "lower",
        drop_stop: bool = True,
        min_df: Annotated[int, Range(ge=1)] = 2,
        max_features: Annotated[int, Range(ge=1)] | None = None,
        projection: Literal["pca", "tsne"] | None = "pca",
        sample_size: Annotated[int, Range(ge=10)] = 3000,
        max_points: Annotated[int, Range(ge=10)] = 3000,
        top_terms: Annotated[int, Range(ge=1)] = 10,
        label: str = "label",
        seed: int = 0,
    ):
        _store(self, locals())

    def _cluster(self, X: Any, staging: Path, extra: dict[str, Any], where: str) -> np.ndarray:
        from ..ml.cluster_plots import k_distance_png

        rows, _ = cl.dense_rows(X, seed=self.seed)
        extra["dense_dims"] = rows.shape[1]
        curve = cl.k_distances(rows, self.min_samples)
        eps = self.eps if self.eps is not None else cl.suggest_eps(curve)
        k_distance_png(curve, eps, self.min_samples, staging / "k_distance.png")
        labels = cl.dbscan_labels(rows, eps=eps, min_samples=self.min_samples)
        extra.update(
            {"eps": round(float(eps), 6), "eps_from": "given" if self.eps is not None else "k-distance knee",
             "min_samples": self.min_samples, "noise": int((labels < 0).sum())}
        )  # fmt: skip
        return labels


def _store(task: ClusterTask, arguments: dict[str, Any]) -> None:
    """Store a constructor's arguments under their own names (and nothing else)."""
    for name in registry.parameters(type(task)):
        setattr(task, name, arguments[name])
