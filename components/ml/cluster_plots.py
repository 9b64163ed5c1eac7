"""Plots of clustering results (matplotlib, Agg backend): the choice of k, the k-distance
curve of DBSCAN, a 2-D projection coloured by cluster; and the report blocks that show them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.report_sections import image_block, metrics_block, table_block

__all__ = [
    "cluster_name",
    "k_distance_png",
    "k_selection_png",
    "projection_png",
    "report_blocks",
]

DPI = 110


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def k_selection_png(selection: Any, path: Path) -> Path:
    """The silhouette and the inertia (elbow) of each k of a `KSelection` in one figure,
    side by side, the chosen k marked on both; saved as a PNG at `path`."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    try:
        ks = selection.ks
        scored = [(k, s) for k, s in zip(ks, selection.silhouette, strict=True) if s is not None]
        if scored:
            left.plot(*zip(*scored, strict=True), marker="o", color="tab:blue")
        left.set_title("Silhouette (higher is better)")
        left.set_ylabel("mean silhouette (sample)")
        right.plot(ks, selection.inertia, marker="o", color="tab:orange")
        right.plot([ks[0], ks[-1]], [selection.inertia[0], selection.inertia[-1]], ":", c="grey")
        right.set_title("Inertia (elbow; dotted: the chord)")
        right.set_ylabel("within-cluster sum of squares")
        for ax in (left, right):
            ax.axvline(
                selection.chosen,
                color="tab:red",
                linestyle="--",
                label=f"chosen k = {selection.chosen}",
            )
            ax.set_xlabel("k (number of clusters)")
            ax.set_xticks(ks)
            ax.grid(alpha=0.3)
            ax.legend(loc="best")
        fig.suptitle(f"Choosing k by {selection.criterion}")
        fig.tight_layout()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=DPI)
    finally:
        plt.close(fig)
    return Path(path)


def k_distance_png(curve: np.ndarray, eps: float, min_samples: int, path: Path) -> Path:
    """The sorted k-distance curve (distance of each row to its `min_samples`-th nearest
    neighbour) with the `eps` used drawn across it; saved as a PNG at `path`."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    try:
        ax.plot(np.arange(curve.size), curve, color="tab:blue")
        ax.axhline(eps, color="tab:red", linestyle="--", label=f"eps = {eps:.3g}")
        ax.set_xlabel("rows, sorted by distance")
        ax.set_ylabel(f"distance to neighbour {min_samples}")
        ax.set_title("k-distance curve (DBSCAN's eps)")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left")
        fig.tight_layout()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=DPI)
    finally:
        plt.close(fig)
    return Path(path)


def projection_png(
    points: np.ndarray,
    labels: Sequence[int],
    path: Path,
    *,
    method: str,
    names: dict[int, str] | None = None,
) -> Path:
    """A scatter of 2-D `points` coloured by cluster (`labels`, -1 = noise in grey), with a
    legend naming each cluster (`names`, e.g. its top terms); saved as a PNG at `path`."""
    plt = _pyplot()
    labels = np.asarray(labels)
    fig, ax = plt.subplots(figsize=(8, 6))
    try:
        cmap = plt.get_cmap("tab20" if len(np.unique(labels)) > 10 else "tab10")
        size = 12 if len(labels) < 2000 else 5
        for i, c in enumerate(sorted(int(x) for x in np.unique(labels))):
            mask = labels == c
            colour = "lightgrey" if c < 0 else cmap(i % cmap.N)
            name = "noise" if c < 0 else f"{c}: {(names or {}).get(c, '')}".rstrip(": ")
            ax.scatter(
                points[mask, 0], points[mask, 1], s=size, color=colour, label=name, alpha=0.75
            )
        shown = {"pca": "PCA", "tsne": "t-SNE"}.get(method, method)
        ax.set_title(f"Clusters in 2-D ({shown}, {len(labels)} points)")
        ax.set_xlabel(f"{shown} 1")
        ax.set_ylabel(f"{shown} 2")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, markerscale=1.5)
        fig.tight_layout()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=DPI)
    finally:
        plt.close(fig)
    return Path(path)


def cluster_name(features: list[dict[str, Any]]) -> str:
    """A short name for a table cluster from its most distinctive features
    (entries of `feature_profiles`): "high tenure, contract=Two year"."""
    parts = []
    for f in features:
        if "cluster_mean" in f:
            word = "high" if f["cluster_mean"] > f["overall_mean"] else "low"
            parts.append(f"{word} {f['feature']}")
        else:
            parts.append(f"{f['feature']}={f['value']}")
    return ", ".join(parts)


def report_blocks(
    metrics: dict[str, Any], profiles: list[dict[str, Any]], images: list[str]
) -> list[dict[str, Any]]:
    """Figures, the plots, and one row per cluster (size, name or top terms, examples)."""
    shown = {
        k: v for k, v in metrics.items()
        if k not in ("skipped", "seconds", "cluster_sizes", "k_selection", "external")
    }  # fmt: skip
    shown.update({f"skipped ({reason})": n for reason, n in metrics["skipped"].items()})
    external = metrics.get("external")
    if external:
        shown[f"NMI vs '{external['label']}'"] = external["nmi"]
        shown[f"ARI vs '{external['label']}'"] = external["ari"]
        shown["NMI of shuffled clusters (chance)"] = external["nmi_shuffled"]
    blocks = [metrics_block("Clustering", shown)]
    titles = {
        "k_selection.png": "Choosing k: silhouette and inertia",
        "k_distance.png": "k-distance curve and eps",
        "projection.png": "Clusters in two dimensions",
    }
    blocks.extend(image_block(titles[name], name) for name in images)
    rows = []
    for p in profiles:
        if "top_terms" in p:
            described = ", ".join(t for t, _ in p["top_terms"][:8])
        elif "features" in p:
            described = "; ".join(_feature_text(f) for f in p["features"][:5])
        else:
            described = ""
        rows.append([p["cluster"], p["size"], described, " | ".join(p["examples"][:2])])
    blocks.append(table_block("Clusters", ["cluster", "size", "profile", "examples"], rows))
    return blocks


def _feature_text(f: dict[str, Any]) -> str:
    if "cluster_mean" in f:
        return f"{f['feature']} {f['cluster_mean']:.4g} (all {f['overall_mean']:.4g})"
    return f"{f['feature']}={f['value']} {f['share']:.0%} (all {f['overall_share']:.0%})"
