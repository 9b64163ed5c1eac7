"""Text that is right: legacy encodings detected and decoded, byte-order marks honoured, by every reader.

The texts are the shared data's real feeds: a KOI8-R feed that declares no encoding,
Portuguese news in Latin-1 without a declaration, and the titles of a Portuguese
(ISO-8859-1) and a German (UTF-8) feed written out in the encodings users meet.
"""

from __future__ import annotations

import codecs
import html
import json
import re
from pathlib import Path

import pytest

from corpora import CsvReader, FeedReader, HtmlReader, JsonlReader, TextReader

MOJIBAKE = re.compile("[ÃÂÐÑ][\x80-\xbf]|[\x80-\x9f]")  # UTF-8 read as Latin-1, or C1 controls


def _titles(split, feed: Path) -> list[str]:
    docs, _ = split(FeedReader(path=str(feed)).read())
    return [d.meta["title"] for d in docs if d.meta["title"]]


def _quoted(field: str) -> str:
    return field.replace('"', '""')


@pytest.fixture(scope="module")
def portuguese_titles(shared_feeds: Path, split) -> list[str]:
    titles = _titles(split, shared_feeds / "real" / "encoding.rss")
    assert len(titles) == 40 and "Mãe de utente é a nova presidente da Raríssimas" in titles
    return titles


@pytest.fixture(scope="module")
def german_titles(shared_feeds: Path, split) -> list[str]:
    titles = _titles(split, shared_feeds / "real" / "heise.atom")
    assert "Scrum Day 2016: Bewerbungen für Vorträge und Workshops" in titles
    return titles


def test_koi8r_feed_without_declared_encoding_reads_as_russian(shared_feeds, split):
    path = shared_feeds / "malformed" / "koi8r.xml"
    raw = path.read_bytes()
    title = raw.split(b"<title>")[1].split(b"</title>")[0].decode("koi8-r")
    description = raw.split(b"<description>")[1].split(b"</description>")[0].decode("koi8-r")
    first_words = " ".join(html.unescape(description).split()[:12])

    docs, rejected = split(FeedReader(path=str(path)).read())

    assert rejected == []
    assert [d.meta["title"] for d in docs] == [title] == ["Как пережить новогоднюю ночь"]
    assert docs[0].text.startswith(f"{title}\n\n{first_words}")
    words = re.findall(r"\w+", docs[0].text)
    assert all(re.fullmatch("[А-Яа-яЁё-]+|[0-9]+", w) for w in words), words[:20]


def test_latin1_feed_without_declaration_keeps_its_accents(shared_feeds, split):
    docs, rejected = split(
        FeedReader(path=str(shared_feeds / "malformed" / "uolNoticias.rss")).read()
    )

    assert len(docs) == 15 and rejected == []
    assert docs[0].meta["title"] == (
        "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno"
    )
    assert not any(MOJIBAKE.search(d.text) for d in docs)


def test_text_reader_auto_reads_an_undeclared_latin1_file(shared_feeds, split):
    path = shared_feeds / "malformed" / "uolNoticias.rss"

    (doc,), _ = split(TextReader(path=str(path), encoding="auto").read())

    assert doc.meta["encoding"] == "cp1252"
    assert doc.text == path.read_bytes().decode("latin-1")
    assert "simulações de 2º turno" in doc.text


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_text_reader_auto_line_mode_on_portuguese_and_german(
    tmp_path, split, portuguese_titles, german_titles, encoding
):
    titles = portuguese_titles + [t.replace("–", "-") for t in german_titles]
    (tmp_path / "titles.txt").write_bytes("\n".join(titles).encode(encoding))

    docs, rejected = split(TextReader(path=str(tmp_path), encoding="auto", mode="line").read())

    assert rejected == []
    assert [d.text for d in docs] == titles


def test_csv_reader_auto_reads_cp1252_with_typographic_quotes(tmp_path, split, portuguese_titles):
    titles = [f"“{t}” – {i}" for i, t in enumerate(portuguese_titles[:10])]
    rows = "".join(f'{i},"{_quoted(t)}"\n' for i, t in enumerate(titles))
    (tmp_path / "pt.csv").write_bytes(f"id,text\n{rows}".encode("cp1252"))

    docs, rejected = split(CsvReader(path=str(tmp_path), id_column="id", encoding="auto").read())

    assert rejected == []
    assert [d.text for d in docs] == titles


def test_html_reader_reads_latin1_pages_declared_or_not(tmp_path, split, portuguese_titles):
    paragraphs = "".join(f"<p>{t}.</p>" for t in portuguese_titles[:20])
    body = f"<body><article><h1>“{portuguese_titles[0]}”</h1>{paragraphs}</article></body>"
    undeclared = f"<html><head><title>Notícias</title></head>{body}</html>"
    labelled = undeclared.replace("<head>", '<head><meta charset="iso-8859-1">')
    (tmp_path / "undeclared.html").write_bytes(undeclared.encode("cp1252"))
    (tmp_path / "labelled.html").write_bytes(labelled.encode("cp1252"))

    docs, rejected = split(HtmlReader(path=str(tmp_path)).read())

    assert rejected == []
    for doc in docs:
        assert doc.meta["title"] == "Notícias"
        assert portuguese_titles[5] in doc.text
        assert f"“{portuguese_titles[0]}”" in doc.text
        assert doc.meta["encoding"] == "cp1252"


def test_a_utf16_feed_with_a_bom_is_decoded_not_called_binary(shared_feeds, split):
    path = shared_feeds / "malformed" / "utf-16le-bom.xml"

    _, (feed_rejection,) = split(FeedReader(path=str(path)).read())
    (doc,), _ = split(TextReader(path=str(path), encoding="utf-8").read())

    assert feed_rejection.reason == "the feed has no items"
    assert doc.meta["encoding"] == "utf-16"
    assert "Wellformed UTF-16 with Byte Order Mark" in doc.text


BOMS = {
    "utf-16-le": codecs.BOM_UTF16_LE,
    "utf-16-be": codecs.BOM_UTF16_BE,
    "utf-32-le": codecs.BOM_UTF32_LE,
    "utf-32-be": codecs.BOM_UTF32_BE,
}


@pytest.mark.parametrize("encoding", sorted(BOMS))
@pytest.mark.parametrize("configured", ["utf-8", "auto"])
def test_utf16_and_utf32_with_a_bom_are_decoded_by_every_reader(
    tmp_path, split, shared_feeds, portuguese_titles, encoding, configured
):
    russian = _titles(split, shared_feeds / "malformed" / "koi8r.xml")
    titles = portuguese_titles[:5] + russian

    def write(name: str, text: str) -> str:
        (tmp_path / name).write_bytes(BOMS[encoding] + text.encode(encoding))
        return str(tmp_path / name)

    text_docs, text_rejected = split(
        TextReader(path=write("t.txt", "\n".join(titles)), encoding=configured, mode="line").read()
    )
    csv_rows = "".join(f'{i},"{_quoted(t)}"\n' for i, t in enumerate(titles))
    csv_docs, csv_rejected = split(
        CsvReader(path=write("t.csv", f"id,text\n{csv_rows}"), encoding=configured).read()
    )
    jsonl = "".join(
        json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(titles)
    )
    jsonl_docs, jsonl_rejected = split(JsonlReader(path=write("t.jsonl", jsonl)).read())
    page = "<html><head><title>t</title></head><body>" + "".join(f"<p>{t}.</p>" for t in titles)
    html_docs, html_rejected = split(
        HtmlReader(path=write("t.html", page + "</body></html>"), encoding=configured).read()
    )

    assert text_rejected == csv_rejected == jsonl_rejected == html_rejected == []
    assert [d.text for d in text_docs] == [d.text for d in csv_docs] == titles
    assert [d.text for d in jsonl_docs] == titles
    assert all(t in html_docs[0].text for t in titles)
