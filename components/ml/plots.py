"""Plots of classification results, written as PNG files with matplotlib's Agg backend."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = ["confusion_png"]


def confusion_png(matrix: Sequence[Sequence[int]], classes: Sequence[str], path: Path) -> Path:
    """Draw a confusion matrix (rows: true class, columns: predicted) with every cell's count
    written in it, and save it as a PNG at `path`; returns `path`. Uses the Agg backend,
    so it works without a display."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    counts = np.asarray(matrix, dtype=int)
    size = max(4.0, 0.6 * len(classes) + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1.0, size))
    try:
        image = ax.imshow(counts, cmap="Blues")
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="documents")
        ax.set_xticks(
            range(len(classes)), labels=[str(c) for c in classes], rotation=45, ha="right"
        )
        ax.set_yticks(range(len(classes)), labels=[str(c) for c in classes])
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        ax.set_title(f"Confusion matrix ({int(counts.sum())} documents)")
        threshold = counts.max() / 2 if counts.size else 0
        for i in range(counts.shape[0]):
            for j in range(counts.shape[1]):
                colour = "white" if counts[i, j] > threshold else "black"
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", color=colour)
        fig.tight_layout()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return Path(path)
