"""The plot of a hyperparameter search: each trial's score, its spread, and the running best."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = ["search_png"]


def search_png(
    numbers: Sequence[int],
    means: Sequence[float | None],
    stds: Sequence[float | None],
    path: Path,
    *,
    metric: str,
    maximize: bool,
    title: str,
) -> Path:
    """Draw the score of each trial (error bar: the standard deviation over folds, when
    known) against its number, with the running best as a step line, and save it as a PNG
    at `path`; failed trials (`None`) are marked on the axis. Returns `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [(n, m, s) for n, m, s in zip(numbers, means, stds, strict=True) if m is not None]
    failed = [n for n, m in zip(numbers, means, strict=True) if m is None]
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    try:
        if done:
            xs = [n for n, _, _ in done]
            ys = [m for _, m, _ in done]
            errors = [s if s is not None else 0.0 for _, _, s in done]
            ax.errorbar(
                xs, ys, yerr=errors, fmt="o", color="#4c72b0", ecolor="#9bb0d3",
                capsize=3, label=f"trial ({metric}, ± std)",
            )  # fmt: skip
            best, running = [], None
            for y in ys:
                if running is None or (y > running if maximize else y < running):
                    running = y
                best.append(running)
            top = xs[ys.index(best[-1])]
            ax.step(
                xs, best, where="post", color="#dd8452", linewidth=2,
                label=f"best so far (best: {best[-1]:.4f}, trial {top})",
            )  # fmt: skip
            ax.plot([top], [best[-1]], "*", color="#dd8452", markersize=14, zorder=3)
        if failed:
            low = ax.get_ylim()[0]
            ax.plot(failed, [low] * len(failed), "x", color="#c44e52", label="failed trial")
        ax.set_xlabel("trial")
        ax.set_ylabel(metric)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if numbers and len(numbers) <= 30:
            ax.set_xticks(list(numbers))
        # below the axes: inside, it hides trials
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=9, frameon=False
        )
        fig.tight_layout()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return Path(path)
