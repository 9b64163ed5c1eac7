"""Plots of learning and validation curves (mean ± std bands, the verdict in the title),
written as PNG files with matplotlib's Agg backend."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "CURVE_FILES",
    "curve_blocks",
    "learning_curve_png",
    "validation_curve_png",
    "write_curves",
]

#: the files of a task's curves: the data, the learning curve (by training-set size: the
#: torch models' own `learning_curve.png` is their loss by epoch) and the validation curve
CURVE_FILES = ("curves.json", "learning_curve_by_size.png", "validation_curve.png")

TRAIN_COLOUR = "#1f77b4"
VALIDATION_COLOUR = "#d62728"


def learning_curve_png(result: Mapping[str, Any], path: Path, *, model: str = "") -> Path:
    """Draw a learning curve (`curves.learning_curves`' result): training and validation
    score against the number of training documents, each a mean line with a ± std band;
    the verdict in the title. Returns `path`."""
    title = _title("Learning curve", model, result["verdict"])
    return _draw(
        result, result["sizes"], "training documents", title, path, log_x=False, labels=None
    )


def validation_curve_png(result: Mapping[str, Any], path: Path, *, model: str = "") -> Path:
    """Draw a validation curve (`curves.validation_curves`' result): training and
    validation score against the parameter's values (log axis when they are positive
    numbers spanning more than a factor 20, else evenly spaced labels), the best value
    marked, its verdict in the title. Returns `path`."""
    values = list(result["values"])
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    log_x = numeric and min(values) > 0 and max(values) / min(values) > 20
    x = values if numeric else list(range(len(values)))
    labels = None if numeric else [str(v) for v in values]
    title = _title(
        f"Validation curve over {result['param']}", model, result["verdict"], result["best"]
    )
    return _draw(result, x, result["param"], title, path, log_x=log_x, labels=labels)


def _title(
    what: str, model: str, verdict: Mapping[str, Any] | None, best: Mapping[str, Any] | None = None
) -> str:
    head = f"{what} ({model})" if model else what
    if verdict is None:
        return head
    at = f" at {best['value']}" if best is not None else ""
    return (
        f"{head}\nverdict{at}: {verdict['kind']} "
        f"(train {verdict['train']:.3f}, validation {verdict['validation']:.3f})"
    )


def _draw(
    result: Mapping[str, Any],
    x: list[Any],
    xlabel: str,
    title: str,
    path: Path,
    *,
    log_x: bool,
    labels: list[str] | None,
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(7.0, 4.6))
    try:
        for key, name, colour in (
            ("train", "training", TRAIN_COLOUR),
            ("validation", "validation (held-out folds)", VALIDATION_COLOUR),
        ):
            mean = np.asarray([np.nan if v is None else v for v in result[key]["mean"]], float)
            std = np.asarray([np.nan if v is None else v for v in result[key]["std"]], float)
            ax.plot(x, mean, "o-", color=colour, label=name)
            ax.fill_between(x, mean - std, mean + std, color=colour, alpha=0.18, linewidth=0)
        if "best" in result:
            best = x[result["best"]["index"]]
            ax.axvline(best, color="grey", linestyle=":", linewidth=1, label="best validation")
        if log_x:
            ax.set_xscale("log")
        if labels is not None:
            ax.set_xticks(x, labels=labels)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(result.get("scoring", "score"))
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=9)
        fig.tight_layout()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return Path(path)


def write_curves(folder: Path, curves: Mapping[str, Any] | None, model: str) -> None:
    """`curves.json` and `learning_curve_by_size.png` / `validation_curve.png` in `folder`
    (`curves`: a task's `metrics.json["curves"]`)."""
    import json

    if not curves:
        return
    (folder / "curves.json").write_text(json.dumps(curves, indent=2, default=str), "utf-8")
    if "learning" in curves:
        learning_curve_png(curves["learning"], folder / CURVE_FILES[1], model=model)
    if "validation" in curves:
        validation_curve_png(curves["validation"], folder / CURVE_FILES[2], model=model)


def curve_blocks(curves: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The report blocks of a task's curves (None: none): each verdict in words, its plot."""
    from pipeline.report_sections import image_block, text_block

    blocks: list[dict[str, Any]] = []
    for key, title, image in (
        ("learning", "Learning curve", CURVE_FILES[1]),
        ("validation", "Validation curve", CURVE_FILES[2]),
    ):
        if not curves or key not in curves or curves[key]["verdict"] is None:
            continue
        verdict = curves[key]["verdict"]
        at = (
            f" (best {curves[key]['param']} = {curves[key]['best']['value']})"
            if key == "validation"
            else ""
        )
        blocks.append(
            text_block(
                f"{title}{at}: {verdict['kind']}. {verdict['reason']}. Next: {verdict['next_step']}."
            )
        )
        blocks.append(image_block(f"{title}: {verdict['kind']}", image))
    return blocks
