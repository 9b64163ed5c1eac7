"""The `csv` reader: columns, labels, ids, headers, quoting, and malformed rows and files."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import pytest

from corpora import CsvReader

NEWS_CSV = (
    "label,title,description\n"
    '3,Markets calm,"Shares barely moved on Tuesday, as traders waited for the rate decision."\n'
    '2,Cup final,"The home side won 2-1\nafter extra time."\n'
    '1,Summit ends,""\n'
)


def test_text_from_several_columns_with_label_and_other_columns_in_meta(tmp_path, split):
    path = tmp_path / "news.csv"
    path.write_text(NEWS_CSV, encoding="utf-8")

    reader = CsvReader(path=str(path), text_column=["title", "description"], label_column="label")
    docs, rejected = split(reader.read())

    assert rejected == []
    assert [d.id for d in docs] == ["news.csv:2", "news.csv:3", "news.csv:5"]
    assert (
        docs[0].text
        == "Markets calm\nShares barely moved on Tuesday, as traders waited for the rate decision."
    )
    assert docs[1].text == "Cup final\nThe home side won 2-1\nafter extra time."
    assert docs[2].text == "Summit ends"  # empty parts are skipped
    assert docs[0].meta == {"label": "3", "source": path.as_posix(), "line": 2}


def test_single_text_column_id_column_and_meta_columns(tmp_path, split):
    path = tmp_path / "items.csv"
    path.write_text(
        "id,text,lang,extra\nx1,First text.,en,1\nx2,Deuxième texte.,fr,2\n,No id here.,en,3\n"
    )

    docs, rejected = split(CsvReader(path=str(path), id_column="id", meta_columns=["lang"]).read())

    assert rejected == []
    assert [(d.id, d.text) for d in docs] == [
        ("x1", "First text."),
        ("x2", "Deuxième texte."),
        ("items.csv:4", "No id here."),
    ]
    assert docs[1].meta == {"lang": "fr", "source": path.as_posix(), "line": 3}


def test_no_header_with_column_names_tab_delimiter_and_gzip(tmp_path, split):
    rows = "3\tMarkets calm\tShares barely moved.\n4\tNew phone\tIt folds in three.\n"
    (tmp_path / "news.tsv.gz").write_bytes(gzip.compress(rows.encode()))

    reader = CsvReader(
        path=str(tmp_path),
        header=False,
        column_names=["label", "title", "description"],
        text_column=["title", "description"],
        label_column="label",
        delimiter="\t",
    )
    docs, rejected = split(reader.read())

    assert rejected == []
    assert [(d.id, d.meta["label"]) for d in docs] == [
        ("news.tsv.gz:1", "3"),
        ("news.tsv.gz:2", "4"),
    ]
    assert docs[1].text == "New phone\nIt folds in three."


def test_no_header_without_names_uses_positions(tmp_path, split):
    (tmp_path / "plain.csv").write_text("a,First.\nb,Second.\n")

    docs, _ = split(
        CsvReader(path=str(tmp_path), header=False, text_column="1", id_column="0").read()
    )

    assert [(d.id, d.text) for d in docs] == [("a", "First."), ("b", "Second.")]


def test_malformed_rows_are_rejected_at_their_line(tmp_path, split):
    data = (
        b"label,text\n"
        b"1,Good row.\n"
        b"2,Too,many,fields\n"
        b"3\n"
        b"\n"
        b'4,"Quoted\nover two lines, fine."\n'
        b"5,Caf\xe9 is not UTF-8.\n"
        b"6,Good again.\n"
    )
    (tmp_path / "rows.csv").write_bytes(data)

    docs, rejected = split(CsvReader(path=str(tmp_path), label_column="label").read())

    assert [(d.meta["label"], d.meta["line"]) for d in docs] == [("1", 2), ("4", 6), ("6", 9)]
    assert docs[1].text == "Quoted\nover two lines, fine."
    reasons = {r.position: r.reason for r in rejected}
    assert sorted(reasons) == [3, 4, 8]
    assert reasons[3] == "row has 4 fields, expected 2 (label, text)"
    assert reasons[4] == "row has 1 fields, expected 2 (label, text)"
    assert reasons[8] == "not valid utf-8: cannot decode byte 0xe9 at byte offset 82 (line 8)"
    assert rejected[0].excerpt == "2,Too,many,fields"
    assert rejected[0].id == "rows.csv:3"


def test_missing_text_column_rejects_the_file_and_names_the_columns(tmp_path, split):
    (tmp_path / "a.csv").write_text("headline,body\nOne,Two\n")
    (tmp_path / "b.csv").write_text("text\nKept.\n")

    docs, rejected = split(CsvReader(path=str(tmp_path), label_column="label").read())
    assert docs == []
    assert [r.source.rsplit("/", 1)[-1] for r in rejected] == ["a.csv", "b.csv"]
    assert (
        rejected[0].reason
        == "no column 'text', 'label' in this file; its columns are: headline, body"
    )

    docs, rejected = split(CsvReader(path=str(tmp_path), text_column="bodi").read())
    assert "'bodi' (did you mean 'body'?)" in rejected[0].reason
    assert rejected[0].position == 1


def test_undecodable_header_rejects_the_file(tmp_path, split):
    (tmp_path / "h.csv").write_bytes(b"t\xe9xt,label\nOne,x\n")

    docs, rejected = split(CsvReader(path=str(tmp_path)).read())

    assert docs == []
    assert [(r.position, r.reason) for r in rejected] == [
        (
            1,
            "unusable header row: not valid utf-8: cannot decode byte 0xe9 at byte offset 1 (line 1)",
        )
    ]


def test_a_field_longer_than_pythons_default_limit_is_read(tmp_path, split):
    long_text = "word " * 40_000  # 200,000 characters, over csv's default 131,072
    (tmp_path / "long.csv").write_text(f'text\n"{long_text}"\nshort\n')

    docs, rejected = split(CsvReader(path=str(tmp_path)).read())

    assert rejected == []
    assert [len(d.text) for d in docs] == [len(long_text), 5]


def test_bad_delimiter_and_encoding_raise_clear_errors(tmp_path):
    (tmp_path / "a.csv").write_text("text\nx\n")
    with pytest.raises(ValueError, match="single character"):
        list(CsvReader(path=str(tmp_path), delimiter=";;").read())
    with pytest.raises(ValueError, match="unknown encoding"):
        list(CsvReader(path=str(tmp_path), encoding="nope").read())


def test_encodings(tmp_path, split):
    text = "Vila Nova de Gaia: três pontes, mais câmaras e muitas notícias."
    (tmp_path / "pt.csv").write_bytes(f'text\n"{text}"\n'.encode("latin-1"))

    _, rejected = split(CsvReader(path=str(tmp_path)).read())
    assert rejected[0].position == 2
    docs, _ = split(CsvReader(path=str(tmp_path), encoding="latin-1").read())
    assert docs[0].text == text


def test_determinism(tmp_path):
    (tmp_path / "news.csv").write_text(NEWS_CSV)
    reader = CsvReader(path=str(tmp_path), text_column="description")
    first = [(d.id, d.text) for d in reader.read()]
    assert first == [(d.id, d.text) for d in reader.read()]


def test_ag_news_shared_file(shared_data: Path, split):
    path = shared_data / "classification" / "ag_news_test_first_half.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    reader = CsvReader(path=str(path), text_column=["title", "description"], label_column="label")

    docs, rejected = split(reader.read())

    assert rejected == []
    assert len(docs) == 3800
    counts = {label: sum(1 for d in docs if d.meta["label"] == label) for label in "1234"}
    assert counts == {"1": 979, "2": 950, "3": 911, "4": 960}
    assert all(d.text.strip() for d in itertools.islice(docs, 100))


def _ag_news(shared_data: Path) -> Path:
    path = shared_data / "classification" / "ag_news_test_first_half.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


def _break_a_quote(lines: list[str], where: str) -> int:
    """Leave one field's quote open, as a hand edit or a cut-off export does; its 0-based index."""
    if where == "last row":
        index = len(lines) - 1
    else:
        quoted = where == "quoted field"
        index = next(i for i in range(500, len(lines)) if lines[i].endswith('"\n') == quoted)
    if lines[index].endswith('"\n'):
        lines[index] = lines[index][:-2] + "\n"  # the closing quote lost
    else:
        label, title, description = lines[index].split(",", 2)
        lines[index] = f'{label},{title},"{description}'  # a quote opened and never closed
    return index


@pytest.mark.parametrize("where", ["quoted field", "unquoted field", "last row"])
def test_an_unterminated_quote_is_quarantined_and_the_rows_after_it_are_read(
    tmp_path, shared_data, split, where
):
    header, *lines = _ag_news(shared_data).read_text(encoding="utf-8").splitlines(keepends=True)
    lines = lines[:1002]
    broken = _break_a_quote(lines, where)
    (tmp_path / "intact.csv").write_text(header + "".join(lines[:broken] + lines[broken + 1 :]))
    (tmp_path / "broken.csv").write_text(header + "".join(lines))
    columns = {"text_column": ["title", "description"], "label_column": "label"}

    intact, _ = split(CsvReader(path=str(tmp_path / "intact.csv"), **columns).read())
    docs, rejected = split(CsvReader(path=str(tmp_path / "broken.csv"), **columns).read())

    assert len(docs) == 1001
    assert [(d.text, d.meta["label"]) for d in docs] == [(d.text, d.meta["label"]) for d in intact]
    (rejection,) = rejected
    assert rejection.position == broken + 2  # the header is line 1
    assert rejection.reason.startswith(
        f"unterminated quote: the quoted field that opens on line {broken + 2} "
    )
    assert rejection.excerpt == lines[broken][:200]


def test_a_quoted_line_break_is_not_taken_for_an_unterminated_quote(tmp_path, split):
    (tmp_path / "news.csv").write_text(NEWS_CSV + '4,Late,"Two\n\nparagraphs, ""quoted"""\n')

    docs, rejected = split(CsvReader(path=str(tmp_path), text_column="description").read())

    assert rejected == []
    assert docs[1].text == "The home side won 2-1\nafter extra time."
    assert docs[3].text == 'Two\n\nparagraphs, "quoted"'


def test_repeated_ids_are_quarantined_naming_the_first_line(shared_data, split):
    import csv

    path = _ag_news(shared_data)
    with path.open(encoding="utf-8", newline="") as fh:
        titles = [row["title"] for row in csv.DictReader(fh)]
    first_line = {}
    for line, title in enumerate(titles, start=2):
        first_line.setdefault(title, line)

    docs, rejected = split(
        CsvReader(path=str(path), text_column="description", id_column="title").read()
    )

    assert len(docs) == len(first_line) and len(docs) + len(rejected) == 3800
    assert [d.id for d in docs] == list(first_line)
    assert len(rejected) == 3800 - len(first_line) > 0
    for rejection in rejected:
        line = first_line[rejection.id]
        assert (
            rejection.reason
            == f"duplicate id {rejection.id!r}: line {line} of this file has the same id"
        )
        assert rejection.position > line
