"""The `mf` task's plots and report section (kept apart from the task's computation)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline.report_sections import image_block, table_block, text_block, write_section

__all__ = ["report_blocks", "rmse_png", "weight_png"]

MODEL_NAMES = {
    "global_mean": "global mean",
    "biases": "user + item biases",
    "mf": "matrix factorization",
    "popularity": "popularity",
    "chance": "random order (expected)",
    "content": "content (TF-IDF)",
    "hybrid": "hybrid",
}


def rmse_png(
    history: Sequence[Mapping[str, float]], models: Mapping[str, Any], path: Path, solver: str
) -> str:
    """Training and held-out RMSE per epoch, the baselines as lines; returns the file name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot(epochs, [h["train_rmse"] for h in history], marker="o", ms=3, label="MF, training")
    if all("eval_rmse" in h for h in history):
        ax.plot(epochs, [h["eval_rmse"] for h in history], marker="o", ms=3, label="MF, held out")
    styles = (
        ("biases", "--", "biases only, held out"),
        ("global_mean", ":", "global mean, held out"),
    )
    for name, style, label in styles:
        value = (models.get(name) or {}).get("rmse")
        if value is not None:
            ax.axhline(value, linestyle=style, color="grey", label=f"{label} ({value:.3f})")
    ax.set_xlabel("epoch (0: initial state)")
    ax.set_ylabel("RMSE (stars)")
    ax.set_title(f"Matrix factorization ({solver.upper()}): RMSE per epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path).name


def weight_png(
    curve: Sequence[Mapping[str, float]], chosen: float | None, k: int, path: Path
) -> str:
    """precision@k against the hybrid's content weight, on validation and held out, the
    chosen weight marked; returns the file name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weights = [p["weight"] for p in curve]
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    if all("validation" in p for p in curve):
        ax.plot(
            weights,
            [p["validation"] for p in curve],
            marker="o",
            label="validation (picks the weight)",
        )
    ax.plot(weights, [p["test"] for p in curve], marker="s", label="held out (reported)")
    if chosen is not None:
        ax.axvline(chosen, color="grey", linestyle="--", label=f"chosen weight {chosen:g}")
    ax.set_xlabel("content weight (0: MF alone, 1: content alone)")
    ax.set_ylabel(f"precision@{k}")
    ax.set_title(f"Hybrid recommender: precision@{k} by content weight")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path).name


def _cell(value: Any) -> Any:
    return "-" if value is None else round(float(value), 4)


def report_blocks(
    folder: Path,
    metrics: Mapping[str, Any],
    images: Sequence[str],
    examples: Sequence[Mapping[str, Any]],
) -> None:
    """Write the task's report section: the models side by side, the plots, a few users'
    recommendations, and the protocol in words."""
    k = metrics["k"]
    split = metrics["split"]
    rows = [
        [
            MODEL_NAMES.get(name, name),
            *(_cell(f.get(key)) for key in ("rmse", "mae", f"precision@{k}", f"recall@{k}")),
        ]
        for name, f in metrics["models"].items()
    ]
    blocks = [
        text_block(
            f"{metrics['ratings']:,} ratings of {metrics['users']:,} users on {metrics['items']:,} items; "
            f"{split['test']:,} held out ({split['by']}, {split['fraction']:.0%} of each user's ratings), "
            f"solver {metrics['solver']}. Skipped rows: {metrics['skipped'] or 'none'}."
        ),
        table_block("Held-out ratings", ["model", "RMSE", "MAE", f"P@{k}", f"R@{k}"], rows),
    ]
    catalogue = metrics.get("catalogue") or {}
    if catalogue:
        cells = [
            [MODEL_NAMES.get(name, name), _cell(f[f"precision@{k}"]), _cell(f[f"recall@{k}"])]
            for name, f in catalogue.items()
        ]
        blocks.append(
            table_block("Ranking the whole catalogue", ["model", f"P@{k}", f"R@{k}"], cells)
        )
    hybrid = metrics.get("hybrid")
    if hybrid:
        blocks.append(
            text_block(
                f"Hybrid: content weight {hybrid['weight']:g} ({hybrid['chosen_on']}; the validation "
                f"split of {split['validation']:,} ratings is carved from the training ratings), "
                f"content columns {', '.join(hybrid['content'])}."
            )
        )
    titles = {
        "rmse_by_epoch.png": "RMSE per epoch (training and held out) beside the baselines",
        "precision_by_weight.png": f"precision@{k} by the hybrid's content weight",
    }
    blocks.extend(image_block(titles.get(name, name), name) for name in images)
    listed = [
        [str(e["user"]), "; ".join(str(i.get("title") or i["item"]) for i in e["items"])]
        for e in examples
    ]
    if listed:
        blocks.append(
            table_block("Recommendations (first users, top 5)", ["user", "items"], listed)
        )
    blocks.append(text_block(metrics["protocol"] + "."))
    if catalogue:
        blocks.append(text_block(metrics["catalogue_protocol"] + "."))
    write_section(folder, "Recommendations", blocks, order=50)
