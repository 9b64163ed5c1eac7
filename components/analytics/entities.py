"""The `entities` task: the most-mentioned people, organisations and places, and their counts over time.

Mentions come from the `ner` stage (`doc.entities`). Within a document a shorter PERSON
name that is the last word(s) of exactly one longer one ("Smith", "Ms Smith") counts for
the longer ("Jane Smith"); when the `coref` stage ran, every mention of a chain that holds
a named entity counts for that entity ("she" counts for Jane Smith). Across documents,
entities are merged by their normalized canonical text and label.
"""

from __future__ import annotations

import csv
import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field as Range

from pipeline.config import ConfigError
from pipeline.document import Document, Span
from pipeline.registry import register
from pipeline.report_sections import (
    image_block,
    metrics_block,
    table_block,
    text_block,
    write_section,
)

from ..ml.dates import Period, period_start, read_date
from .base import AnalyticsTask, JsonLines, write_json

__all__ = ["Entities", "EntityCount", "document_entities"]

logger = logging.getLogger(__name__)

# Words that may precede a name without being part of it ("Ms Smith", "President Obama").
TITLES = frozenset(
    "mr mrs ms miss mx dr prof professor sir dame lord lady madam mister president "
    "senator sen rep gov governor general gen captain capt judge justice chancellor "
    "minister premier king queen prince princess pope rev reverend father sister "
    "brother saint st sgt sergeant lt lieutenant col colonel commander coach spokesman "
    "spokeswoman spokesperson chairman chairwoman".split()
)
_POSSESSIVE = ("'s", "\u2019s", "'", "\u2019")
_TRIM = " \t\n\"'\u2018\u2019\u201c\u201d.,;:()[]"
# How the report names the tables of the usual labels.
_TABLES = {"PERSON": "People", "ORG": "Organisations", "GPE": "Places", "LOC": "Places"}


@dataclass(frozen=True, slots=True)
class EntityCount:
    """One entity of one document: its canonical `text`, `label`, and `mentions`
    (its own mentions, the shorter names merged into it and, with coreference, its chains')."""

    text: str
    label: str
    mentions: int


@dataclass(slots=True)
class _Tally:
    """One entity across the corpus (keyed by label and normalized text)."""

    forms: Counter[str] = field(default_factory=Counter)
    mentions: int = 0
    documents: int = 0
    periods: Counter[str] = field(default_factory=Counter)


def _name_words(text: str, label: str) -> tuple[str, ...]:
    """The words of an entity mention without a possessive ending, without a leading
    "the" (all labels) and without leading titles (PERSON)."""
    text = text.strip(_TRIM)
    for ending in _POSSESSIVE:
        if text.endswith(ending) and len(text) > len(ending):
            text = text[: -len(ending)]
            break
    words = [w for w in text.strip(_TRIM).split() if w.strip(_TRIM)]
    if words and words[0].lower() == "the" and len(words) > 1:
        words = words[1:]
    if label == "PERSON":
        while len(words) > 1 and words[0].lower().rstrip(".") in TITLES:
            words = words[1:]
    return tuple(words)


def _folded(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(w.casefold() for w in words)


def _is_suffix(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    return len(short) < len(long) and _folded(long[-len(short) :]) == _folded(short)


def _trimmed_end(span: Span) -> int:
    """The span's end before a possessive ending or closing punctuation."""
    text = span.text.rstrip(_TRIM)
    for ending in _POSSESSIVE:
        if text.endswith(ending) and len(text) > len(ending):
            text = text[: -len(ending)]
            break
    return span.start + len(text.rstrip(_TRIM))


def document_entities(
    doc: Document, *, labels: Sequence[str], use_coref: bool = True
) -> tuple[list[EntityCount], Counter[str]]:
    """The entities of one processed document with their mention counts (most mentioned
    first), and what the merges did (`surname`, `coref_entity`, `coref_mentions` counts).
    `doc.entities` must be set (the `ner` stage)."""
    wanted = set(labels)
    ents = [e for e in doc.entities or () if e.label in wanted and _name_words(e.text, e.label)]
    words = [_name_words(e.text, e.label or "") for e in ents]
    # canonical (label, words) of each mention: a PERSON surname maps to its one longer name
    canonical: list[tuple[str, tuple[str, ...]]] = [
        (e.label or "", w) for e, w in zip(ents, words, strict=True)
    ]
    stats: Counter[str] = Counter()
    people = {_folded(w): w for e, w in zip(ents, words, strict=True) if e.label == "PERSON"}
    full_name = {}  # each distinct PERSON name -> the one longer name it ends, if exactly one
    for folded, name in people.items():
        longer = [w for w in people.values() if _is_suffix(name, w)]
        longest = [w for w in longer if not any(_is_suffix(w, other) for other in longer)]
        if len(longest) == 1:
            full_name[folded] = longest[0]
    for i, (label, name) in enumerate(canonical):
        if label == "PERSON" and _folded(name) in full_name:
            canonical[i] = ("PERSON", full_name[_folded(name)])
            stats["surname"] += 1
    extra: Counter[tuple[str, tuple[str, ...]]] = Counter()
    if use_coref and doc.coref:
        by_end: dict[int, list[int]] = {}  # entity mentions by where their name ends
        for i, e in enumerate(ents):
            by_end.setdefault(_trimmed_end(e), []).append(i)
        for chain in doc.coref:
            _count_chain(chain, ents, by_end, canonical, extra, stats)
    counts: Counter[tuple[str, tuple[str, ...]]] = Counter(canonical)
    counts.update(extra)
    merged: dict[tuple[str, tuple[str, ...]], int] = {}
    shown: dict[tuple[str, tuple[str, ...]], tuple[str, str]] = {}
    for (label, name), n in counts.items():
        key = (label, _folded(name))
        merged[key] = merged.get(key, 0) + n
        shown.setdefault(key, (" ".join(name), label))
    result = [EntityCount(*shown[key], n) for key, n in merged.items()]
    result.sort(key=lambda e: (-e.mentions, e.label, e.text))
    return result, stats


def _count_chain(
    chain: Sequence[Span],
    ents: Sequence[Span],
    by_end: dict[int, list[int]],
    canonical: list[tuple[str, tuple[str, ...]]],
    extra: Counter[tuple[str, tuple[str, ...]]],
    stats: Counter[str],
) -> None:
    """Give a coreference chain's mentions to the named entity the chain holds most often
    (ties: the longer name); when that is a person, the chain's names that are the last
    words of the person's name ("Adams" for "John Adams", whatever its label) join it. A
    mention is an entity's when they overlap and their names end at the same character
    ("Ms Smith" and the entity "Smith", "Smith's" and "Smith")."""
    matched: list[int | None] = []
    for mention in chain:
        candidates = by_end.get(_trimmed_end(mention), ())
        overlapping = (
            i for i in candidates if ents[i].start < mention.end and mention.start < ents[i].end
        )
        matched.append(next(overlapping, None))
    named = Counter(canonical[i] for i in matched if i is not None)
    if not named:
        return
    winner = max(named, key=lambda c: (named[c], len(c[1]), " ".join(c[1])))
    for i in matched:
        if i is None:
            extra[winner] += 1
            stats["coref_mentions"] += 1
        elif winner[0] == "PERSON" and _is_suffix(canonical[i][1], winner[1]):
            canonical[i] = winner
            stats["coref_entity"] += 1


@register("task", "entities")
class Entities(AnalyticsTask):
    """The most-mentioned people, organisations and places, and their mentions over time.

    - `labels`: the `ner` labels counted (spaCy's: PERSON, ORG, GPE, LOC, NORP, FAC, ...).
    - `use_coref`: count every mention of a coreference chain (the `coref` stage's) for
      the named entity it holds, so "she" counts for Jane Smith.
    - `date_field`, `period`: the `meta` key holding each document's date and the period
      the trends are counted by (day, week or month); undated documents are counted apart.
    - `top`: entities per label in `entities.json` and the report; `plot`: entities drawn.

    Needs the `ner` stage. Writes `entities.json`, `entity_trends.csv`/`.png` (when
    documents have dates), `predictions.jsonl`, `metrics.json` and its report section.
    """

    method = "entities"
    version = "1"

    def __init__(
        self,
        *,
        labels: list[str] = ["PERSON", "ORG", "GPE", "LOC"],  # noqa: B006 - stored, never mutated
        use_coref: bool = True,
        date_field: str = "published",
        period: Period = "week",
        top: Annotated[int, Range(ge=1)] = 20,
        plot: Annotated[int, Range(ge=1, le=12)] = 8,
    ):
        self.labels = labels
        self.use_coref = use_coref
        self.date_field = date_field
        self.period = period
        self.top = top
        self.plot = plot

    def predict_document(self, doc: Document) -> dict[str, Any]:
        """`{"id", "entities": [{"text", "label", "mentions"}, ...]}`, most mentioned first
        (empty, with `skipped`, for a document the `ner` stage passed over)."""
        if doc.entities is None:
            reason = _not_annotated(doc, "the task")
            return {"id": doc.id, "entities": [], "skipped": reason}
        found, _ = document_entities(doc, labels=self.labels, use_coref=self.use_coref)
        return {"id": doc.id, "entities": [_entity_record(e) for e in found]}

    def _fit(self, corpus: Iterable[Document], staging: Path, run_dir: Path | None) -> None:
        where = _task_where(staging)
        t0 = time.perf_counter()
        tallies: dict[tuple[str, str], _Tally] = {}
        totals: Counter[str] = Counter()
        skipped: Counter[str] = Counter()
        with JsonLines(staging / "predictions.jsonl") as out:
            for doc in corpus:
                totals["documents"] += 1
                if doc.entities is None:
                    skipped[_not_annotated(doc, where)] += 1
                    out.write({"id": doc.id, "entities": []})
                    continue
                found, stats = document_entities(doc, labels=self.labels, use_coref=self.use_coref)
                totals.update(stats)
                date = read_date(doc.meta.get(self.date_field))
                label_of_period = None if date is None else period_start(date, self.period)
                totals["dated" if date is not None else "undated"] += 1
                totals["with_entities"] += bool(found)
                for entity in found:
                    tally = tallies.setdefault(_entity_key(entity), _Tally())
                    tally.forms[entity.text] += entity.mentions
                    tally.mentions += entity.mentions
                    tally.documents += 1
                    if label_of_period is not None:
                        tally.periods[label_of_period] += entity.mentions
                totals["mentions"] += sum(e.mentions for e in found)
                out.write({"id": doc.id, "entities": [_entity_record(e) for e in found]})
        ranked = sorted(tallies.items(), key=lambda kv: (-kv[1].mentions, kv[0]))
        top = self._top_by_label(ranked)
        write_json(staging / "entities.json", {"labels": top, "period": self.period})
        plotted = self._write_trends(staging, top, ranked)
        metrics = {
            "documents": totals["documents"],
            "documents_with_entities": totals["with_entities"],
            "entities": len(tallies),
            "mentions": totals["mentions"],
            "merged_surnames": totals["surname"],
            "coref_mentions": totals["coref_mentions"],
            "coref_merged_names": totals["coref_entity"],
            "dated_documents": totals["dated"],
            "undated_documents": totals["undated"],
            "skipped": dict(skipped),
            "seconds": round(time.perf_counter() - t0, 3),
        }
        write_json(staging / "metrics.json", metrics)
        self._write_report(staging, top, metrics, plotted)

    def _top_by_label(
        self, ranked: Sequence[tuple[tuple[str, str], _Tally]]
    ) -> dict[str, list[dict[str, Any]]]:
        top: dict[str, list[dict[str, Any]]] = {label: [] for label in self.labels}
        for (label, _), tally in ranked:
            rows = top.setdefault(label, [])
            if len(rows) < self.top:
                rows.append(_tally_record(label, tally))
        return top

    def _write_trends(
        self,
        staging: Path,
        top: dict[str, list[dict[str, Any]]],
        ranked: Sequence[tuple[tuple[str, str], _Tally]],
    ) -> bool:
        """`entity_trends.csv` for the top entities of each label and the plot of the most
        mentioned; nothing when no document has a date. Returns whether a plot was drawn."""
        shown = {(row["label"], row["entity"]) for rows in top.values() for row in rows}
        dated = [(k, t) for k, t in ranked if t.periods]
        if not dated:
            return False
        with (staging / "entity_trends.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["period", "entity", "label", "mentions"])
            for (label, _), tally in dated:
                name = _display(tally)
                if (label, name) in shown:
                    for period in sorted(tally.periods):
                        writer.writerow([period, name, label, tally.periods[period]])
        lines = sorted(dated, key=lambda kv: (-sum(kv[1].periods.values()), kv[0]))[: self.plot]
        periods = sorted({p for _, t in dated for p in t.periods})
        series = {
            f"{_display(t)} ({label})": [t.periods[p] for p in periods] for (label, _), t in lines
        }
        trend_png(series, periods, staging / "entity_trends.png", period=self.period)
        return True

    def _write_report(
        self,
        staging: Path,
        top: dict[str, list[dict[str, Any]]],
        metrics: dict[str, Any],
        plotted: bool,
    ) -> None:
        blocks: list[dict[str, Any]] = [
            metrics_block(
                "Corpus",
                {k: v for k, v in metrics.items() if k not in ("skipped", "seconds")},
            )
        ]
        tables: dict[str, list[list[Any]]] = {}
        for label, rows in top.items():
            title = _TABLES.get(label, f"Other entities ({label})")
            for row in rows[:15]:
                tables.setdefault(title, []).append(
                    [row["entity"], row["label"], row["mentions"], row["documents"]]
                )
        for title, rows in tables.items():
            rows.sort(key=lambda r: (-r[2], r[0]))
            blocks.append(
                table_block(title, ["entity", "label", "mentions", "documents"], rows[:15])
            )
        if plotted:
            blocks.append(
                image_block(
                    f"Most mentioned entities by {self.period}",
                    "entity_trends.png",
                    f"Mentions per {self.period} of the {self.plot} most mentioned entities",
                )
            )
        else:
            blocks.append(
                text_block(
                    f"No document has a date in meta[{self.date_field!r}]: no counts over time."
                )
            )
        if metrics["skipped"]:
            reasons = ", ".join(f"{r}: {n}" for r, n in metrics["skipped"].items())
            blocks.append(text_block(f"Documents without entities from the ner stage: {reasons}."))
        write_section(staging, "Entities", blocks, order=25)


def trend_png(
    series: dict[str, list[int]], periods: Sequence[str], path: Path, *, period: str
) -> Path:
    """Draw one line of mentions per entity over `periods` and save it as a PNG at `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9.0, 4.8))
    try:
        x = range(len(periods))
        for name, values in series.items():
            ax.plot(x, values, marker="o", linewidth=1.6, markersize=4, label=name)
        step = max(1, len(periods) // 12)
        ax.set_xticks(list(x)[::step], labels=list(periods)[::step], rotation=30, ha="right")
        ax.set_xlabel(period)
        ax.set_ylabel("mentions")
        ax.set_title(f"Mentions per {period} of the most mentioned entities")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
        fig.tight_layout()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return Path(path)


def _entity_key(entity: EntityCount) -> tuple[str, str]:
    return entity.label, " ".join(entity.text.casefold().split())


def _entity_record(entity: EntityCount) -> dict[str, Any]:
    return {"text": entity.text, "label": entity.label, "mentions": entity.mentions}


def _display(tally: _Tally) -> str:
    """The entity's most frequent written form (ties: alphabetical)."""
    return min(tally.forms.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def _tally_record(label: str, tally: _Tally) -> dict[str, Any]:
    return {
        "entity": _display(tally),
        "label": label,
        "mentions": tally.mentions,
        "documents": tally.documents,
    }


def _not_annotated(doc: Document, where: str) -> str:
    """The skip reason of a document the `ner` stage passed over for its language; any
    other document without an entity layer is a `ConfigError` at `where`."""
    if "ner" in (doc.meta.get("skipped_stages") or ()):
        return f"ner skipped ({doc.meta.get('language') or 'language'})"
    raise ConfigError(
        f"{where}: document {doc.id!r} has no named entities: add a `ner` stage to "
        "`stages:` (and `coref` after it to count pronouns for their entity)"
    )


def _task_where(staging: Path) -> str:
    """`tasks.NAME` for the staging folder `.NAME.staging` that `fit` made."""
    name = staging.name
    if name.startswith(".") and name.endswith(".staging"):
        name = name[1 : -len(".staging")]
    return f"tasks.{name}"
