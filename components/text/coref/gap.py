"""The GAP coreference benchmark (Webster et al., 2018): reader and metric.

Each GAP row gives a Wikipedia passage, a pronoun with its character offset, and two
person names A and B with their offsets and whether the pronoun refers to each. A
system is scored on the two binary decisions per row (positive class: coreferent),
overall and by the gender of the pronoun; the bias is feminine F1 / masculine F1.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.document import Span

__all__ = [
    "GAP_COLUMNS",
    "GapExample",
    "gap_decisions",
    "gap_scores",
    "pronoun_gender",
    "read_gap",
]

GAP_COLUMNS = (
    "ID",
    "Text",
    "Pronoun",
    "Pronoun-offset",
    "A",
    "A-offset",
    "A-coref",
    "B",
    "B-offset",
    "B-coref",
    "URL",
)
MASCULINE = frozenset({"he", "him", "his", "himself"})
FEMININE = frozenset({"she", "her", "hers", "herself"})


@dataclass(frozen=True, slots=True)
class GapExample:
    """One GAP row: the passage, the pronoun and the two candidate names with gold labels."""

    id: str
    text: str
    pronoun: str
    pronoun_offset: int
    a: str
    a_offset: int
    a_coref: bool
    b: str
    b_offset: int
    b_coref: bool
    url: str = ""


def _flag(value: str, path: Path, line: int) -> bool:
    upper = value.strip().upper()
    if upper not in ("TRUE", "FALSE"):
        raise ValueError(f"{path}:{line}: expected TRUE or FALSE, got {value!r}")
    return upper == "TRUE"


def read_gap(path: str | Path, *, limit: int | None = None) -> Iterator[GapExample]:
    """Stream the rows of a GAP `.tsv` file (with its header); `limit` stops early.

    Raises `ValueError` naming the file and line when a row is malformed.
    """
    path = Path(path)
    with path.open(encoding="utf-8", newline="") as fh:
        header = fh.readline().rstrip("\r\n").split("\t")
        if tuple(header[: len(GAP_COLUMNS) - 1]) != GAP_COLUMNS[:-1]:
            raise ValueError(f"{path}: not a GAP file; expected the header {' '.join(GAP_COLUMNS)}")
        count = 0
        for line_no, line in enumerate(fh, start=2):
            if limit is not None and count >= limit:
                return
            line = line.rstrip("\r\n")
            if not line:
                continue
            fields = line.split("\t")
            if len(fields) < len(GAP_COLUMNS) - 1:
                raise ValueError(
                    f"{path}:{line_no}: expected {len(GAP_COLUMNS)} tab-separated fields"
                )
            try:
                example = GapExample(
                    id=fields[0],
                    text=fields[1],
                    pronoun=fields[2],
                    pronoun_offset=int(fields[3]),
                    a=fields[4],
                    a_offset=int(fields[5]),
                    a_coref=_flag(fields[6], path, line_no),
                    b=fields[7],
                    b_offset=int(fields[8]),
                    b_coref=_flag(fields[9], path, line_no),
                    url=fields[10] if len(fields) > 10 else "",
                )
            except ValueError as exc:
                raise ValueError(f"{path}:{line_no}: bad GAP row ({exc})") from None
            count += 1
            yield example


def pronoun_gender(pronoun: str) -> str:
    """ "masculine", "feminine" or "unknown" for a GAP pronoun."""
    lower = pronoun.lower()
    if lower in MASCULINE:
        return "masculine"
    if lower in FEMININE:
        return "feminine"
    return "unknown"


def _overlaps(span: Span, start: int, end: int) -> bool:
    return span.start < end and start < span.end


def gap_decisions(example: GapExample, clusters: Sequence[Sequence[Span]]) -> tuple[bool, bool]:
    """Whether the system links the pronoun to A and to B.

    The pronoun's cluster is the one holding a mention of exactly the pronoun; a name
    is linked when a mention of that cluster overlaps the name at its offset and ends
    within it (so "Jack's grandfather" does not stand for "Jack", while "Sen. Benigno
    Aquino" stands for "Benigno Aquino").
    """
    p_start = example.pronoun_offset
    p_end = p_start + len(example.pronoun)
    a_start, a_end = example.a_offset, example.a_offset + len(example.a)
    b_start, b_end = example.b_offset, example.b_offset + len(example.b)
    a_linked = b_linked = False
    for cluster in clusters:
        if not any(m.start == p_start and m.end == p_end for m in cluster):
            continue
        for m in cluster:
            if m.start == p_start:
                continue
            a_linked = a_linked or (_overlaps(m, a_start, a_end) and m.end <= a_end)
            b_linked = b_linked or (_overlaps(m, b_start, b_end) and m.end <= b_end)
    return a_linked, b_linked


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def gap_scores(
    examples: Iterable[GapExample], decisions: Iterable[tuple[bool, bool]]
) -> dict[str, dict[str, float | int] | float]:
    """GAP precision/recall/F1 overall, masculine and feminine, and the bias F/M.

    Each row contributes its two decisions (pronoun-A, pronoun-B); `decisions` pairs
    with `examples` in order.
    """
    counts = {g: [0, 0, 0] for g in ("overall", "masculine", "feminine")}
    rows = 0
    for example, (pred_a, pred_b) in zip(examples, decisions, strict=True):
        rows += 1
        gender = pronoun_gender(example.pronoun)
        for gold, pred in ((example.a_coref, pred_a), (example.b_coref, pred_b)):
            index = 0 if gold and pred else 1 if pred else 2 if gold else None
            if index is None:
                continue
            counts["overall"][index] += 1
            if gender in counts:
                counts[gender][index] += 1
    out: dict[str, dict[str, float | int] | float] = {
        name: _prf(*values) for name, values in counts.items()
    }
    masculine = out["masculine"]["f1"]  # type: ignore[index]
    feminine = out["feminine"]["f1"]  # type: ignore[index]
    out["bias"] = feminine / masculine if masculine else 0.0
    out["rows"] = rows
    return out
