"""What a hyperparameter search leaves behind: `trials.csv`, and its outcome in the tuned
task's `metrics.json` and report section."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from pipeline.files import atomic_write
from pipeline.report_sections import (
    REPORT_FILE,
    image_block,
    metrics_block,
    table_block,
    text_block,
    write_section,
)

from .search_space import decode_values

__all__ = ["best_blocks", "record_search", "write_trials_csv"]

BEST_ROWS = 10  # trials shown in the report's table


def write_trials_csv(
    path: Path, trials: Sequence[Any], space: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """One row per optuna trial (number, each parameter as written in the config, mean
    and std of the score, seconds, state: complete | failed | interrupted, the earlier
    trial whose score a repeat of its values reused, error), written
    to `path` as CSV; returns the rows (numbers and values unformatted)."""
    rows = []
    for trial in trials:
        interrupted = trial.user_attrs.get("interrupted")
        state = "interrupted" if interrupted else _state(trial.state.name)
        rows.append(
            {
                "number": trial.number,
                **decode_values(space, trial.params),
                "mean": trial.value if state == "complete" else None,
                "std": trial.user_attrs.get("std") if state == "complete" else None,
                "seconds": trial.user_attrs.get("seconds"),
                "state": state,
                "repeat_of": trial.user_attrs.get("repeat_of"),
                "error": trial.user_attrs.get("error") or "",
            }
        )
    columns = ["number", *space, "mean", "std", "seconds", "state", "repeat_of", "error"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    atomic_write(path, buffer.getvalue().encode("utf-8"))
    return rows


def best_blocks(search: Any, folder: Path) -> list[dict[str, Any]]:
    """The report blocks of a finished search (`OptunaSearch` after `search`): what was
    searched and found, the best values, the best trials, and the plot."""
    summary = search.summary()
    complete = [t for t in search.trials_ if t.state.name == "COMPLETE"]
    reverse = search.direction == "maximize"
    ranked = sorted(complete, key=lambda t: t.value, reverse=reverse)[:BEST_ROWS]
    space = search.space or {}
    folds = summary["trial_cv_folds"]
    cv = (
        f"; each trial scored by {folds}-fold cross-validation (the task has no cv: of its own)"
        if folds
        else ""
    )
    repeats = summary["repeats"]
    again = f", {repeats} of them values already tried (score reused)" if repeats else ""
    std = f" ± {search.best_std_:.4f}" if search.best_std_ is not None else ""
    text = (
        f"Tuned by a {search.method} search ({summary['trials']} trials, "
        f"{summary['failed']} failed{again}; seed {search.seed}) over {', '.join(space)}, "
        f"{search.direction} {search.metric}{cv}. Best: trial {search.best_trial_}, "
        f"{search.metric} {search.best_score_:.4f}{std}. This model is refitted with those "
        "values; search/trials.csv lists every trial and search/best.yaml runs as is."
    )
    values = {key: _cell(value) for key, value in search.best_values_.items()}
    rows = [
        [
            t.number,
            *(_cell(v) for v in decode_values(space, t.params).values()),
            round(float(t.value), 4),
            _rounded(t.user_attrs.get("std")),
        ]
        for t in ranked
    ]
    blocks = [
        text_block(text),
        metrics_block("Best values", {**values, search.metric: round(search.best_score_, 4)}),
        table_block("Best trials", ["trial", *space, search.metric, "std"], rows),
    ]
    if (folder / "search" / "search.png").is_file():
        blocks.append(image_block("Score per trial", "search/search.png"))
    return blocks


def record_search(folder: Path, summary: Mapping[str, Any], blocks: Sequence[Any]) -> None:
    """Add `summary` as `search` to `folder/metrics.json` and `blocks` to the task's report
    section (`report.json`; a section of their own when the task wrote none)."""
    metrics_path = folder / "metrics.json"
    metrics = orjson.loads(metrics_path.read_bytes()) if metrics_path.is_file() else {}
    metrics["search"] = dict(summary)
    atomic_write(metrics_path, orjson.dumps(metrics, option=orjson.OPT_INDENT_2))
    report_path = folder / REPORT_FILE
    section = orjson.loads(report_path.read_bytes()) if report_path.is_file() else None
    if isinstance(section, dict) and isinstance(section.get("blocks"), list):
        section["blocks"] = [
            *[b for b in section["blocks"] if not _is_search_block(b)],
            *({**b, "search": True} for b in blocks),
        ]
        atomic_write(report_path, orjson.dumps(section, option=orjson.OPT_INDENT_2))
    else:
        write_section(folder, f"{folder.name} (tuned)", [{**b, "search": True} for b in blocks])


def _is_search_block(block: Any) -> bool:
    return isinstance(block, Mapping) and bool(block.get("search"))


def _state(name: str) -> str:
    return {"COMPLETE": "complete", "FAIL": "failed"}.get(name, name.lower())


def _cell(value: Any) -> Any:
    """A value as a CSV/report cell: lists and mappings as JSON, None as empty."""
    if value is None:
        return ""
    if isinstance(value, list | dict | tuple):
        return json.dumps(value)
    return value


def _rounded(value: Any) -> Any:
    return round(float(value), 4) if isinstance(value, int | float) else ""
