"""The `jsonl` reader: fields, ids, meta, compression, and every kind of bad line."""

from __future__ import annotations

import bz2
import gzip
import json
import tracemalloc

import pytest

from corpora import JsonlReader

ARTICLES = [
    {
        "id": "a1",
        "text": "The harbour reopened after the storm.",
        "title": "Harbour reopens",
        "tags": ["sea"],
    },
    {"id": 7, "text": "Rail strikes were called off overnight.", "title": "Strike off", "tags": []},
    {"text": "A record crowd watched the final.", "title": "Record crowd", "tags": ["sport"]},
]


def jsonl(records) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def test_reads_text_ids_and_meta(tmp_path, split):
    (tmp_path / "news.jsonl").write_text(jsonl(ARTICLES), encoding="utf-8")

    docs, rejected = split(JsonlReader(path=str(tmp_path / "news.jsonl")).read())

    assert rejected == []
    assert [d.id for d in docs] == ["a1", "7", "news.jsonl:3"]
    assert docs[0].text == "The harbour reopened after the storm."
    assert docs[0].meta == {
        "title": "Harbour reopens",
        "tags": ["sea"],
        "source": (tmp_path / "news.jsonl").as_posix(),
        "line": 1,
    }


def test_custom_fields_and_selected_meta(tmp_path, split):
    records = [
        {"key": "x", "body": "Body one.", "lang": "en", "noise": 1},
        {"key": "y", "body": "Body two."},
    ]
    (tmp_path / "a.jsonl").write_text(jsonl(records), encoding="utf-8")

    reader = JsonlReader(
        path=str(tmp_path), text_field="body", id_field="key", meta_fields=["lang"]
    )
    docs, rejected = split(reader.read())

    assert rejected == []
    assert [(d.id, d.text, d.meta["lang"]) for d in docs] == [
        ("x", "Body one.", "en"),
        ("y", "Body two.", None),
    ]
    assert "noise" not in docs[0].meta

    docs, _ = split(JsonlReader(path=str(tmp_path), text_field="body", id_field=None).read())
    assert [d.id for d in docs] == ["a.jsonl:1", "a.jsonl:2"]
    assert docs[0].meta["key"] == "x"


def test_gzip_bz2_and_glob(tmp_path, split):
    (tmp_path / "one.jsonl.gz").write_bytes(gzip.compress(jsonl(ARTICLES[:2]).encode()))
    (tmp_path / "two.jsonl.bz2").write_bytes(bz2.compress(jsonl(ARTICLES[2:]).encode()))
    (tmp_path / "skip.txt").write_text("not matched")

    docs, rejected = split(JsonlReader(path=f"{tmp_path}/*.jsonl*").read())

    assert rejected == []
    assert [d.id for d in docs] == ["a1", "7", "two.jsonl.bz2:1"]


def test_every_bad_line_is_rejected_with_its_line_number(tmp_path, split):
    lines = [
        json.dumps(ARTICLES[0]),
        '{"id": "broken", "text": "no closing brace"',
        "[1, 2, 3]",
        '"just a string"',
        json.dumps({"id": "n", "body": "wrong field"}),
        json.dumps({"id": "t", "text": 42}),
        json.dumps({"id": ["x"], "text": "id is a list"}),
        "",
        "   ",
        json.dumps(ARTICLES[1]),
    ]
    data = ("\n".join(lines) + "\n").encode() + b'{"id": "latin", "text": "caf\xe9"}\n'
    (tmp_path / "mixed.jsonl").write_bytes(data)

    docs, rejected = split(JsonlReader(path=str(tmp_path)).read())

    assert [d.id for d in docs] == ["a1", "7"]
    reasons = {r.position: r.reason for r in rejected}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 11]
    assert reasons[2].startswith("malformed JSON")
    assert reasons[3] == "line is an array, expected a JSON object"
    assert reasons[4] == "line is a string, expected a JSON object"
    assert reasons[5] == "no text field 'text' (fields: 'id', 'body')"
    assert reasons[6] == "text field 'text' is a number, expected a string"
    assert reasons[7] == "id field 'id' is an array, expected a string or an integer"
    assert reasons[11].startswith("not valid UTF-8: cannot decode byte 0xe9")
    assert all(r.source.endswith("mixed.jsonl") and r.excerpt for r in rejected)
    assert rejected[0].id == "mixed.jsonl:2"
    assert len(docs) + len(rejected) == 9  # blank lines are not items


def test_truncated_gzip_rejects_the_rest_of_the_file(tmp_path, split):
    records = [{"id": i, "text": f"Article number {i} about the weather."} for i in range(3000)]
    data = gzip.compress(jsonl(records).encode())
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])

    docs, rejected = split(JsonlReader(path=str(tmp_path)).read())

    assert 0 < len(docs) < 3000
    assert [r.position for r in rejected] == [len(docs) + 1]
    assert "truncated" in rejected[0].reason


def test_bom_and_crlf(tmp_path, split):
    (tmp_path / "bom.jsonl").write_bytes(
        b"\xef\xbb\xbf" + jsonl(ARTICLES).replace("\n", "\r\n").encode()
    )

    docs, rejected = split(JsonlReader(path=str(tmp_path)).read())

    assert rejected == [] and len(docs) == 3


def test_sample_file_and_determinism(samples, split):
    reader = JsonlReader(path=str(samples / "sample_articles.jsonl"))
    docs, rejected = split(reader.read())
    assert rejected == []
    assert [d.id for d in docs] == ["gazette-101", "gazette-102", "gazette-103"]
    assert [d.meta["label"] for d in docs] == ["transport", "nature", "education"]
    assert [(d.id, d.text) for d in reader.read()] == [(d.id, d.text) for d in docs]


@pytest.mark.parametrize("compress", [None, gzip.compress])
def test_streams_without_holding_the_file(tmp_path, compress):
    data = jsonl(
        {"id": i, "text": "Words about a town and its river, told once more."}
        for i in range(40_000)
    )
    raw = data.encode()
    name = "big.jsonl.gz" if compress else "big.jsonl"
    (tmp_path / name).write_bytes(compress(raw) if compress else raw)  # about 3 MB uncompressed

    # Ids taken from the records are remembered to report repeats, which costs memory per
    # id; what must not be held is the file itself, so ids here come from line numbers.
    tracemalloc.start()
    count = sum(1 for _ in JsonlReader(path=str(tmp_path), id_field=None).read())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert count == 40_000
    assert peak < 1_000_000, f"peak {peak} bytes: the reader seems to hold the file"


def test_repeated_ids_are_quarantined_naming_the_first_line(tmp_path, shared_data, split):
    path = shared_data / "summarization" / "bbc_news_summary_first_half.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    lines = path.read_bytes().splitlines(keepends=True)[:100]
    (tmp_path / "twice.jsonl").write_bytes(b"".join(lines + lines[10:15]))  # an export run twice
    ids = [json.loads(line)["id"] for line in lines]

    whole, whole_rejected = split(JsonlReader(path=str(path), text_field="article").read())
    docs, rejected = split(JsonlReader(path=str(tmp_path), text_field="article").read())

    assert len(whole) == 1111 and whole_rejected == []  # the real file's ids are unique
    assert [d.id for d in docs] == ids
    assert [(r.position, r.id, r.reason) for r in rejected] == [
        (
            101 + i,
            ids[10 + i],
            f"duplicate id {ids[10 + i]!r}: line {11 + i} of this file has the same id",
        )
        for i in range(5)
    ]
