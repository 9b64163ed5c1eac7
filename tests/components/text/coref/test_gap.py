"""The GAP reader and metric: decisions from clusters, F1 by gender, real development rows."""

from __future__ import annotations

import pytest

from components.text.coref.evaluate import CorefEvaluator
from components.text.coref.gap import GapExample, gap_decisions, gap_scores, read_gap
from pipeline.document import Span

TEXT = "Kate met Anna in Paris. She said Anna's book was good."


def example(a_coref: bool, b_coref: bool, pronoun: str = "She") -> GapExample:
    return GapExample(
        id="t",
        text=TEXT,
        pronoun=pronoun,
        pronoun_offset=24,
        a="Kate",
        a_offset=0,
        a_coref=a_coref,
        b="Anna",
        b_offset=9,
        b_coref=b_coref,
    )


def span(start: int, end: int) -> Span:
    return Span(start, end, TEXT[start:end])


def test_decisions_follow_the_pronoun_cluster():
    kate, she, anna = span(0, 4), span(24, 27), span(9, 13)
    assert gap_decisions(example(True, False), [[kate, she]]) == (True, False)
    assert gap_decisions(example(True, False), [[anna, span(33, 37)], [kate, she]]) == (True, False)
    # Anna is in a cluster, but not the pronoun's: no link to B.
    assert gap_decisions(example(True, False), [[anna, span(33, 37)]]) == (False, False)
    # A mention that only contains the name ("Kate met Anna") does not stand for it.
    assert gap_decisions(example(True, False), [[span(0, 13), she]]) == (False, True)


def test_scores_by_gender_and_bias():
    rows = [example(True, False), example(False, True), example(True, False, pronoun="he")]
    decisions = [(True, False), (True, False), (True, True)]
    scores = gap_scores(rows, decisions)
    # Overall: TP 2 (rows 1 and 3 A), FP 2 (row 2 A, row 3 B), FN 1 (row 2 B).
    assert scores["overall"]["precision"] == pytest.approx(2 / 4)
    assert scores["overall"]["recall"] == pytest.approx(2 / 3)
    assert scores["feminine"]["f1"] == pytest.approx(0.5)  # TP 1, FP 1, FN 1
    assert scores["masculine"]["f1"] == pytest.approx(2 / 3)  # TP 1, FP 1, FN 0
    assert scores["bias"] == pytest.approx(0.5 / (2 / 3))
    assert scores["rows"] == 3


def test_reader_rejects_a_file_that_is_not_gap(tmp_path):
    path = tmp_path / "other.tsv"
    path.write_text("a\tb\n1\t2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a GAP file"):
        list(read_gap(path))


def test_reads_the_development_set(shared_data):
    path = shared_data / "coref" / "gap-development.tsv"
    if not path.exists():
        pytest.skip(f"GAP development set not found at {path}")
    rows = list(read_gap(path))
    assert len(rows) == 2000
    first = rows[0]
    assert first.id == "development-1"
    assert first.text[first.pronoun_offset :].startswith(first.pronoun)
    assert first.text[first.a_offset :].startswith(first.a)
    assert sum(r.a_coref for r in rows) == 874 and sum(r.b_coref for r in rows) == 925


def test_gap_f1_on_the_first_100_development_rows(shared_data):
    path = shared_data / "coref" / "gap-development.tsv"
    if not path.exists():
        pytest.skip(f"GAP development set not found at {path}")
    metrics = CorefEvaluator(gold=str(path), limit=100).evaluate()
    assert metrics["rows"] == 100
    # Measured 0.618 on these rows (0.656 on the full set); the floor leaves a margin.
    assert metrics["overall"]["f1"] > 0.55
    assert 0.6 < metrics["bias"] < 1.5
