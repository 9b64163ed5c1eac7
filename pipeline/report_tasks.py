"""The report's task sections: one per folder under `RUN/tasks/`, from its `report.json`.

The blocks of `report.json` (`pipeline.report_sections`) become HTML here; a folder
without one shows its `metrics.json` flattened to a table and its PNGs. A broken file, a
block of an unknown kind or a missing image is a note in the section, never an error.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from . import report_html as h
from .paths import inside
from .report_sections import REPORT_FILE

__all__ = ["DEFAULT_ORDER", "task_sections"]

logger = logging.getLogger(__name__)

DEFAULT_ORDER = 50  # write_section's default
MAX_IMAGE_BYTES = 10_000_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_FALLBACK_IMAGES = 12
FLAT_LIST_ITEMS = 8  # longer lists in metrics.json (histories, matrices) are left out


def task_sections(run_dir: Path, manifest_tasks: Any = None) -> list[h.Section]:
    """A section per task folder of `run_dir/tasks/`, in (`order`, name) order.

    `manifest_tasks` (the manifest's `tasks` rows) adds each task's component and time to
    its subtitle.
    """
    root = run_dir / "tasks"
    folders = (
        sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if root.is_dir()
        else []
    )
    rows = manifest_tasks if isinstance(manifest_tasks, Mapping) else {}
    built = []
    used_ids: set[str] = {"contents", "overview", "corpus", "timings", "quarantine"}
    for folder in folders:
        anchor = _anchor(folder.name, used_ids)
        try:
            order, section = _task_section(folder, anchor, rows.get(folder.name))
        except Exception as exc:  # noqa: BLE001 - one odd task folder must not cost the report
            logger.warning("report: task folder %s could not be shown: %r", folder, exc)
            text = f"This task's outputs could not be shown ({type(exc).__name__}: {exc})."
            order, section = DEFAULT_ORDER, h.Section(anchor, folder.name, h.note(text, "warn"))
        built.append((order, folder.name, section))
    built.sort(key=lambda item: (item[0], item[1]))
    return [section for _, _, section in built]


def _anchor(name: str, used: set[str]) -> str:
    base = "task-" + (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unnamed")
    anchor, n = base, 2
    while anchor in used:
        anchor, n = f"{base}-{n}", n + 1
    used.add(anchor)
    return anchor


def _subtitle(folder: Path, row: Any) -> str:
    parts = [f"tasks/{folder.name}"]
    if isinstance(row, Mapping):
        if row.get("component"):
            parts.append(str(row["component"]))
        if row.get("reused"):
            parts.append("reused from an earlier run")
        elif isinstance(row.get("seconds"), int | float):
            parts.append(f"fitted in {row['seconds']:.2f} s")
    return " · ".join(parts)


def _task_section(folder: Path, anchor: str, row: Any) -> tuple[int, h.Section]:
    subtitle = _subtitle(folder, row)
    path = folder / REPORT_FILE
    if not path.exists():
        return DEFAULT_ORDER, h.Section(anchor, folder.name, _fallback(folder), subtitle)
    try:
        section = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        problem = f"{REPORT_FILE} could not be read ({type(exc).__name__})"
        return DEFAULT_ORDER, h.Section(anchor, folder.name, _fallback(folder, problem), subtitle)
    if not isinstance(section, Mapping) or not isinstance(section.get("blocks"), list):
        problem = f'{REPORT_FILE} is not a section (an object with a "blocks" list)'
        return DEFAULT_ORDER, h.Section(anchor, folder.name, _fallback(folder, problem), subtitle)
    order = section.get("order", DEFAULT_ORDER)
    order = order if isinstance(order, int) and not isinstance(order, bool) else DEFAULT_ORDER
    title = str(section.get("title") or folder.name)
    body = _side_by_side(
        [(block, _block(block, folder, i)) for i, block in enumerate(section["blocks"], 1)]
    )
    return order, h.Section(anchor, title, body or h.note("This section has no content."), subtitle)


def _block(block: Any, folder: Path, index: int) -> str:
    """One block of `report.json` as HTML; a malformed one as a note naming it."""
    if not isinstance(block, Mapping):
        return h.note(f"Block {index} of {REPORT_FILE} is not an object; skipped.", "warn")
    kind, title = block.get("kind"), str(block.get("title") or "")
    if kind == "text":
        return h.paragraph(str(block.get("text", "")))
    if kind == "metrics":
        values = block.get("values")
        if not isinstance(values, Mapping):
            return h.note(f'Block {index} ("{title}"): metrics without a "values" object.', "warn")
        return h.metrics_table(flatten(values), title=title)
    if kind == "table":
        columns, rows = block.get("columns"), block.get("rows")
        if not isinstance(columns, list) or not isinstance(rows, list):
            return h.note(
                f'Block {index} ("{title}"): a table needs "columns" and "rows" lists.', "warn"
            )
        rows = [r if isinstance(r, list) else [r] for r in rows]
        return h.table(columns, [[_cell(c) for c in r] for r in rows], title=title)
    if kind == "image":
        return _image(folder, str(block.get("path") or ""), title, str(block.get("alt") or ""))
    return h.note(f"Block {index} of {REPORT_FILE} has an unknown kind {kind!r}; skipped.", "warn")


SIDE_BY_SIDE_COLUMNS = 4  # tables this narrow, one after the other, share a row


def _pairing(block: Any) -> str | None:
    """The kind of row a block can share with its neighbours of the same kind, or None."""
    if not isinstance(block, Mapping):
        return None
    if block.get("kind") == "metrics":
        return "metrics"
    columns = block.get("columns")
    if block.get("kind") == "table" and isinstance(columns, list):
        return "table" if len(columns) <= SIDE_BY_SIDE_COLUMNS else None
    return None


def _side_by_side(rendered: list[tuple[Any, str]]) -> str:
    """Join the blocks' HTML, setting runs of consecutive metrics blocks, or of narrow
    tables, side by side (they wrap when the page is too narrow)."""
    out: list[str] = []
    run: list[str] = []
    run_kind = None

    def flush() -> None:
        if len(run) > 1:
            out.append("<div class=row>" + "".join(f"<div>{html}</div>" for html in run) + "</div>")
        else:
            out.extend(run)
        run.clear()

    for block, html in rendered:
        kind = _pairing(block)
        if kind is None or kind != run_kind:
            flush()
        run_kind = kind
        if kind is None:
            out.append(html)
        else:
            run.append(html)
    flush()
    return "".join(out)


def _cell(value: Any) -> Any:
    return (
        value
        if value is None or isinstance(value, str | int | float)
        else h.format_value(value)
        if isinstance(value, list)
        else str(value)
    )


def _image(folder: Path, relative: str, title: str, alt: str) -> str:
    """A PNG of the task folder as a figure, or a note saying why it is not shown."""
    label = title or relative or "image"
    path = inside(folder, relative) if relative else None
    if path is None:
        return h.note(f'Image "{label}": path {relative!r} is not inside the task folder.', "warn")
    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            return h.note(
                f'Image "{label}" ({relative}) is too large to embed ({size / 1e6:.1f} MB).', "warn"
            )
        data = path.read_bytes()
    except OSError:
        return h.note(f'Image "{label}": {relative} is missing from the task folder.', "warn")
    if not data.startswith(PNG_SIGNATURE):
        return h.note(f'Image "{label}": {relative} is not a PNG file.', "warn")
    return h.figure(data, title=title, alt=alt or title or relative)


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as `outer.inner` keys; short lists of scalars kept, longer or nested
    lists (histories, matrices) left out."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(flatten(value, name))
        elif isinstance(value, list):
            if len(value) <= FLAT_LIST_ITEMS and all(
                not isinstance(v, list | Mapping) for v in value
            ):
                flat[name] = value
        else:
            flat[name] = value
    return flat


def _fallback(folder: Path, problem: str = "") -> str:
    """A task folder without a usable `report.json`: its metrics and its PNGs."""
    body = (
        h.note(f"{problem}; showing the task's metrics and images instead.", "warn")
        if problem
        else ""
    )
    metrics_path = folder / "metrics.json"
    if metrics_path.is_file():
        try:
            metrics = orjson.loads(metrics_path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            body += h.note(f"metrics.json could not be read ({type(exc).__name__}).", "warn")
        else:
            flat = flatten(metrics) if isinstance(metrics, Mapping) else {"value": metrics}
            body += h.metrics_table(flat, title="Metrics") if flat else ""
    images = sorted(folder.glob("*.png"))
    for image in images[:MAX_FALLBACK_IMAGES]:
        body += _image(folder, image.name, image.stem.replace("_", " ").capitalize(), "")
    if len(images) > MAX_FALLBACK_IMAGES:
        body += h.note(f"{len(images) - MAX_FALLBACK_IMAGES} more images not shown.")
    files = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    if files:
        shown = ", ".join(files[:15]) + (f", and {len(files) - 15} more" if len(files) > 15 else "")
        body += f'<p class="subtitle">Files in the folder: {h.esc(shown)}</p>'
    return body or h.note("This task folder holds no metrics or images.")
