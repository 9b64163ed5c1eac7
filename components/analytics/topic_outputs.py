"""What the topics task shows: representative documents, trends, the coherence-by-k plot,
and its report section.

The section (order 10, a corpus-wide view) reads only what the task wrote: the chosen
number of topics and its coherence, a table of the topics with their top words, the
trend plot (or why there is none), the coherence-by-k plot, the representative documents.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.document import Document
from pipeline.report_sections import (
    image_block,
    metrics_block,
    table_block,
    text_block,
    write_section,
)

from .trends import PeriodShares

__all__ = ["TopDocuments", "plot_coherence", "write_report", "write_trends"]

MAX_ROWS = 50  # the report shows at most 50 rows of a table


class TopDocuments:
    """The `n` documents of largest share of each topic, kept while the distributions stream
    by (a heap per topic; ties go to the earlier document)."""

    def __init__(self, num_topics: int, n: int):
        self.n = n
        self._heaps: list[list[tuple[float, int, int]]] = [[] for _ in range(num_topics)]

    def add(self, position: int, distribution: np.ndarray) -> None:
        """Offer the document at `position` (in corpus order) to every topic's heap."""
        if not self.n:
            return
        for topic, heap in enumerate(self._heaps):
            item = (float(distribution[topic]), -position, position)
            if len(heap) < self.n:
                heapq.heappush(heap, item)
            else:
                heapq.heappushpop(heap, item)

    def entries(self, corpus: Iterable[Document], ids: Sequence[str]) -> list[dict[str, Any]]:
        """`[{"topic", "documents": [{"id", "share", "text"}, ...]}, ...]`, largest share
        first, with the first ~200 characters of each text (one more pass over `corpus`)."""
        wanted = {position for heap in self._heaps for _, _, position in heap}
        snippets: dict[int, str] = {}
        if wanted:
            for position, doc in enumerate(corpus):
                if position in wanted:
                    snippets[position] = _snippet(doc.text)
        return [
            {
                "topic": topic,
                "documents": [
                    {"id": ids[pos], "share": round(share, 6), "text": snippets.get(pos, "")}
                    for share, _, pos in sorted(heap, reverse=True)
                ],
            }
            for topic, heap in enumerate(self._heaps)
        ]


def _snippet(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit] + " …"


def write_trends(
    folder: Path,
    trends: PeriodShares,
    topics: Sequence[Sequence[tuple[str, float]]],
    date_field: str | None,
) -> str:
    """`trends.csv` and `trends.png` (topics labelled by their top 3 words) when documents
    have dates; returns the sentence metrics.json and the report show about the trends."""
    if date_field is None:
        return "trends off (date_field: null)"
    if not trends.dated:
        return (
            f"none drawn: none of the {trends.undated} modelled documents has a readable date "
            f"in meta[{date_field!r}] (set date_field to the meta key holding the date)"
        )
    trends.write_csv(folder / "trends.csv")
    labels = [f"{t}: {', '.join(w for w, _ in words[:3])}" for t, words in enumerate(topics)]
    trends.plot(folder / "trends.png", labels, title=f"Topic shares per {trends.period}")
    return (
        f"{len(trends.periods)} {trends.period}s in trends.csv from {trends.dated} dated "
        f"documents; {trends.undated} without a readable date in meta[{date_field!r}]"
    )


def plot_coherence(
    path: Path,
    scores: Mapping[int, tuple[float | None, Sequence[float | None]]],
    chosen: int,
    measure: str,
) -> None:
    """A PNG of the mean coherence for each number of topics, the chosen one marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = sorted(k for k, (value, _) in scores.items() if value is not None)
    values = [scores[k][0] for k in ks]
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=110)
    ax.plot(ks, values, marker="o", color="tab:blue")
    if chosen in ks:
        ax.scatter(
            [chosen],
            [scores[chosen][0]],
            s=140,
            facecolors="none",
            edgecolors="tab:red",
            linewidths=2,
            zorder=3,
            label=f"chosen: {chosen} topics",
        )
        ax.legend(frameon=False)
    ax.set_xticks(ks)
    ax.set_xlabel("number of topics")
    ax.set_ylabel(f"mean coherence ({measure})")
    ax.set_title(f"Coherence ({measure}) by number of topics")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(
    folder: Path,
    label: str,
    metrics: Mapping[str, Any],
    topics: Sequence[Mapping[str, Any]],
    representative: Sequence[Mapping[str, Any]],
) -> None:
    """`report.json` of the topics task (see the module docstring)."""
    k = metrics["num_topics"]
    coherence = metrics["coherence"]
    blocks = [text_block(_choice_sentence(label, metrics))]
    figures = {
        "documents": metrics["documents"],
        "modelled": metrics["modelled"],
        **{f"skipped: {reason}": n for reason, n in metrics["skipped"].items()},
        "vocabulary": metrics["vocabulary"],
    }
    if coherence["chosen"] is not None:
        figures[f"coherence ({coherence['measure']})"] = round(coherence["chosen"], 4)
    if metrics["date_field"] is not None:
        figures["dated"] = metrics["dated"]
        figures["undated"] = metrics["undated"]
    blocks.append(metrics_block("Documents", figures))
    rows = [
        [
            t["id"],
            ", ".join(t["words"]),
            round(t["share"], 3),
            "" if t.get("coherence") is None else round(t["coherence"], 3),
        ]
        for t in topics
    ]
    blocks.append(
        table_block(
            f"Topics ({k}): top words, share of the documents, coherence",
            ["topic", "top words", "share", "coherence"],
            rows[:MAX_ROWS],
        )
    )
    if (folder / "trends.png").is_file():
        blocks.append(
            image_block(
                f"Topic shares per {metrics['period']}",
                "trends.png",
                f"stacked topic shares per {metrics['period']}",
            )
        )
    else:
        blocks.append(text_block(f"Trends: {metrics['trends']}."))
    if (folder / "coherence.png").is_file():
        blocks.append(
            image_block(
                "Coherence by number of topics",
                "coherence.png",
                f"mean {coherence['measure']} coherence for each number of topics",
            )
        )
    docs = [
        [entry["topic"], d["id"], round(d["share"], 3), d["text"]]
        for entry in representative
        for d in entry["documents"]
    ]
    if docs:
        blocks.append(
            table_block(
                "Most representative documents per topic",
                ["topic", "document", "share", "text"],
                docs[:MAX_ROWS],
            )
        )
    for note in metrics["notes"]:
        blocks.append(text_block(f"Note: {note}."))
    write_section(folder, f"Topics ({label}, {k} topics)", blocks, order=10)


def _choice_sentence(label: str, metrics: Mapping[str, Any]) -> str:
    k = metrics["num_topics"]
    coherence = metrics["coherence"]
    tried = metrics["num_topics_tried"]
    measure = coherence["measure"]
    value = coherence["chosen"]
    shown = "not computed" if value is None else f"{value:.3f}"
    if len(tried) > 1:
        return (
            f"{label} with {k} topics, chosen among {', '.join(map(str, tried))} by the highest "
            f"mean {measure} coherence ({shown})."
        )
    if measure is None:
        return f"{label} with {k} topics (coherence not computed: coherence is null)."
    return f"{label} with {k} topics; mean {measure} coherence {shown}."
