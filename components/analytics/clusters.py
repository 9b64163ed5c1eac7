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
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field as Range

from pipeline.config import ConfigError
from pipeline.document import Document
from pipeline.registry import register
from pipeline.report_sections import write_section

from ..ml import clustering as cl
from ..ml.cluster_plots import cluster_name, report_blocks
from ..represent.tokens import Field
from .base import AnalyticsTask, JsonLines, document_tokens, write_json

__all__ = ["AgglomerativeClusters", "ClusterTask", "DbscanClusters", "KMeansClusters"]

Features = Literal["tfidf", "docvectors"] | dict[str, Any]
Linkage = Literal["ward", "average", "complete", "single"]
CENTROIDS_FILE = "centroids.npy"
FEATURES_FILE = "features.skops"  # the fitted tabular feature steps (skops: no pickle)
# beyond skops' own trusted set: the tabular feature steps' own classes
TRUSTED_TYPES = [
    "components.ml.tabular_steps.ColumnsOfKind",
    "components.ml.tabular_steps.DateParts",
    "components.ml.tabular_steps.OutlierTreatment",
    "numpy.dtype",
]


class _Data:
    """What the task keeps of the corpus: every document's id, label and title, which
    documents have a feature row (`rows`: positions), the rows, and skip reasons."""

    def __init__(self, label_key: str) -> None:
        self.label_key = label_key
        self.ids: list[str] = []
        self.truth: list[str | None] = []
        self.titles: list[str] = []
        self.rows: list[int] = []
        self.skipped: Counter[str] = Counter()
        self.frame: Any = None  # the table's rows (tables only)

    def add(self, doc: Document) -> int:
        label = doc.meta.get(self.label_key)
        self.ids.append(doc.id)
        self.truth.append(None if label is None else str(label))
        title = str(doc.meta.get("title") or doc.text.strip().split("\n", 1)[0] or doc.id)
        self.titles.append(title if len(title) <= 70 else title[:67] + "...")
        return len(self.ids) - 1


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
        where = f"tasks.{staging.name.removeprefix('.').removesuffix('.staging')}"
        problems = self.check_params(self.get_params())
        if problems:
            raise ConfigError.of([ConfigError(f"{where}.{p}") for p in problems])
        t0 = time.perf_counter()
        data = _Data(self.label)
        X = self._matrix(corpus, data, run_dir, where)
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

    def _matrix(
        self, corpus: Iterable[Document], data: _Data, run_dir: Path | None, where: str
    ) -> Any:
        """The feature rows of the documents that have features (positions in `data.rows`)."""
        if isinstance(self.features, Mapping):
            return self._table(corpus, data, where)
        if self.features == "docvectors":
            return self._docvectors(corpus, data, run_dir, where)
        return self._tfidf(corpus, data, where)

    def _tfidf(self, corpus: Iterable[Document], data: _Data, where: str) -> Any:
        import scipy.sparse as sp

        from ..represent.tfidf import TfIdf

        def token_lists() -> Iterator[list[str]]:
            for doc in corpus:
                position = data.add(doc)
                tokens = document_tokens(
                    doc, field=self.field, drop_stop=self.drop_stop, where=where
                )
                if not tokens:
                    data.skipped["empty"] += 1
                    continue
                data.rows.append(position)
                yield tokens

        self.tfidf_ = TfIdf(
            min_df=self.min_df, max_features=self.max_features, sublinear_tf=True, norm="l2"
        )
        stream = token_lists()
        first = next(stream, None)
        if first is None:
            self.tfidf_ = None
            return sp.csr_matrix((0, 0))
        matrix = self.tfidf_.fit_transform(_chain(first, stream)).tocsr()
        self.terms_ = [str(t) for t in self.tfidf_.get_feature_names_out()]
        return matrix

    def _docvectors(
        self, corpus: Iterable[Document], data: _Data, run_dir: Path | None, where: str
    ) -> np.ndarray:
        folder = None if run_dir is None else run_dir / "represent" / "docvectors"
        if folder is None or not (folder / "learner.json").is_file():
            raise ConfigError(
                f"{where}.features: 'docvectors' clusters the run's document vectors, and this "
                "run has none: add `docvectors: {vectors: glove-6b-50d}` under `represent:` "
                "(or use features: tfidf)"
            )
        from ..represent.docvectors import DocVectors

        self.docvectors_ = DocVectors.load(folder)
        blocks, batch, positions = [], [], []
        for doc in corpus:
            positions.append(data.add(doc))
            batch.append(doc)
            if len(batch) == 512:
                blocks.append(self.docvectors_.transform(batch))
                batch = []
        if batch:
            blocks.append(self.docvectors_.transform(batch))
        matrix = np.concatenate(blocks) if blocks else np.zeros((0, 1))
        keep = np.linalg.norm(matrix, axis=1) > 0
        data.skipped["no_vector"] += int((~keep).sum())
        data.rows = [p for p, k in zip(positions, keep, strict=True) if k]
        return np.asarray(matrix[keep], dtype=np.float64)

    def _table(self, corpus: Iterable[Document], data: _Data, where: str) -> Any:
        from ..ml.tabular import build_features, rows_frame

        docs = []
        for doc in corpus:
            position = data.add(doc)
            if not isinstance(doc.meta.get("row"), Mapping):
                data.skipped["no_row"] += 1
                continue
            data.rows.append(position)
            docs.append(doc)
        if not docs:
            raise ConfigError(
                f"{where}.features: table features need documents read by the `table` reader "
                "(their meta['row']), and none of this corpus has one"
            )
        from ..ml.tabular import features_summary

        _, frame = rows_frame(docs)
        spec = self.features["table"]  # type: ignore[index]
        self.table_ = build_features(spec, where=f"{where}.features.table")
        matrix = self.table_.fit_transform(frame)
        self.columns_ = {str(c): _column_type(frame[c]) for c in frame.columns}
        used = features_summary(self.table_)["columns"]
        # profiles describe the clusters by every column of the rows, the features first
        self.used_ = [c for kind in ("numbers", "categories", "dates") for c in used.get(kind, [])]
        data.frame = frame
        return np.asarray(matrix, dtype=np.float64)

    # -- outputs --------------------------------------------------------------------------

    def _metrics(
        self, X: Any, labels: np.ndarray, data: _Data, extra: dict[str, Any], t0: float
    ) -> dict[str, Any]:
        scores = cl.internal_scores(X, labels, sample_size=self.sample_size, seed=self.seed)
        sizes = Counter(int(c) for c in labels if c >= 0)
        metrics: dict[str, Any] = {
            "method": self.method,
            "features": "table" if isinstance(self.features, Mapping) else self.features,
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
        self, centers: np.ndarray, labels: np.ndarray, data: _Data
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
                    entry["used"] = entry["feature"] in self.used_
                # the clustering features first, then the most distinctive other columns
                p["features"] = sorted(p["features"], key=lambda f: not f["used"])[:12]
                p["name"] = cluster_name([f for f in p["features"] if f["used"]][:2])
                p["examples"] = [
                    data.ids[data.rows[r]] for r in np.flatnonzero(labels == p["cluster"])[:3]
                ]
            return profiles
        terms = (
            cl.top_terms(centers, self.terms_, self.top_terms) if self.features == "tfidf" else None
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

    def _row(self, doc: Document) -> Any:
        """The feature row of one document, or `None` when it has none."""
        if isinstance(self.features, Mapping):
            if not isinstance(doc.meta.get("row"), Mapping):
                return None
            from ..ml.tabular import rows_frame

            _, frame = rows_frame([doc], list(self.columns_), types=self.columns_)
            return np.asarray(self.table_.transform(frame), dtype=np.float64)
        if self.features == "docvectors":
            vector = self.docvectors_.transform([doc])
            return vector if np.linalg.norm(vector) > 0 else None
        tokens = document_tokens(doc, field=self.field, drop_stop=self.drop_stop, where="predict")
        if not tokens or self.tfidf_ is None:
            return None
        row = self.tfidf_.transform([tokens])
        return row if row.nnz else None

    def predict_document(self, doc: Document) -> dict[str, Any]:
        """`{"id", "cluster"}`: the cluster whose centroid is nearest to the document's
        features (`null` when it has none: no tokens, no known word, no table row)."""
        row = self._row(doc)
        if row is None or not len(self.clusters_):
            return {"id": doc.id, "cluster": None}
        index = int(cl.nearest_centroid(self.centroids_, row)[0])
        return {"id": doc.id, "cluster": int(self.clusters_[index])}

    def _save_state(self, folder: Path) -> None:
        np.save(folder / CENTROIDS_FILE, self.centroids_)
        write_json(folder / "clusters.json", {"clusters": self.clusters_, "names": self.names_})
        if isinstance(self.features, Mapping):
            import skops.io as sio

            sio.dump(self.table_, folder / FEATURES_FILE)
            write_json(folder / "columns.json", self.columns_)
        elif self.features == "docvectors":
            self.docvectors_.save(folder / "docvectors")
        elif self.tfidf_ is not None:
            self.tfidf_.save(folder / "tfidf")

    def _load_state(self, folder: Path) -> None:
        self.centroids_ = np.load(folder / CENTROIDS_FILE, allow_pickle=False)
        record = json.loads((folder / "clusters.json").read_text(encoding="utf-8"))
        self.clusters_ = [int(c) for c in record["clusters"]]
        self.names_ = {int(c): n for c, n in record["names"].items()}
        if isinstance(self.features, Mapping):
            import skops.io as sio

            path = folder / FEATURES_FILE
            untrusted = [t for t in sio.get_untrusted_types(file=path) if t not in TRUSTED_TYPES]
            if untrusted:
                raise ValueError(
                    f"{path} holds types this task does not trust ({', '.join(untrusted)}); "
                    "it was not written by a clustering task"
                )
            self.table_ = sio.load(path, trusted=TRUSTED_TYPES)
            self.columns_ = json.loads((folder / "columns.json").read_text(encoding="utf-8"))
        elif self.features == "docvectors":
            from ..represent.docvectors import DocVectors

            self.docvectors_ = DocVectors.load(folder / "docvectors")
        elif (folder / "tfidf").is_dir():
            from ..represent.tfidf import TfIdf

            self.tfidf_ = TfIdf.load(folder / "tfidf")
        else:
            self.tfidf_ = None


def _common(
    self: ClusterTask,
    features: Features,
    field: Field,
    drop_stop: bool,
    min_df: int,
    max_features: int | None,
    projection: str | None,
    sample_size: int,
    max_points: int,
    top_terms: int,
    label: str,
    seed: int,
) -> None:
    self.features = features
    self.field = field
    self.drop_stop = drop_stop
    self.min_df = min_df
    self.max_features = max_features
    self.projection = projection
    self.sample_size = sample_size
    self.max_points = max_points
    self.top_terms = top_terms
    self.label = label
    self.seed = seed


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
        self.k = k
        self.criterion = criterion
        self.minibatch = minibatch
        _common(self, features, field, drop_stop, min_df, max_features, projection,
                sample_size, max_points, top_terms, label, seed)  # fmt: skip

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
    """Agglomerative (hierarchical) clustering: `linkage` ward, average, complete or single;
    `k` clusters, or the tree cut at `distance_threshold` (set `k: null`). Sparse TF-IDF is
    first reduced by a seeded LSA (n/10 dimensions, 10 to 100; `dense_dims` in metrics). The whole distance tree is built in
    memory: meant for up to some tens of thousands of documents. Other settings as `kmeans`.
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
        self.k = k
        self.distance_threshold = distance_threshold
        self.linkage = linkage
        _common(self, features, field, drop_stop, min_df, max_features, projection,
                sample_size, max_points, top_terms, label, seed)  # fmt: skip

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
    """DBSCAN: clusters are dense regions (`min_samples` rows within `eps`), the rest noise
    (counted, cluster -1 in the predictions of the fit). `eps: null` takes the knee of the
    k-distance curve (plotted in `k_distance.png`). Sparse TF-IDF is first reduced by a
    seeded LSA (n/10 dimensions, 10 to 100; rows l2-normalized). Other settings as `kmeans`; `predict` gives
    a new document the cluster of the nearest centroid.
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
        self.eps = eps
        self.min_samples = min_samples
        _common(self, features, field, drop_stop, min_df, max_features, projection,
                sample_size, max_points, top_terms, label, seed)  # fmt: skip

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


def _column_type(column: Any) -> str:
    """The `table` reader's type of a frame column (so one row alone is read the same way)."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(column):
        return "bool"
    if pd.api.types.is_numeric_dtype(column):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "date"
    return "category"


def _chain(first: list[str], rest: Iterator[list[str]]) -> Iterator[list[str]]:
    yield first
    yield from rest
