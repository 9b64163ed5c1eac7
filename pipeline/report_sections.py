"""What a task shows in the run report: `report.json` in its folder, written with `write_section`.

The report (`pipeline.report`) knows no task by name. Each task that wants a section
writes `RUN/tasks/NAME/report.json`:

    {"title": "Topics (LDA, 10 topics)", "order": 20, "blocks": [BLOCK, ...]}

and the report renders the sections in `order` (then by task name). A block is one of:

- `{"kind": "text", "text": "..."}`: a paragraph (plain text, escaped when rendered);
- `{"kind": "metrics", "title": "...", "values": {"name": number or text, ...}}`;
- `{"kind": "table", "title": "...", "columns": [...], "rows": [[cell, ...], ...]}`:
  cells are numbers or text; keep tables short (the report shows at most 50 rows);
- `{"kind": "image", "title": "...", "path": "trends.png", "alt": "..."}`: a PNG in the
  task folder (relative path), embedded into the page as a data URI.

A task folder without `report.json` still gets a section: its `metrics.json` and PNGs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from .files import atomic_write

__all__ = [
    "REPORT_FILE",
    "image_block",
    "metrics_block",
    "table_block",
    "text_block",
    "write_section",
]

REPORT_FILE = "report.json"


def text_block(text: str) -> dict[str, Any]:
    """A paragraph of plain text."""
    return {"kind": "text", "text": str(text)}


def metrics_block(title: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Named figures shown as a two-column table."""
    return {"kind": "metrics", "title": title, "values": dict(values)}


def table_block(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> dict[str, Any]:
    """A table: a header of `columns` and one list of cells per row."""
    return {
        "kind": "table",
        "title": title,
        "columns": list(columns),
        "rows": [list(r) for r in rows],
    }


def image_block(title: str, path: str, alt: str = "") -> dict[str, Any]:
    """A PNG of the task folder (`path` relative to it), embedded in the page."""
    return {"kind": "image", "title": title, "path": path, "alt": alt or title}


def write_section(
    folder: Path, title: str, blocks: Sequence[Mapping[str, Any]], *, order: int = 50
) -> None:
    """Write the task's report section (`folder/report.json`); `order` places it in the
    report (lower first: 10 corpus-wide views such as topics, 50 by default)."""
    section = {"title": title, "order": int(order), "blocks": [dict(b) for b in blocks]}
    atomic_write(
        Path(folder) / REPORT_FILE,
        orjson.dumps(section, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY, default=str),
    )
