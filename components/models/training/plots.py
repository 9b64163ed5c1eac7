"""Training plots as PNG files: the learning curve, the per-layer gradient norms and the
gradient reaching each position of the input."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["plot_gradient_by_position", "plot_gradient_norms", "plot_learning_curve"]


def plot_learning_curve(
    history: Sequence[dict[str, Any]], path: Path, *, monitor: str = "val_loss"
) -> Path:
    """Train and validation loss per epoch (left axis) and the monitored metric (right axis),
    with the best epoch marked; written to `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(epochs, [h["train_loss"] for h in history], "o-", label="train loss")
    if any(h.get("val_loss") is not None for h in history):
        ax.plot(epochs, [h.get("val_loss") for h in history], "s-", label="validation loss")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("loss")
    handles, labels = ax.get_legend_handles_labels()
    if not monitor.endswith("loss") and any(h.get(monitor) is not None for h in history):
        right = ax.twinx()
        (line,) = right.plot(
            epochs, [h.get(monitor) for h in history], "^--", color="tab:green", label=monitor
        )
        right.set_ylabel(monitor.replace("_", " "))
        handles.append(line)
        labels.append(monitor)
    best = [h["epoch"] for h in history if h.get("best")]
    if best:
        handles.append(ax.axvline(best[-1], color="grey", linestyle=":", label="best epoch"))
        labels.append("best epoch")
    ax.legend(handles, labels, loc="best")
    ax.set_title(f"Learning curve (monitored: {monitor})")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_gradient_norms(history: Sequence[dict[str, Any]], path: Path) -> Path:
    """Mean gradient L2 norm of each layer group per epoch, log scale; written to `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = [h["epoch"] for h in history]
    groups = sorted({g for h in history for g in h.get("grad_norms", {})})
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for group in groups:
        values = [h.get("grad_norms", {}).get(group) for h in history]
        ax.plot(epochs, [v if v and v > 0 else float("nan") for v in values], "o-", label=group)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("mean gradient L2 norm")
    ax.set_title("Gradient norm per layer group")
    if groups:
        ax.legend(loc="best")
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_gradient_by_position(
    records: Sequence[dict[str, Any]], path: Path, *, title: str, min_documents: int = 3
) -> Path:
    """Mean ||dloss/d embedding|| by distance from the last token (log scale), one line per
    record of `PositionGradientRecorder.records_` (`label`, `mean_norm`, `documents`), over
    the distances at least `min_documents` documents reach; written to `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    underflow = False
    widest = 1
    for record in records:
        docs = record["documents"]
        floor = min(min_documents, max(docs, default=0))
        reach = sum(1 for n in docs if n >= floor)
        widest = max(widest, reach)
        values = record["mean_norm"][:reach]
        underflow |= any(v == 0 for v in values)
        ax.plot(
            range(reach),
            [v if v > 0 else float("nan") for v in values],
            label=f"{record['label']} ({docs[0] if docs else 0} documents)",
        )
    ax.set_yscale("log")
    ax.set_xlim(0, widest - 1)  # as far as the documents reach, even where a line stopped
    ax.set_xlabel("distance from the last token (0 = the last token)")
    ax.set_ylabel("mean L2 norm of dloss / d embedding")
    ax.set_title(title)
    if records:
        ax.legend(loc="best")
    if underflow:
        ax.annotate(
            "a line stops where the gradient is exactly 0 (below float32's range);\n"
            f"the axis ends where fewer than {min_documents} documents reach",
            xy=(0.01, 0.01),
            xycoords="axes fraction",
            fontsize=8,
            color="grey",
        )
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
