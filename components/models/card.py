"""A trained model's card: what it was trained on, how, with which settings, and how well.

Written next to the model as `card.json` (for programs: `nlp serve`'s `/model`, the
report) and `card.md` (for people), in the manner of Hugging Face model cards: data
(corpus reader and path, documents, classes and their counts), split, seed, parameters,
library versions, metrics and training time.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["classification_card", "library_versions", "render_card_markdown", "write_card"]

LIBRARIES = ("nlp-pipeline", "scikit-learn", "torch", "numpy")
HEADLINE = ("accuracy", "f1_macro", "f1_weighted", "roc_auc", "log_loss")


def library_versions() -> dict[str, str | None]:
    """Python's version and the installed versions of the libraries a model depends on
    (read from package metadata, so torch is not imported to learn its version)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def render_card_markdown(card: Mapping[str, Any]) -> str:
    """`card.md`: the card as a short Markdown page (data, split, scores, parameters)."""
    data = card.get("data", {})
    corpus = data.get("corpus") or {}
    lines = [
        f"# {card.get('name', 'model')} ({card.get('model')})",
        "",
        f"Text classifier predicting `meta[{data.get('label')!r}]` from `{card.get('field')}` tokens.",
        "",
        "## Data",
        "",
        f"- corpus: reader `{corpus.get('reader', '?')}`, path `{corpus.get('path', '?')}`",
        f"- documents: {data.get('documents')}",
        "- classes: "
        + ", ".join(f"`{c}` ({n})" for c, n in (data.get("class_counts") or {}).items()),
    ]
    if data.get("test_corpus"):
        lines.append(f"- test corpus: `{data['test_corpus']}`")
    split = card.get("split", {})
    lines += [
        "",
        "## Split",
        "",
        f"- sizes: {', '.join(f'{k} {v}' for k, v in (split.get('sizes') or {}).items())}",
        f"- settings: {split.get('settings')}; seed {card.get('seed')}",
    ]
    if card.get("cv"):
        lines.append(f"- cross-validation: {card['cv']}")
    lines += ["", "## Scores", "", "| part | " + " | ".join(HEADLINE) + " |"]
    lines.append("|---" * (len(HEADLINE) + 1) + "|")
    for part, scores in (card.get("metrics") or {}).items():
        if isinstance(scores, Mapping):
            cells = [_cell(scores.get(key)) for key in HEADLINE]
            lines.append(f"| {part} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Training time: {card.get('training_seconds', 0):.2f} s.",
        "",
        "## Parameters",
        "",
        "```json",
        _json(card.get("params", {})),
        "```",
        "",
        "## Versions",
        "",
        ", ".join(f"{k} {v}" for k, v in (card.get("versions") or {}).items() if v),
        "",
    ]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, Mapping):  # a cross-validation summary
        return f"{value['mean']:.3f} ± {value['std']:.3f}"
    return "–" if value is None else f"{value:.3f}"


def _json(value: Any) -> str:
    import json

    return json.dumps(value, indent=2, sort_keys=True, default=str)


def write_card(folder: Path, card: Mapping[str, Any]) -> None:
    """Write `card.json` and `card.md` into `folder`."""
    import json

    (folder / "card.json").write_text(json.dumps(card, indent=2, default=str), encoding="utf-8")
    (folder / "card.md").write_text(render_card_markdown(card), encoding="utf-8")


def classification_card(
    task: Any,
    name: str,
    record: Mapping[str, Any] | None,
    class_counts: Mapping[str, int],
    metrics: Mapping[str, Any],
    external: bool,
) -> dict[str, Any]:
    """The card of a fitted classification task: `record` is its `pipeline.json` (corpus
    settings), `metrics` what it wrote to `metrics.json`; `external` says whether a
    `test_corpus` was the test set."""
    parts = {"test": metrics["test"], "validation": metrics["validation"]}
    headline: dict[str, Any] = {
        part: {k: v for k, v in scores.items() if not isinstance(v, list | dict)}
        for part, scores in parts.items()
        if scores
    }
    if "cv" in metrics:
        headline["cv"] = metrics["cv"]["summary"]
    return {
        "name": (record or {}).get("name", name),
        "model": task.model,
        "task": "text-classification",
        "field": task.field,
        "data": {
            "corpus": (record or {}).get("corpus"),
            "label": task.label,
            "documents": sum(class_counts.values()),
            "classes": list(task.classes_),
            "class_counts": dict(class_counts),
            "test_corpus": task.test_corpus if external else None,
        },
        "split": metrics["split"],
        "cv": metrics["cv"]["settings"] if "cv" in metrics else None,
        "seed": task.seed,
        "params": task.get_params(),
        "versions": library_versions(),
        "metrics": headline,
        "training_seconds": metrics["training_seconds"],
    }
