"""Property tests: readers never raise on arbitrary bytes or Unicode, and what they give tokenizes.

Texts mix any code point (lone surrogates, control characters, right-to-left scripts,
combining marks, emoji) with raw bytes. Every reader must turn each input item into a
`Document` or a `Rejected` record, never an exception; the engine's own check must accept
each item; and every token of every document slices the original text.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from components import Tokenize
from corpora.csv_rows import CsvReader
from corpora.feeds import FeedReader
from corpora.jsonl import JsonlReader
from corpora.text import TextReader
from pipeline.document import Document, Rejected
from pipeline.shards import check_item

PIECES = [
    "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",  # Hebrew (right to left)
    "\u0645\u0631\u062d\u0628\u0627",  # Arabic
    "\u202e\u202d\u200f\u200e",  # bidi overrides and marks
    "e\u0301\u0302\u0303",  # stacked combining marks
    "\u0301",  # a combining mark with nothing to combine with
    "\ud800",
    "\udfff",  # lone surrogates
    "\x00",
    "\x07",
    "\x1b[31m",
    "\x7f",
    "\x85",  # control characters
    "\r\n",
    "\n\n",
    "\u2028",
    "\u2029",
    "\t",
    "\ufeff",
    "\ufffd",
    "\U0001f600\u200d\U0001f4bb",
    "\ufb01",
    "Mr. O'Neill said: \"don't\".",
    "<b>&amp;</b>",
]
texts = st.lists(
    st.one_of(st.text(st.characters(blacklist_categories=()), max_size=8), st.sampled_from(PIECES)),
    max_size=12,
).map("".join)
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TOKENIZERS = [Tokenize(backend="regex"), Tokenize(backend="spacy")]


def encode(text: str) -> bytes:
    """UTF-8, lone surrogates written as the (invalid) bytes they would take."""
    return text.encode("utf-8", "surrogatepass")


def read_all(reader) -> list[Document | Rejected]:
    items = list(reader.read())
    for position, item in enumerate(items):
        assert isinstance(item, Document | Rejected), type(item)
        if isinstance(item, Rejected):
            assert item.reason and item.source
        kind, _, _ = check_item(item, position, 1_000_000)  # the engine's check never raises
        assert kind in ("doc", "rejected")
    return items


def assert_tokens_slice_the_text(docs: list[Document]) -> None:
    for doc in docs:
        for tokenizer in TOKENIZERS:
            tokenizer(doc)
            previous_end = 0
            for token in doc.tokens:
                assert previous_end <= token.start < token.end <= len(doc.text)
                assert token.text == doc.text[token.start : token.end]
                previous_end = token.end


def documents(items: list[Document | Rejected]) -> list[Document]:
    docs = [item for item in items if isinstance(item, Document)]
    event(f"documents: {min(len(docs), 3)}{'+' if len(docs) >= 3 else ''}")
    event(f"rejected: {'some' if len(docs) < len(items) else 'none'}")
    return docs


@SETTINGS
@given(
    st.lists(st.one_of(texts.map(encode), st.binary(max_size=40)), max_size=6).map(b"".join),
    st.sampled_from(["file", "line", "paragraph"]),
    st.sampled_from(["utf-8", "auto"]),
)
def test_text_reader_never_raises(data, mode, encoding):
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "news.txt").write_bytes(data)
        items = read_all(TextReader(path=folder, mode=mode, encoding=encoding))
    docs = documents(items)
    if mode == "file":
        assert len(items) == 1
    assert_tokens_slice_the_text(docs)


@SETTINGS
@given(
    st.lists(
        st.one_of(
            st.tuples(texts, st.booleans()),  # (text, ensure_ascii)
            st.binary(max_size=30),  # a garbage line
        ),
        max_size=8,
    )
)
def test_jsonl_reader_never_raises_and_keeps_texts_exactly(records):
    lines = []
    originals = {}
    for n, record in enumerate(records):
        if isinstance(record, bytes):
            lines.append(record.replace(b"\n", b" "))
            continue
        text, ensure_ascii = record
        originals[f"r{n}"] = text
        lines.append(encode(json.dumps({"id": f"r{n}", "text": text}, ensure_ascii=ensure_ascii)))
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "news.jsonl").write_bytes(b"\n".join(lines) + b"\n")
        items = read_all(JsonlReader(path=folder))
    # Only the file's first line may start with a byte-order mark; elsewhere it is malformed JSON.
    non_blank = [
        line
        for number, line in enumerate(lines)
        if line.strip() and not (number == 0 and line.strip() == b"\xef\xbb\xbf")
    ]
    assert len(items) == len(non_blank)
    docs = documents(items)
    for doc in docs:
        if doc.id in originals:
            assert doc.text == originals[doc.id]
    assert_tokens_slice_the_text(docs)


@SETTINGS
@given(st.lists(st.tuples(texts, texts), min_size=1, max_size=6))
def test_csv_reader_never_raises_and_keeps_texts_exactly(rows):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["id", "label", "text"])
    for n, (label, text) in enumerate(rows):
        writer.writerow([f"r{n}", label, text])
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "news.csv").write_bytes(encode(buffer.getvalue()))
        items = read_all(
            CsvReader(path=folder, text_column="text", label_column="label", id_column="id")
        )
    docs = documents(items)
    assert len({d.id for d in docs}) == len(docs)
    for doc in docs:
        if doc.id.startswith("r") and doc.id[1:].isdigit() and int(doc.id[1:]) < len(rows):
            assert doc.text == rows[int(doc.id[1:])][1]
    assert_tokens_slice_the_text(docs)


@SETTINGS
@given(st.lists(st.tuples(texts, texts, texts), min_size=1, max_size=5))
def test_feeds_reader_never_raises_on_any_item_text(items):
    body = "".join(
        f"<item><title>{escape(title)}</title><guid>{escape(guid)}</guid>"
        f"<description>{escape(text)}</description></item>"
        for guid, title, text in items
    )
    xml = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "feed.xml").write_bytes(encode(xml))
        read = read_all(FeedReader(path=folder))
    assert read, "a feed file always yields documents or a rejection"
    assert_tokens_slice_the_text(documents(read))
