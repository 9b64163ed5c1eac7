"""The HTML of the run report (`pipeline.report`): page, CSS, tables, figures and charts.

Everything is inline (CSS in a `<style>` element, images as `data:image/png;base64,...`),
there is no script and no web font, so the page opens offline and prints as it looks.
Every text that reaches the page goes through `html.escape` here.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_TABLE_ROWS",
    "Section",
    "bar_chart_png",
    "definitions",
    "figure",
    "format_value",
    "metrics_table",
    "note",
    "page",
    "paragraph",
    "stat_cards",
    "table",
]

MAX_TABLE_ROWS = 50  # longer tables are cut, with a note saying how many rows were left out
FOLDED_AFTER = 12  # rows shown before a "show all" toggle ...
FOLD_ABOVE = 20  # ... in tables longer than this
_TOGGLES = itertools.count(1)  # ids of the toggles, unique within a page


@dataclass
class Section:
    """One section of the page: its anchor `id`, heading, optional subtitle and body HTML."""

    id: str
    title: str
    body: str
    subtitle: str = ""


def esc(value: Any) -> str:
    """`value` as text, escaped for HTML (quotes included)."""
    return html.escape(str(value), quote=True)


def format_value(value: Any) -> str:
    """A cell's text: thousands separators for integers, 4 significant digits for floats,
    yes/no for booleans, a dash for missing values; anything else as `str`."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "–" if math.isnan(value) else ("∞" if value > 0 else "−∞")
        if value.is_integer() and abs(value) >= 1000:
            return f"{int(value):,}"
        return f"{value:,.1f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value)
    return str(value)


_PERCENT = re.compile(r"^-?[\d,.]+%$")


def _is_number(value: Any) -> bool:
    """Numbers and percentages ("12.5%"): right-aligned in tables."""
    if isinstance(value, str):
        return bool(_PERCENT.match(value))
    return isinstance(value, int | float) and not isinstance(value, bool)


def paragraph(text: str) -> str:
    """A paragraph of plain text (blank lines in it start new paragraphs)."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", str(text)) if p.strip()]
    return "".join(f"<p>{esc(p)}</p>" for p in parts)


def note(text: str, kind: str = "info") -> str:
    """A short callout: `info` (grey), `warn` (amber) or `ok` (green)."""
    return f'<p class="note note-{esc(kind)}">{esc(text)}</p>'


def heading(title: str) -> str:
    """A block's heading inside a section (empty title: nothing)."""
    return f"<h3>{esc(title)}</h3>" if title else ""


def _decimals(values: Sequence[Any]) -> int | None:
    """Decimals shared by a column of numbers with fractions (None: format each on its own)."""
    floats = [abs(v) for v in values if isinstance(v, float) and math.isfinite(v)]
    if not floats or all(v.is_integer() for v in floats):
        return None
    top = max(floats)
    return 4 if top < 1 else 3 if top < 10 else 2 if top < 1000 else 1


def _cell_text(value: Any, decimals: int | None) -> str:
    if decimals is not None and _is_number(value) and not isinstance(value, str):
        if isinstance(value, float) and not math.isfinite(value):
            return format_value(value)
        return f"{value:,.{decimals}f}"
    return format_value(value)


def table(
    columns: Sequence[Any],
    rows: Sequence[Sequence[Any]],
    *,
    title: str = "",
    max_rows: int = MAX_TABLE_ROWS,
    folded_after: int = FOLDED_AFTER,
) -> str:
    """A table with a header row and zebra rows; numeric columns right-aligned, their
    fractions to the same number of decimals.

    In tables of more than `FOLD_ABOVE` rows, rows beyond `folded_after` are hidden behind
    a "show all" toggle (pure CSS; printed pages show them); rows beyond `max_rows` are
    left out with a note.
    """
    shown = [list(r) for r in rows[:max_rows]]
    width = max([len(columns), *(len(r) for r in shown)]) if shown or columns else 0
    for row in shown:
        row.extend([""] * (width - len(row)))
    numeric, decimals = [], []
    for i in range(width):
        values = [r[i] for r in shown if r[i] not in (None, "")]
        numeric.append(bool(values) and all(_is_number(v) for v in values))
        decimals.append(_decimals(values) if numeric[-1] else None)
    head = "".join(
        f"<th{' class=num' if numeric[i] else ''}>{esc(c)}</th>" for i, c in enumerate(columns)
    )
    body = []
    for n, row in enumerate(shown):
        texts = [_cell_text(v, decimals[i]) for i, v in enumerate(row)]
        cells = "".join(
            f"<td{' class=num' if numeric[i] else ' class=long' if len(t) > 40 else ''}>"
            f"{esc(t)}</td>"
            for i, t in enumerate(texts)
        )
        body.append(f"<tr class=extra>{cells}</tr>" if n >= folded_after else f"<tr>{cells}</tr>")
    out = heading(title)
    folded = len(shown) > max(FOLD_ABOVE, folded_after)
    if folded:
        toggle = f"more-{next(_TOGGLES)}"
        out += f'<div class=folding><input type=checkbox class=more-toggle id="{toggle}">'
    else:
        body = [b.replace("<tr class=extra>", "<tr>") for b in body]
    out += f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
    out += f"<tbody>{''.join(body)}</tbody></table></div>"
    if folded:
        out += (
            f'<label class=more for="{toggle}"><span class=show>Show all {len(shown)} rows</span>'
            f"<span class=hide>Show the first {folded_after} rows only</span></label></div>"
        )
    if len(rows) > max_rows:
        left_out = f"{len(rows) - max_rows:,} more rows are not in the report"
        out += f'<p class="subtitle">{esc(left_out)} (first {max_rows} of {len(rows):,}).</p>'
    return out


def metrics_table(values: Mapping[str, Any], *, title: str = "") -> str:
    """Named figures as a two-column table."""
    rows = [[str(name), value] for name, value in values.items()]
    out = heading(title)
    body = "".join(
        f"<tr><th scope=row>{esc(name)}</th><td class=num>{esc(format_value(value))}</td></tr>"
        for name, value in rows[:MAX_TABLE_ROWS]
    )
    out += f'<div class="table-wrap"><table class="metrics"><tbody>{body}</tbody></table></div>'
    if len(rows) > MAX_TABLE_ROWS:
        out += note(f"{len(rows) - MAX_TABLE_ROWS:,} more values not shown.")
    return out


def definitions(items: Sequence[tuple[str, str]]) -> str:
    """A definition list of (term, text) pairs, both escaped."""
    body = "".join(f"<dt>{esc(term)}</dt><dd>{esc(text)}</dd>" for term, text in items)
    return f"<dl class=defs>{body}</dl>"


def stat_cards(items: Sequence[tuple[str, Any, str]]) -> str:
    """Key figures as cards: (label, value, detail line)."""
    cards = "".join(
        f"<div class=card><div class=card-value>{esc(format_value(value))}</div>"
        f"<div class=card-label>{esc(label)}</div>"
        + (f"<div class=card-detail>{esc(detail)}</div>" if detail else "")
        + "</div>"
        for label, value, detail in items
    )
    return f"<div class=cards>{cards}</div>"


def figure(png: bytes, *, title: str = "", alt: str = "") -> str:
    """A PNG embedded as a data URI, with its title as caption."""
    data = base64.b64encode(png).decode("ascii")
    caption = f"<figcaption>{esc(title)}</figcaption>" if title else ""
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{esc(alt or title)}">'
        f"{caption}</figure>"
    )


def bar_chart_png(labels: Sequence[str], values: Sequence[float], *, xlabel: str) -> bytes:
    """A small horizontal bar chart (first label on top), as PNG bytes (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    height = 0.9 + 0.36 * len(labels)
    fig, ax = plt.subplots(figsize=(7.5, height))
    try:
        positions = list(range(len(labels)))[::-1]
        bars = ax.barh(positions, values, color="#3b6ea8", height=0.62)
        ax.set_yticks(positions, labels=[str(label) for label in labels])
        ax.set_xlabel(xlabel)
        top = max(values) if values else 0.0
        ax.set_xlim(0, top * 1.18 if top > 0 else 1.0)
        for bar, value in zip(bars, values, strict=True):
            ax.text(
                bar.get_width() + top * 0.01,
                bar.get_y() + bar.get_height() / 2,
                f"{value:.2f} s",
                va="center",
                fontsize=9,
                color="#334155",
            )
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.grid(axis="x", color="#e2e8f0", linewidth=0.8)
        ax.set_axisbelow(True)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110)
    finally:
        plt.close(fig)
    return buffer.getvalue()


def page(title: str, header: str, sections: Sequence[Section], footer: str) -> str:
    """The whole document: header band, table of contents, the sections, a footer."""
    toc = "".join(f'<li><a href="#{esc(s.id)}">{esc(s.title)}</a></li>' for s in sections)
    body = "".join(
        f'<section id="{esc(s.id)}"><h2>{esc(s.title)}</h2>'
        + (f'<p class="subtitle">{esc(s.subtitle)}</p>' if s.subtitle else "")
        + f"{s.body}</section>"
        for s in sections
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<header class="masthead"><div class="wrap">{header}</div></header>'
        '<main class="wrap">'
        f'<nav id="contents" aria-label="Contents"><h2>Contents</h2><ol>{toc}</ol></nav>'
        f"{body}</main>"
        f'<footer class="wrap">{footer}</footer></body></html>\n'
    )


CSS = """
:root{--ink:#1e293b;--muted:#64748b;--line:#e2e8f0;--zebra:#f8fafc;--accent:#2f5d8f;
--bg:#f1f4f8;--card:#fff;--ok:#15803d;--warn:#b45309;--bad:#b91c1c}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.55 system-ui,-apple-system,
"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif}
.wrap{max-width:1080px;margin:0 auto;padding:0 24px}
.masthead{background:#1e293b;color:#f8fafc;padding:28px 0 30px;margin-bottom:24px}
.masthead h1{margin:4px 0 6px;font-size:30px;line-height:1.2;font-weight:650;letter-spacing:-.01em}
.eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:12px;color:#94a3b8;margin:0}
.meta{margin:0;color:#cbd5e1;font-size:14px}
.meta span+span:before{content:"·";margin:0 8px;color:#64748b}
.badge{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:600;
text-transform:uppercase;letter-spacing:.04em;vertical-align:2px;margin-left:10px}
.badge-complete{background:#dcfce7;color:#166534}.badge-failed{background:#fee2e2;color:#991b1b}
.badge-other{background:#fef3c7;color:#92400e}
section,nav#contents{background:var(--card);border:1px solid var(--line);border-radius:10px;
padding:22px 26px;margin:0 0 20px;box-shadow:0 1px 2px rgba(15,23,42,.04)}
nav#contents h2{font-size:13px;text-transform:uppercase;letter-spacing:.08em;color:var(--muted);
margin:0 0 8px;border:0;padding:0}
nav#contents ol{margin:0;padding-left:22px;display:grid;gap:2px 36px;
grid-template-columns:repeat(auto-fill,minmax(250px,1fr))}
nav#contents li{padding-left:2px}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
h2{font-size:21px;margin:0 0 4px;font-weight:650;letter-spacing:-.01em}
h3{font-size:15px;margin:20px 0 8px;color:#334155;font-weight:600}
p{margin:8px 0}
.subtitle{color:var(--muted);font-size:13.5px;margin:0 0 10px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin:14px 0 4px}
.card{background:var(--zebra);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.card-value{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.2}
.card-label{font-size:12.5px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em;margin-top:2px}
.card-detail{font-size:12.5px;color:var(--muted)}
.table-wrap{overflow-x:auto;margin:6px 0 10px}
table{border-collapse:collapse;width:auto;min-width:min(100%,520px);font-size:14px}
th,td{text-align:left;padding:7px 16px 7px 12px;border-bottom:1px solid var(--line);vertical-align:top}
td{max-width:560px}td.long{overflow-wrap:anywhere;min-width:14em;max-width:720px}
thead th{font-size:12.5px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);
font-weight:600;border-bottom:2px solid #cbd5e1;white-space:nowrap}
tbody tr:nth-child(even){background:var(--zebra)}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.metrics{width:auto;min-width:340px}
table.metrics th{font-weight:500;color:#334155;padding-right:32px}
td.excerpt,td .excerpt{color:#475569;font-size:13px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:13px}
dl.defs{display:grid;grid-template-columns:max-content 1fr;gap:6px 22px;margin:12px 0 0}
dl.defs dt{color:var(--muted);font-size:13.5px}dl.defs dd{margin:0;overflow-wrap:anywhere}
.row{display:flex;flex-wrap:wrap;gap:0 32px;align-items:flex-start}.row table{min-width:0}
.row th,.row td{padding:6px 12px 6px 10px}
figure{margin:12px 0 16px}
figure img{display:block;max-width:100%;height:auto;border:1px solid var(--line);border-radius:6px;background:#fff}
figcaption{font-size:13px;color:var(--muted);margin-top:6px}
.note{border-left:4px solid #94a3b8;background:var(--zebra);padding:8px 12px;border-radius:0 6px 6px 0;
font-size:14px;color:#334155}
.note-warn{border-color:var(--warn);background:#fffbeb}.note-ok{border-color:var(--ok);background:#f0fdf4}
.check-ok{color:var(--ok);font-weight:600}.check-bad{color:var(--bad);font-weight:600}
.more-toggle{position:absolute;opacity:0;pointer-events:none}
.more-toggle:not(:checked)+.table-wrap tr.extra{display:none}
label.more{display:inline-block;margin:0 0 10px;color:var(--accent);font-size:13.5px;cursor:pointer}
label.more:hover{text-decoration:underline}
.more-toggle:checked~label.more .show,.more-toggle:not(:checked)~label.more .hide{display:none}
.more-toggle:focus-visible~label.more{outline:2px solid var(--accent);outline-offset:2px}
details{margin-top:12px}summary{cursor:pointer;color:var(--accent);font-size:14px}
footer{color:var(--muted);font-size:12.5px;padding-bottom:32px}
@media (max-width:640px){.wrap{padding:0 12px}section,nav#contents{padding:16px}
.masthead h1{font-size:24px}dl.defs{grid-template-columns:1fr}dl.defs dd{margin-bottom:6px}}
@media print{body{background:#fff}tr.extra{display:table-row!important}label.more{display:none}section,nav#contents{box-shadow:none;break-inside:avoid-page}}
"""
