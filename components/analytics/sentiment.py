"""The `vader` task: lexicon sentiment per document and sentence, aggregated for the report.

Scores come from the `vaderSentiment` package (Hutto & Gilbert 2014), on the raw text:
VADER reads case ("GREAT"), punctuation ("!!!") and emoticons, so no stage output is
used but the sentence and entity layers. The labels follow VADER's conventional
thresholds: compound >= `threshold` positive, <= -`threshold` negative, else neutral.

Aggregates (count, mean compound, share of each label) go per source, per period,
per topic (from a topics task fitted earlier in the run) and per named entity (the
sentences that mention it), into `aggregates.json`, two plots and the report section.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from pydantic import Field

from pipeline import report_sections as report
from pipeline.config import ConfigError
from pipeline.document import Document
from pipeline.registry import register

from ..ml.dates import Period, period_start, read_date
from .base import AnalyticsTask, JsonLines, staged_key, write_json

__all__ = ["LABELS", "VaderSentiment", "sentiment_label"]

LABELS = ("positive", "negative", "neutral")
NO_VALUE = "(none)"
TABLE_ROWS = 20


def sentiment_label(compound: float, threshold: float) -> str:
    """`positive` when `compound >= threshold`, `negative` when `<= -threshold`, else
    `neutral` (with `threshold=0` every score >= 0 is positive: a binary split)."""
    if compound >= threshold:
        return "positive"
    if compound <= -threshold:
        return "negative"
    return "neutral"


class _Tally:
    """Count, summed compound and label counts of one group of documents or sentences."""

    __slots__ = ("count", "total", "labels")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.labels: Counter[str] = Counter()

    def add(self, compound: float, label: str) -> None:
        self.count += 1
        self.total += compound
        self.labels[label] += 1

    def summary(self) -> dict[str, Any]:
        n = self.count or 1
        out: dict[str, Any] = {"count": self.count, "mean_compound": round(self.total / n, 4)}
        out.update({f"share_{label}": round(self.labels[label] / n, 4) for label in LABELS})
        return out


@register("task", "vader")
class VaderSentiment(AnalyticsTask):
    """VADER sentiment of each document and sentence, aggregated by source, period, topic, entity.

    - `threshold`: compound >= threshold is positive, <= -threshold negative, else neutral.
    - `document_score`: the per-document score. "text" (default): the package's compound
      of the whole text. "sentences": the mean of the sentence compounds (VADER sums the
      valence of a whole text, so a long article saturates towards -1 or +1; the mean
      keeps it comparable with a short one). Both are in each prediction.
    - `source_field`, `date_field`: `meta` keys; `period`: day | week | month.
    - `topics`: the name of a topics task listed earlier in `tasks:`; its
      `predictions.jsonl` gives each document's topic.
    - `top_entities`: how many of the most-mentioned entities (`ner` stage) to report,
      `entity_labels` which entity types count.
    """

    method = "vader"

    def __init__(
        self,
        *,
        threshold: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.05,
        document_score: Literal["text", "sentences"] = "text",
        source_field: str = "source",
        date_field: str = "published",
        period: Period = "week",
        topics: str | None = None,
        top_entities: Annotated[int, Field(ge=0)] = 20,
        entity_labels: list[str] = ["PERSON", "ORG", "GPE", "LOC", "NORP"],  # noqa: B006 - stored, never mutated
    ):
        self.threshold = threshold
        self.document_score = document_score
        self.source_field = source_field
        self.date_field = date_field
        self.period = period
        self.topics = topics
        self.top_entities = top_entities
        self.entity_labels = entity_labels

    # -- one document ----------------------------------------------------------------------

    def _analyzer(self) -> Any:
        """VADER's analyzer, built once per task (it reads its lexicon files)."""
        analyzer = getattr(self, "_vader", None)
        if analyzer is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            analyzer = self._vader = SentimentIntensityAnalyzer()
        return analyzer

    def predict_document(self, doc: Document) -> dict[str, Any]:
        """`{"id", "compound", "pos", "neg", "neu", "label", "text_compound", "sentence_mean",
        "sentences": [{"start", "end", "compound", "label"}]}`, or `{"id", "skipped"}` for a
        document with no text; `sentences` is empty when no sentence stage ran."""
        text = doc.text
        if not text.strip() or (doc.tokens is not None and len(doc.tokens) == 0):
            return {"id": doc.id, "skipped": "empty text"}
        score = self._analyzer().polarity_scores
        whole = score(text)
        sentences = []
        for span in doc.sentences or ():
            if text[span.start : span.end].strip():
                compound = score(text[span.start : span.end])["compound"]
                label = sentiment_label(compound, self.threshold)
                sentences.append(
                    {"start": span.start, "end": span.end, "compound": compound, "label": label}
                )
        mean = sum(s["compound"] for s in sentences) / len(sentences) if sentences else None
        compound = (
            mean if self.document_score == "sentences" and mean is not None else whole["compound"]
        )
        return {
            "id": doc.id,
            "compound": round(compound, 4),
            "pos": whole["pos"],
            "neg": whole["neg"],
            "neu": whole["neu"],
            "label": sentiment_label(compound, self.threshold),
            "text_compound": whole["compound"],
            "sentence_mean": None if mean is None else round(mean, 4),
            "sentences": sentences,
        }

    # -- the corpus --------------------------------------------------------------------------

    def _fit(self, corpus: Iterable[Document], staging: Path, run_dir: Path | None) -> None:
        where = staged_key(staging)
        topic_of = _read_topics(run_dir, self.topics, where) if self.topics else None
        overall, sentence_tally = _Tally(), _Tally()
        by_source: defaultdict[str, _Tally] = defaultdict(_Tally)
        by_period: defaultdict[str, _Tally] = defaultdict(_Tally)
        by_topic: defaultdict[str, _Tally] = defaultdict(_Tally)
        entities: dict[str, tuple[Counter[str], _Tally]] = {}  # name: (types, sentences)
        skipped: Counter[str] = Counter()
        undated = 0
        with JsonLines(staging / "predictions.jsonl") as out:
            for doc in corpus:
                row = self.predict_document(doc)
                out.write(row)
                if "skipped" in row:
                    skipped[row["skipped"]] += 1
                    continue
                compound, label = row["compound"], row["label"]
                overall.add(compound, label)
                for sentence in row["sentences"]:
                    sentence_tally.add(sentence["compound"], sentence["label"])
                by_source[_name(doc.meta.get(self.source_field))].add(compound, label)
                date = read_date(doc.meta.get(self.date_field))
                if date is None:
                    undated += 1
                else:
                    by_period[period_start(date, self.period)].add(compound, label)
                if topic_of is not None:
                    by_topic[_name(topic_of.get(doc.id))].add(compound, label)
                if doc.entities and self.top_entities:
                    self._add_entities(doc, row, entities)
        aggregates = {
            "document_score": self.document_score,
            "threshold": self.threshold,
            "overall": overall.summary(),
            "sentences": sentence_tally.summary(),
            "by_source": _summaries(by_source, key=lambda k: (-by_source[k].count, k)),
            "by_period": _summaries(by_period, key=str),
            "undated": undated,
            "by_topic": _summaries(by_topic, key=_topic_order) if topic_of is not None else None,
            "by_entity": _entity_rows(entities, self.top_entities) if entities else None,
        }
        self.aggregates_ = aggregates
        metrics = {
            "documents": overall.count + sum(skipped.values()),
            "scored": overall.count,
            "skipped": dict(skipped),
            "undated": undated,
            "document_score": self.document_score,
            "overall": aggregates["overall"],
            "sentences": aggregates["sentences"],
        }
        write_json(staging / "metrics.json", metrics)
        write_json(staging / "aggregates.json", aggregates)
        plots = []
        if by_period:
            plots.append(_plot_over_time(aggregates["by_period"], self, staging))
        if len(by_source) > 1:
            plots.append(_plot_by_source(aggregates["by_source"], staging))
        labels = _topic_labels(run_dir, self.topics) if self.topics else {}
        self._write_report(staging, metrics, aggregates, plots, labels)

    def _add_entities(
        self,
        doc: Document,
        row: Mapping[str, Any],
        entities: dict[str, tuple[Counter[str], _Tally]],
    ) -> None:
        """Count each wanted entity's mentions and the sentences (scores) that mention it."""
        sentences = row["sentences"] or [
            {"start": 0, "end": len(doc.text), "compound": row["compound"], "label": row["label"]}
        ]
        starts = [s["start"] for s in sentences]
        seen: set[tuple[str, int]] = set()
        for span in doc.entities or ():
            if span.label not in self.entity_labels:
                continue
            key = _entity_key(span.text)
            if not key:
                continue
            i = max(0, bisect_right(starts, span.start) - 1)
            types, tally = entities.setdefault(key, (Counter(), _Tally()))
            types[str(span.label)] += 1  # a mention
            if (key, i) not in seen:
                seen.add((key, i))
                tally.add(sentences[i]["compound"], sentences[i]["label"])

    def _write_report(
        self,
        folder: Path,
        metrics: Mapping[str, Any],
        aggregates: Mapping[str, Any],
        plots: list[tuple[str, str]],
        topic_labels: Mapping[str, str],
    ) -> None:
        overall = aggregates["overall"]
        how = (
            "the package's compound score of the whole text"
            if self.document_score == "text"
            else "the mean compound of its sentences"
        )
        blocks = [
            report.text_block(
                f"VADER (vaderSentiment) on the raw text. A document's score is {how}; "
                f"compound >= {self.threshold} is positive, <= -{self.threshold} negative, "
                "else neutral."
            ),
            report.metrics_block(
                "Overall",
                {
                    "documents scored": metrics["scored"],
                    "mean compound": overall["mean_compound"],
                    **{f"share {label}": overall[f"share_{label}"] for label in LABELS},
                    "sentences scored": metrics["sentences"]["count"],
                    "skipped": sum(metrics["skipped"].values()),
                    f"without a date ({self.date_field})": metrics["undated"],
                },
            ),
        ]
        blocks += [report.image_block(title, path) for title, path in plots]
        tables = [
            ("period", f"By {self.period}", aggregates["by_period"]),
            ("source", f"By source ({self.source_field})", aggregates["by_source"]),
            (
                "topic",
                f"By topic ({self.topics})",
                {topic_labels.get(k, k): v for k, v in (aggregates["by_topic"] or {}).items()},
            ),
        ]
        for column, title, groups in tables:
            if len(groups) > 1 or (groups and column == "topic"):  # one source says nothing
                names = list(groups)
                names = names[-TABLE_ROWS:] if column == "period" else names[:TABLE_ROWS]
                blocks.append(_group_table(title, column, {k: groups[k] for k in names}))
        if aggregates["by_entity"]:
            columns = ["entity", "type", "mentions", "sentences", "mean compound", *LABELS]
            rows = [
                [e["entity"], e["label"], e["mentions"], e["count"], e["mean_compound"]]
                + [e[f"share_{label}"] for label in LABELS]
                for e in aggregates["by_entity"]
            ]
            blocks.append(
                report.table_block("Most-mentioned entities (their sentences)", columns, rows)
            )
        report.write_section(folder, "Sentiment (VADER)", blocks, order=30)


def _entity_key(text: str) -> str:
    """One name per entity: spaces collapsed and a leading "the" dropped ("the Senate")."""
    words = text.split()
    if len(words) > 1 and words[0].lower() == "the":
        words = words[1:]
    return " ".join(words)


def _entity_rows(
    entities: Mapping[str, tuple[Counter[str], _Tally]], top: int
) -> list[dict[str, Any]]:
    """The `top` most-mentioned entities: type, mentions and their sentences' sentiment."""
    mentions = {key: sum(types.values()) for key, (types, _) in entities.items()}
    ranked = sorted(entities, key=lambda k: (-mentions[k], k))[:top]
    return [
        {
            "entity": key,
            "label": entities[key][0].most_common(1)[0][0],
            "mentions": mentions[key],
            **entities[key][1].summary(),
        }
        for key in ranked
    ]


def _name(value: Any) -> str:
    return NO_VALUE if value is None or value == "" else str(value)


def _topic_order(key: str) -> tuple[int, float, str]:
    try:
        return (0, float(key), key)
    except ValueError:
        return (1, math.inf, key)


def _summaries(groups: Mapping[str, _Tally], *, key: Any) -> dict[str, dict[str, Any]]:
    return {name: groups[name].summary() for name in sorted(groups, key=key)}


def _topic_labels(run_dir: Path | None, topics: str) -> dict[str, str]:
    """Topic id -> "id: its top 3 words", from the topics task's `topics.json` (when there)."""
    path = None if run_dir is None else run_dir / "tasks" / topics / "topics.json"
    if path is None or not path.is_file():
        return {}
    try:
        entries = orjson.loads(path.read_bytes())
        return {str(t["id"]): f"{t['id']}: {', '.join(t['words'][:3])}" for t in entries}
    except (ValueError, KeyError, TypeError):
        return {}


def _read_topics(run_dir: Path | None, topics: str | None, where: str) -> dict[str, Any]:
    """Each document's topic from the topics task `topics` fitted earlier in this run."""
    path = None if run_dir is None else run_dir / "tasks" / str(topics) / "predictions.jsonl"
    if path is None or not path.is_file():
        raise ConfigError(
            f"{where}.topics: no predictions of a topics task named {topics!r} "
            f"({path or 'this task runs outside a run folder'}): list that topics task under "
            "`tasks:` before this one (tasks are fitted in the order listed), or drop `topics`"
        )
    topic_of = {}
    with path.open("rb") as fh:
        for line in fh:
            record = orjson.loads(line)
            if record.get("topic") is not None:
                topic_of[str(record["id"])] = record["topic"]
    return topic_of


def _group_table(
    title: str, column: str, groups: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    columns = [column, "documents", "mean compound", *LABELS]
    rows = [
        [name, g["count"], g["mean_compound"], *(g[f"share_{label}"] for label in LABELS)]
        for name, g in groups.items()
    ]
    return report.table_block(title, columns, rows)


@contextmanager
def _figure(path: Path, size: tuple[float, float]) -> Iterator[Any]:
    """A matplotlib axes (Agg backend) whose figure is saved as a PNG at `path` on exit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=size)
    try:
        yield ax
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


def _plot_over_time(
    by_period: Mapping[str, Mapping[str, Any]], task: VaderSentiment, folder: Path
) -> tuple[str, str]:
    """Mean compound per period (line) over the number of documents (bars)."""
    periods = list(by_period)
    x = list(range(len(periods)))
    with _figure(
        folder / "sentiment_over_time.png", (min(12.0, max(6.0, 0.45 * len(x) + 3)), 4.2)
    ) as ax:
        bars = ax.twinx()
        bars.bar(x, [by_period[p]["count"] for p in periods], color="#d9d9d9", width=0.7)
        bars.set_ylabel("documents")
        ax.set_zorder(bars.get_zorder() + 1)  # the line in front of the bars
        ax.patch.set_visible(False)
        ax.plot(x, [by_period[p]["mean_compound"] for p in periods], marker="o", color="#1f77b4")
        ax.axhline(0.0, color="black", linewidth=0.8)
        for edge in (task.threshold, -task.threshold):
            ax.axhline(edge, color="grey", linewidth=0.8, linestyle="--")
        ax.set_ylim(-1.05, 1.05)
        ax.set_ylabel("mean compound (VADER)")
        step = max(1, -(-len(x) // 16))  # at most 16 labels
        ax.set_xticks(x[::step], labels=periods[::step], rotation=45, ha="right")
        ax.set_xlabel(f"{task.period} ({task.date_field})")
        ax.set_title("Sentiment over time (line) and documents per period (bars)")
    return "Sentiment over time", "sentiment_over_time.png"


def _plot_by_source(by_source: Mapping[str, Mapping[str, Any]], folder: Path) -> tuple[str, str]:
    """Mean compound of the most frequent sources, as horizontal bars labelled with counts."""
    names = list(by_source)[:TABLE_ROWS][::-1]
    means = [by_source[n]["mean_compound"] for n in names]
    with _figure(folder / "sentiment_by_source.png", (8.0, 0.35 * len(names) + 1.6)) as ax:
        ax.barh(range(len(names)), means, color=["#2ca02c" if m >= 0 else "#d62728" for m in means])
        labels = [f"{_short(n)} ({by_source[n]['count']})" for n in names]
        ax.set_yticks(range(len(names)), labels=labels)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_xlim(-1.0, 1.0)
        ax.set_xlabel("mean compound (VADER)")
        ax.set_title("Sentiment by source (documents in brackets)")
    return "Sentiment by source", "sentiment_by_source.png"


def _short(name: str, width: int = 40) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1) :]
