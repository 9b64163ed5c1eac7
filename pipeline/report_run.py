"""The report's run-wide sections (`pipeline.report`): corpus statistics, stage timings, quarantine.

They are built from `manifest.json`, `config.yaml`, `quarantine.jsonl` and the document
files (for the documents' languages), read through `RunFiles`; a missing or malformed
one gives a note in the section.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from . import report_html as h

__all__ = [
    "RunFiles",
    "corpus_section",
    "language_counts",
    "quarantine_section",
    "reason_group",
    "timings_section",
    "token_count",
]

COUNT_NAMES = {"skipped_seen": "skipped as seen"}
EXAMPLES_SHOWN = 8  # quarantined documents shown as examples
REASONS_SHOWN = 15


@dataclass
class RunFiles:
    """What the report reads from a run folder, and the notes about what it could not read."""

    run_dir: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, run_dir: Path) -> RunFiles:
        """Read `manifest.json` and `config.yaml`, noting a missing or broken one."""
        files = cls(run_dir)
        files.manifest = _read_mapping(run_dir / "manifest.json", orjson.loads, files.notes)
        files.config = _read_mapping(run_dir / "config.yaml", _yaml_loads, files.notes)
        return files

    @property
    def documents(self) -> dict[str, Any]:
        """The manifest's document counts (empty when unknown)."""
        counts = self.manifest.get("documents")
        return counts if isinstance(counts, dict) else {}

    @property
    def name(self) -> str:
        """The run's name: the manifest's, the config's, else the folder's."""
        return str(self.manifest.get("name") or self.config.get("name") or self.run_dir.name)


def _yaml_loads(data: bytes) -> Any:
    import yaml

    try:
        return yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from None


def _read_mapping(path: Path, parse: Callable[[bytes], Any], notes: list[str]) -> dict[str, Any]:
    try:
        value = parse(path.read_bytes())
    except FileNotFoundError:
        notes.append(f"{path.name} is missing: what it records is not shown.")
        return {}
    except OSError as exc:
        notes.append(f"{path.name} could not be read ({exc.strerror or exc}); it is left out.")
        return {}
    except ValueError:  # orjson.JSONDecodeError, or a YAML error (see _yaml_loads)
        notes.append(f"{path.name} is not valid {path.suffix[1:].upper()}; it is left out.")
        return {}
    if not isinstance(value, dict):
        notes.append(f"{path.name} does not hold a mapping; it is left out.")
        return {}
    return value


def token_count(run: RunFiles) -> int | None:
    """Tokens the run kept (the shards' `words`), or None when the manifest has none."""
    shards = run.manifest.get("shards")
    if not isinstance(shards, list) or not shards:
        return None
    words = [s.get("words") for s in shards if isinstance(s, dict)]
    return (
        sum(w for w in words if isinstance(w, int))
        if any(isinstance(w, int) for w in words)
        else None
    )


# -- corpus --------------------------------------------------------------------------------------


def corpus_section(run: RunFiles) -> h.Section:
    """Document counts with the `in = out + quarantined (+ ...)` check, tokens, shards, and
    the languages of the documents in the folder."""
    counts = run.documents
    body = ""
    if counts:
        body += _count_check(counts)
        tokens = token_count(run)
        values: dict[str, Any] = {
            "documents read": counts.get("in"),
            "documents kept": counts.get("out"),
            "documents quarantined": counts.get("quarantined"),
        }
        if "updated" in counts:
            values["documents updated (seen before, changed)"] = counts["updated"]
        if "skipped_seen" in counts:
            values["documents seen by an earlier run (skipped)"] = counts["skipped_seen"]
        if tokens is not None:
            values["tokens"] = tokens
            if counts.get("out"):
                values["tokens per kept document"] = round(tokens / counts["out"], 1)
        shards = run.manifest.get("shards")
        if isinstance(shards, list):
            values["shards"] = len(shards)
        body += h.metrics_table(values, title="Documents")
    else:
        body += h.note("No document counts: the manifest is missing or records none.", "warn")
    body += _languages_html(run.run_dir)
    return h.Section("corpus", "Corpus", body)


def _count_check(counts: Mapping[str, Any]) -> str:
    # every count but `in` is a way out (incremental runs add updated and skipped_seen)
    parts = [(COUNT_NAMES.get(k, k), v) for k, v in counts.items() if k != "in"]
    numbers = [v for _, v in parts if isinstance(v, int)]
    complete = {"out", "quarantined"} <= set(counts) and len(numbers) == len(parts)
    if not complete or not isinstance(counts.get("in"), int):
        return h.note("The manifest's document counts are incomplete.", "warn")
    total = sum(numbers)
    formula = f"in {counts['in']:,} = " + " + ".join(f"{k} {v:,}" for k, v in parts)
    if total == counts["in"]:
        verdict = "<span class=check-ok>✓ every input document is accounted for</span>"
        return f'<p class="note note-ok">{h.esc(formula)} {verdict}</p>'
    verdict = f"✗ the counts do not add up ({total:,} ≠ {counts['in']:,})"
    return f'<p class="note note-warn">{h.esc(formula)} <span class=check-bad>{verdict}</span></p>'


def _languages_html(run_dir: Path) -> str:
    try:
        counts = language_counts(run_dir)
    except (OSError, ValueError, sqlite3.Error) as exc:
        return h.note(f"The documents' languages could not be read ({type(exc).__name__}).", "warn")
    if not counts:
        return h.note("No document files with languages were found.")
    total = sum(counts.values())
    rows = [[code, n, f"{100 * n / total:.1f}%"] for code, n in counts.most_common()]
    title = "Languages (documents in the run folder)"
    return h.table(["language", "documents", "share"], rows, title=title, max_rows=20)


def language_counts(run_dir: Path) -> Counter[str]:
    """Documents per `meta["language"]` ("unknown" when none) over the run's document files."""
    from .paths import inside
    from .shard_files import document_files

    counts: Counter[str] = Counter()
    for rel in document_files(run_dir):
        path = inside(run_dir, rel)
        if path is None:
            continue
        for meta in _metas(path):
            language = meta.get("language") if isinstance(meta, dict) else None
            counts[str(language) if language else "unknown"] += 1
    return counts


def _metas(path: Path) -> list[Any]:
    if path.suffix == ".jsonl":
        with path.open("rb") as fh:
            records = [orjson.loads(line) for line in fh if line.strip()]
        return [r.get("meta") if isinstance(r, dict) else None for r in records]
    import pyarrow.parquet as pq

    column = pq.read_table(path, columns=["meta"]).column("meta").to_pylist()
    return [orjson.loads(value) if value else None for value in column]


# -- timings -------------------------------------------------------------------------------------


def timings_section(run: RunFiles) -> h.Section:
    """Run totals and throughput, a row per stage and per task, and a bar chart of their
    seconds."""
    timings = run.manifest.get("timings") or {}
    stages = [s for s in run.manifest.get("stages") or [] if isinstance(s, dict)]
    if not timings and not stages:
        return h.Section(
            "timings", "Stage timings", h.note("No timings: the manifest records none.")
        )
    values = {
        "total": _seconds(timings.get("total_seconds")),
        "reading the corpus": _seconds(timings.get("read_seconds")),
        "documents per second": timings.get("documents_per_second"),
        "tokens per second": timings.get("words_per_second"),
        "shards computed / reused": (
            f"{timings.get('shards_computed', '–')} / {timings.get('shards_reused', '–')}"
        ),
    }
    body = h.metrics_table({k: v for k, v in values.items() if v is not None})
    stage_time = sum(
        s.get("seconds") or 0 for s in stages if isinstance(s.get("seconds"), int | float)
    )
    columns = ["stage", "in", "out", "quarantined", "seconds", "share"]
    rows = []
    for stage in stages:
        seconds = stage.get("seconds")
        share = ""
        if isinstance(seconds, int | float) and stage_time:
            share = f"{100 * seconds / stage_time:.1f}%"
        counts = [stage.get(key) for key in ("in", "out", "quarantined")]
        rows.append([stage.get("name"), *counts, seconds, share, _stage_remark(stage)])
    if any(row[-1] for row in rows):
        columns.append("notes")
    else:
        rows = [row[:-1] for row in rows]
    if rows:
        body += h.table(columns, rows, title="Per stage")
    tasks = run.manifest.get("tasks")
    task_rows = [
        [
            name,
            row.get("component"),
            row.get("seconds"),
            "reused" if row.get("reused") else "fitted",
        ]
        for name, row in (tasks.items() if isinstance(tasks, dict) else [])
        if isinstance(row, dict)
    ]
    if task_rows:
        body += h.table(["task", "component", "seconds", "status"], task_rows, title="Tasks")
    chart = [
        (str(s.get("name")), float(s["seconds"]))
        for s in stages
        if isinstance(s.get("seconds"), int | float)
    ]
    if isinstance(timings.get("read_seconds"), int | float):
        chart.insert(0, ("read", float(timings["read_seconds"])))
    chart += [(f"task {r[0]}", float(r[2])) for r in task_rows if isinstance(r[2], int | float)]
    if chart and any(v > 0 for _, v in chart):
        png = h.bar_chart_png([c[0] for c in chart], [c[1] for c in chart], xlabel="seconds")
        body += h.figure(
            png, title="Seconds per stage and task", alt="bar chart of seconds per stage and task"
        )
    return h.Section("timings", "Stage timings", body)


def _seconds(value: Any) -> str | None:
    return f"{value:.2f} s" if isinstance(value, int | float) else None


def _stage_remark(stage: Mapping[str, Any]) -> str:
    remarks = []
    if stage.get("fused"):
        remarks.append("one spaCy pass: " + ", ".join(str(f) for f in stage["fused"]))
    skipped = stage.get("skipped_languages")
    if isinstance(skipped, dict) and skipped:
        remarks.append("skipped for language: " + ", ".join(f"{k} {v}" for k, v in skipped.items()))
    return "; ".join(remarks)


# -- quarantine ----------------------------------------------------------------------------------


def reason_group(reason: str) -> str:
    """The kind of a quarantine reason, without its particulars (quoted values, numbers,
    the text after the first colon): `stage 'tokenize' failed: ValueError: ...` keeps the
    stage and the error type."""
    stage = re.match(r"(stage '[^']*' failed: \w+)", reason)
    if stage:
        return stage.group(1)
    head = reason.split(": ", 1)[0]
    head = re.sub(r"'[^']*'|\"[^\"]*\"", "…", head)
    return re.sub(r"\d[\d,.]*", "N", head).strip() or "no reason given"


def quarantine_section(run: RunFiles) -> h.Section:
    """Quarantined documents by stage and by kind of reason, with the first few examples;
    a manifest count that `quarantine.jsonl` does not match is a note."""
    path = run.run_dir / "quarantine.jsonl"
    groups: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    unreadable = 0
    if path.is_file():
        with path.open("rb") as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError:
                    unreadable += 1
                    continue
                if not isinstance(record, dict):
                    unreadable += 1
                    continue
                groups[reason_group(str(record.get("reason", "")))] += 1
                if len(examples) < EXAMPLES_SHOWN:
                    examples.append(record)
    counted = run.documents.get("quarantined")
    total = sum(groups.values())
    body = ""
    if not total and not counted:
        note = (
            "No document was quarantined."
            if path.is_file() or counted == 0
            else "quarantine.jsonl is missing."
        )
        body += h.note(note, "ok" if "No document" in note else "info")
    stages = [
        s for s in run.manifest.get("stages") or [] if isinstance(s, dict) and s.get("quarantined")
    ]
    if stages:
        rows = [[s.get("name"), s.get("quarantined"), s.get("in")] for s in stages]
        body += h.table(["stage", "quarantined", "documents in"], rows, title="By stage")
    if groups:
        rows = [[reason, n, f"{100 * n / total:.1f}%"] for reason, n in groups.most_common()]
        body += h.table(
            ["reason", "documents", "share"], rows, title="By reason", max_rows=REASONS_SHOWN
        )
        rows = [
            [_where(r), r.get("id"), r.get("reason"), str(r.get("excerpt") or "")[:120]]
            for r in examples
        ]
        body += h.table(
            ["source", "id", "reason", "excerpt"], rows, title=f"First {len(rows)} examples"
        )
    if isinstance(counted, int) and path.is_file() and counted != total + unreadable:
        mismatch = f"The manifest counts {counted:,} quarantined documents; "
        body += h.note(mismatch + f"quarantine.jsonl lists {total:,}.", "warn")
    if unreadable:
        body += h.note(f"{unreadable:,} lines of quarantine.jsonl could not be read.", "warn")
    return h.Section("quarantine", "Quarantine", body)


def _where(record: Mapping[str, Any]) -> str:
    source = str(record.get("source") or "")
    name = source.rstrip("/").rsplit("/", 1)[-1] or source
    position = record.get("position")
    return f"{name}:{position}" if position is not None else name
