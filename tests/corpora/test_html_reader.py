"""The `html` reader: main-text extraction, metadata, encodings, fallbacks and bad pages."""

from __future__ import annotations

import gzip

from corpora import HtmlReader

PARAGRAPHS = [
    "The Millbrook river rose by almost two metres overnight, flooding the lower streets of the old town "
    "and forcing the closure of the market square for the first time since 1998.",
    "Residents were woken before dawn by the fire service, who went door to door along Mill Lane and "
    "Water Street. Most families stayed with neighbours on higher ground; the sports hall opened as a shelter.",
    "By the afternoon the water had begun to fall. Engineers said the new flood wall had held, and that "
    "without it the damage would have been far worse for the shops along the quay.",
]

ARTICLE = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>River floods old town | Millbrook Gazette</title>
  <link rel="canonical" href="https://gazette.example.org/2024/03/river-floods">
  <meta property="og:url" content="https://gazette.example.org/og/river-floods">
  <style>body {{ font-family: serif; }}</style>
</head>
<body>
  <nav><a href="/">Home</a> | <a href="/news">News</a> | <a href="/sport">Sport</a> | <a href="/contact">Contact</a></nav>
  <article>
    <h1>River floods old town</h1>
    <p>{PARAGRAPHS[0]}</p>
    <p>{PARAGRAPHS[1]}</p>
    <p>{PARAGRAPHS[2]}</p>
  </article>
  <div class="comments"><h3>Comments</h3><p>First! Great article, really enjoyed it.</p></div>
  <footer>Copyright 2024 Millbrook Gazette. All rights reserved. Privacy policy. Cookie settings.</footer>
  <script>window.tracker = "do not keep";</script>
</body>
</html>
"""


def test_main_text_title_and_canonical_url(tmp_path, split):
    (tmp_path / "flood.html").write_text(ARTICLE, encoding="utf-8")

    docs, rejected = split(HtmlReader(path=str(tmp_path)).read())

    assert rejected == []
    (doc,) = docs
    assert doc.id == "flood.html"
    for paragraph in PARAGRAPHS:
        assert paragraph in doc.text
    for boilerplate in ["Cookie settings", "tracker", "font-family", "Contact"]:
        assert boilerplate not in doc.text
    assert doc.meta == {
        "source": (tmp_path / "flood.html").as_posix(),
        "title": "River floods old town | Millbrook Gazette",
        "url": "https://gazette.example.org/2024/03/river-floods",
        "encoding": "utf-8",
        "extractor": "trafilatura",
    }


def test_og_url_when_no_canonical_and_declared_legacy_charset(tmp_path, split):
    page = ARTICLE.replace(
        '<meta charset="utf-8">',
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">',
    )
    page = page.replace(
        '<link rel="canonical" href="https://gazette.example.org/2024/03/river-floods">', ""
    )
    page = page.replace(
        "first time since 1998", "first time since 1998 – “a shock”, said the mayor"
    )
    (tmp_path / "legacy.htm").write_bytes(page.encode("cp1252"))

    (doc,), _ = split(HtmlReader(path=str(tmp_path)).read())

    assert doc.meta["url"] == "https://gazette.example.org/og/river-floods"
    assert doc.meta["encoding"] == "cp1252"
    assert "– “a shock”, said the mayor" in doc.text


def test_body_text_fallback_when_there_is_no_main_text(tmp_path, split):
    # trafilatura treats asides and footers as boilerplate and keeps nothing of this page
    page = '<html><body><aside>Closed today.</aside><div id="footer">Back tomorrow.</div></body></html>'
    (tmp_path / "short.html").write_text(page)

    (doc,), rejected = split(HtmlReader(path=str(tmp_path)).read())

    assert rejected == []
    assert doc.text == "Closed today.\n\nBack tomorrow."
    assert doc.meta["extractor"] == "body"
    assert doc.meta["title"] is None and doc.meta["url"] is None


def test_bad_pages_are_rejected_each_with_a_reason(tmp_path, split):
    (tmp_path / "empty.html").write_text("   \n")
    (tmp_path / "no_text.html").write_text(
        "<html><head><title>Only a title</title></head><body><img src=x></body></html>"
    )
    (tmp_path / "binary.html").write_bytes(b"GIF89a\x01\x00\x01\x00\x00\xff\x00," + bytes(200))
    (tmp_path / "bad_bytes.html").write_bytes(b"<html><body><p>Caf\xe9</p></body></html>")
    (tmp_path / "zipped.html.gz").write_bytes(gzip.compress(ARTICLE.encode())[:200])
    (tmp_path / "fine.html.gz").write_bytes(gzip.compress(ARTICLE.encode()))

    docs, rejected = split(HtmlReader(path=str(tmp_path), encoding="utf-8").read())

    assert [d.id for d in docs] == ["fine.html.gz"]
    reasons = {r.source.rsplit("/", 1)[-1]: r.reason for r in rejected}
    assert reasons == {
        "bad_bytes.html": "not valid utf-8: cannot decode byte 0xe9 at byte offset 18",
        "binary.html": "binary file: contains NUL bytes",
        "empty.html": "empty page",
        "no_text.html": "no text found in the page",
        "zipped.html.gz": reasons["zipped.html.gz"],
    }
    assert "truncated" in reasons["zipped.html.gz"]
    assert all(r.position is None for r in rejected)


def test_auto_encoding_recovers_a_page_that_lies_about_its_charset(tmp_path, split):
    page = ARTICLE.replace("first time since 1998", "first time since 1998, said Mayor Zoë Brontë")
    (tmp_path / "lying.html").write_bytes(
        page.replace('charset="utf-8"', 'charset="ascii"').encode("utf-8")
    )

    (doc,), _ = split(HtmlReader(path=str(tmp_path)).read())

    assert "Mayor Zoë Brontë" in doc.text


def test_count_and_determinism(tmp_path):
    for name in ["b.html", "a.htm", "sub/c.html"]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(ARTICLE)
    (tmp_path / "notes.txt").write_text("not a page")
    reader = HtmlReader(path=str(tmp_path))

    first = [(d.id, d.text) for d in reader.read()]

    assert [i for i, _ in first] == ["a.htm", "b.html", "sub/c.html"]
    assert first == [(d.id, d.text) for d in reader.read()]
    assert reader.count() == 3
