"""The `feeds` reader: RSS 2.0, RSS 1.0 (RDF) and Atom files, one document per item.

Feeds are untrusted XML. Before feedparser sees a file, defusedxml parses it with
entity declarations forbidden, so entity-expansion bombs ("billion laughs", quadratic
blowup) and external entities (XXE: local files, URLs) are refused up front. DOCTYPE
references to external DTDs (as in RSS 0.91) are allowed: nothing ever fetches them.
feedparser gets the bytes in a stream (never a string it could take for a URL or a
path) and does not resolve relative URIs.
"""

from __future__ import annotations

import calendar
import io
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field

from pipeline.document import Document, Rejected, content_id
from pipeline.language import declared_language
from pipeline.registry import register

from ._corpus_file import CorpusFile
from ._decoding import bom_encoding
from ._detect import detect_encoding
from ._files import read_bytes
from ._html import html_to_text
from .file_reader import FileReader

__all__ = ["FeedReader", "as_declared_xml", "unsafe_xml_reason"]

logger = logging.getLogger(__name__)

_ENTITY_MARKERS = tuple("<!ENTITY".encode(codec) for codec in ("ascii", "utf-16-le", "utf-16-be"))
_XML_DECLARATION = re.compile(rb"\s*<\?xml\b[^>]*?\?>")
_DECLARED_ENCODING = re.compile(rb"""\bencoding\s*=\s*["']""")


@register("reader", "feeds")
class FeedReader(FileReader):
    """RSS/Atom/RDF feed files (a file, a folder or a glob), one document per item; parsed offline and safely.

    Text is the item title, a blank line, and the plain text of its content (else its
    summary), HTML stripped. The id is the item's GUID, else its link, else a content
    hash. `meta`: source, item (1-based), guid, url, title, published (ISO 8601 in UTC,
    None when the date cannot be parsed; the feed's own string is in published_raw),
    author, categories, feed_title, feed_url, language (when declared). Files over
    `max_file_bytes` (after decompressing), unsafe XML, and files with no items are
    rejected whole; items with neither title nor text, or repeating an id seen earlier
    in the same file, are rejected at their item number.
    """

    suffixes = (".xml", ".rss", ".atom", ".rdf", ".feed")

    def __init__(self, *, path: str, max_file_bytes: Annotated[int, Field(ge=1)] = 50_000_000):
        self.path = path
        self.max_file_bytes = max_file_bytes

    def read_file(self, corpus_file: CorpusFile) -> Iterator[Document | Rejected]:
        """One document (or rejection) per item; oversized, unsafe or item-less files are rejected."""
        import feedparser

        source = corpus_file.source
        data = as_declared_xml(read_bytes(corpus_file.path, self.max_file_bytes))
        refusal = unsafe_xml_reason(data)
        if refusal is not None:
            yield Rejected(source, None, refusal)
            return
        # No sanitizing: markup becomes plain text (scripts, styles and the like dropped) in
        # html_to_text, and nothing is ever rendered; feedparser's sanitizer was half the read time.
        parsed = feedparser.parse(
            io.BytesIO(data), resolve_relative_uris=False, sanitize_html=False
        )
        entries = parsed.get("entries") or []
        if not entries:
            yield Rejected(source, None, _no_items_reason(parsed))
            return
        if parsed.get("bozo"):
            logger.info("%s is not a well-formed feed (%s); reading the %d items recovered",
                        source, parsed.get("bozo_exception"), len(entries))  # fmt: skip
        feed = parsed.get("feed") or {}
        seen: dict[str, int] = {}
        for number, entry in enumerate(entries, start=1):
            yield _item(corpus_file, number, entry, feed, seen)


def _item(
    corpus_file: CorpusFile, number: int, entry: Any, feed: Any, seen: dict[str, int]
) -> Document | Rejected:
    """The document for one feed item, or its rejection."""
    title = _plain(entry.get("title"), entry.get("title_detail"))
    body = _body(entry)
    guid = (entry.get("id") or "").strip() or None
    link = (entry.get("link") or "").strip() or None
    if not title and not body:
        return Rejected(
            corpus_file.source, number, "item has neither a title nor any text", id=guid or link
        )
    text = f"{title}\n\n{body}" if title and body else title or body
    doc_id = guid or link or content_id(text)
    if doc_id in seen:
        reason = f"duplicate item id {doc_id!r}: item {seen[doc_id]} of this file has it too"
        return Rejected(corpus_file.source, number, reason, id=doc_id, excerpt=title[:200] or None)
    seen[doc_id] = number
    # Plain dict lookups: feedparser's own mapping of updated* to published* warns.
    published_raw = dict.get(entry, "published") or dict.get(entry, "updated") or None
    published = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    meta = {
        "source": corpus_file.source,
        "item": number,
        "guid": guid,
        "url": link,
        "title": title or None,
        "published": _iso_date(published),
        "published_raw": published_raw,
        "author": entry.get("author") or None,
        "categories": _categories(entry),
        "feed_title": _plain(feed.get("title"), feed.get("title_detail")) or None,
        "feed_url": feed.get("link") or None,
    }
    language = declared_language(entry.get("language") or feed.get("language"))
    if language:  # the declared <language> ("de-DE" -> "de"); the runner detects the others
        meta["language"] = language
    return Document(id=doc_id, text=text, meta=meta)


def as_declared_xml(data: bytes) -> bytes:
    """`data` re-encoded as UTF-8 with a declaration saying so, when it declares no encoding
    and is not UTF-8 (XML's default); else `data` unchanged.

    Without this, feedparser reads such a feed as windows-1252 and a KOI8-R feed's
    titles come out as "ëÁË ÐÅÒÅÖÉÔØ". The encoding is detected with charset-normalizer
    (`detect_encoding`); a byte-order mark or an `encoding=` declaration is trusted.
    """
    declaration = _XML_DECLARATION.match(data)
    if bom_encoding(data) is not None or (
        declaration is not None and _DECLARED_ENCODING.search(declaration.group())
    ):
        return data
    encoding = detect_encoding(data)
    if encoding is None or encoding == "utf-8":
        return data
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return data
    body = text[declaration.end() :] if declaration is not None else text.lstrip()
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body.encode("utf-8")


def unsafe_xml_reason(data: bytes) -> str | None:
    """Why `data` is XML the readers refuse to parse (entity declarations, external entities), or None.

    Not-well-formed data passes (feedparser recovers what it can from it) unless it
    contains an entity declaration, which then cannot be checked and is refused.
    """
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden
    from defusedxml.ElementTree import DefusedXMLParser

    parser = DefusedXMLParser(target=_Discard())
    try:
        parser.feed(data.lstrip(b" \t\r\n"))
        parser.close()
    except EntitiesForbidden as exc:
        if exc.sysid or exc.pubid:
            return (
                f"unsafe XML refused: declares the external entity {exc.name!r} ({exc.sysid or exc.pubid}); "
                "external entities read local files or URLs, so none are accepted"
            )
        return (
            f"unsafe XML refused: declares the entity {exc.name!r}; entity declarations can expand "
            "exponentially (a 'billion laughs' bomb), so none are accepted"
        )
    except ExternalReferenceForbidden as exc:
        return f"unsafe XML refused: refers to the external resource {exc.sysid!r}"
    except DefusedXmlException as exc:
        return f"unsafe XML refused: {exc}"
    except (ParseError, LookupError, ValueError):
        if any(marker in data for marker in _ENTITY_MARKERS):
            return "unsafe XML refused: declares entities in a document that is not well-formed XML"
    return None


class _Discard:
    """An XML parser target that keeps nothing: the safety check builds no tree."""


def _no_items_reason(parsed: Any) -> str:
    if parsed.get("bozo"):
        return f"not a readable feed: {parsed.get('bozo_exception')}"
    if not parsed.get("version"):
        return "not an RSS, Atom or RDF feed"
    return "the feed has no items"


def _plain(value: str | None, detail: Any) -> str:
    """Plain text of a feed text construct, stripping markup when its type is HTML."""
    if not value:
        return ""
    kind = (detail or {}).get("type") or "text/html"
    if "html" in kind:
        return html_to_text(value)
    return " ".join(value.split())


def _body(entry: Any) -> str:
    """Plain text of the item's content, else of its summary."""
    for content in entry.get("content") or []:
        text = _plain(content.get("value"), content)
        if text:
            return text
    return _plain(entry.get("summary"), entry.get("summary_detail"))


def _iso_date(parsed: Any) -> str | None:
    """ISO 8601 (UTC) of feedparser's parsed date, None when there is none or it is invalid."""
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC).isoformat()
    except (TypeError, ValueError, OverflowError):
        return None


def _categories(entry: Any) -> list[str]:
    terms: list[str] = []
    for tag in entry.get("tags") or []:
        term = " ".join((tag.get("term") or "").split())
        if term and term not in terms:
            terms.append(term)
    return terms
