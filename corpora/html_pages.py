"""The `html` reader: saved web pages, one document per page with its main text.

Main-text extraction is trafilatura's (boilerplate such as menus, footers and
comments removed), run on the page's markup only: nothing is fetched. When
trafilatura finds no main text, the readable text of `<body>` is used instead.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from pydantic import Field

from pipeline.document import Document, Rejected
from pipeline.registry import register
from pipeline.stage import StageError

from ._corpus_file import CorpusFile
from ._decoding import (
    SNIFF_BYTES,
    binary_reason,
    bom_encoding,
    check_encoding,
    decode_error_reason,
    encoding_problems,
    is_wide,
    resolve_encoding,
)
from ._files import read_bytes
from ._html import element_text
from .file_reader import FileReader

__all__ = ["HtmlReader"]

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)


@register("reader", "html")
class HtmlReader(FileReader):
    """Saved HTML pages (a file, a folder or a glob; .gz/.bz2 too), one document per page with its main text.

    The text is trafilatura's main-text extraction (comments excluded), else the text
    of `<body>`; `meta["extractor"]` says which. `encoding` "auto" tries a byte-order
    mark, else UTF-8, the page's `<meta charset>` (ISO-8859-1 read as windows-1252) and
    the detected encoding; a UTF-16/32 byte-order mark wins over any `encoding`.
    The id is the path relative to the corpus root; `meta`: source, title, url (from
    `<link rel=canonical>` or `og:url`). Undecodable, binary, oversized pages and
    pages without any text are rejected whole.
    """

    suffixes = (".html", ".htm", ".xhtml")

    def __init__(
        self,
        *,
        path: str,
        encoding: str = "auto",
        max_file_bytes: Annotated[int, Field(ge=1)] = 50_000_000,
    ):
        self.path = path
        self.encoding = encoding
        self.max_file_bytes = max_file_bytes

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """What `prepare()` would refuse: an unknown `encoding`."""
        return encoding_problems(params["encoding"])

    def prepare(self) -> None:
        """Check `encoding`."""
        check_encoding(self.encoding)

    def one_item_per_file(self) -> bool:
        """Every page gives one document or one rejection."""
        return True

    def read_file(self, corpus_file: CorpusFile) -> Iterator[Document | Rejected]:
        """The page's main text as one document, or the page's rejection."""
        yield self._read_page(corpus_file)

    def _read_page(self, corpus_file: CorpusFile) -> Document | Rejected:
        import lxml.html
        from lxml import etree

        trafilatura = _import_trafilatura()

        source = corpus_file.source
        data = read_bytes(corpus_file.path, self.max_file_bytes)
        decoded = self._decode(data)
        if isinstance(decoded, str):
            return Rejected(source, None, decoded)
        markup, encoding = decoded
        markup = markup.removeprefix("\ufeff")
        if not markup.strip():
            return Rejected(source, None, "empty page")
        try:
            # lxml refuses str input that carries an XML encoding declaration; strip it.
            root = lxml.html.document_fromstring(_drop_xml_declaration(markup))
        except (etree.ParserError, ValueError) as exc:
            return Rejected(source, None, f"not parseable as HTML: {exc}")
        meta = {
            "source": source,
            "title": _title(root),
            "url": _canonical_url(root),
            "encoding": encoding,
            "extractor": "trafilatura",
        }
        text = trafilatura.extract(markup, include_comments=False)
        if not text or not text.strip():
            body = root.find("body")
            text = element_text(body if body is not None else root)
            meta["extractor"] = "body"
        if not text:
            return Rejected(source, None, "no text found in the page")
        return Document(id=corpus_file.relative, text=text, meta=meta)

    def _decode(self, data: bytes) -> tuple[str, str] | str:
        """The page's text and encoding, or why it cannot be decoded."""
        explicit = self.encoding.lower() != "auto"
        bom = bom_encoding(data)
        if bom is not None and is_wide(bom):
            explicit = False  # a UTF-16/32 byte-order mark wins over a configured encoding
        reason = binary_reason(data[:SNIFF_BYTES], self.encoding if explicit else bom or "utf-8")
        if reason is not None:
            return reason
        error = ""
        for encoding in self._candidates(data):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                error = error or decode_error_reason(exc, encoding, 0)
        return error or "no text encoding fits the page's bytes"

    def _candidates(self, data: bytes) -> Iterator[str]:
        """Encodings to try in order; pages often lie about their charset, so "auto" tries several."""
        bom = bom_encoding(data)
        if bom is not None and (is_wide(bom) or self.encoding.lower() == "auto"):
            yield bom
            return
        if self.encoding.lower() != "auto":
            yield self.encoding
            return
        # Bytes that are UTF-8 (and not ASCII) are almost never text in another encoding.
        yield "utf-8"
        yield from _declared_charset(data)
        detected = resolve_encoding("auto", data)
        if detected is not None:
            yield detected


def _import_trafilatura() -> Any:
    try:
        import trafilatura
    except ImportError as exc:
        # trafilatura 2.x needs lxml's HTML cleaner, a separate package since lxml 5.2.
        raise StageError(
            f"the html reader needs trafilatura, which cannot be imported ({exc}); "
            "install it with: pip install trafilatura lxml_html_clean"
        ) from exc
    return trafilatura


def _declared_charset(data: bytes) -> list[str]:
    """The codec named by the page's `<meta charset>` (or http-equiv), if Python knows it.

    As browsers do (WHATWG Encoding), a page labelled ISO-8859-1 is read as
    windows-1252 first: such pages use its quotes and dashes in the 0x80-0x9F range.
    """
    declared = _META_CHARSET.search(data[:4096])
    if declared is None:
        return []
    try:
        name = codecs.lookup(declared.group(1).decode("ascii")).name
    except LookupError:
        return []
    return ["cp1252", name] if name == "iso8859-1" else [name]


def _drop_xml_declaration(markup: str) -> str:
    if markup.lstrip().startswith("<?xml"):
        end = markup.find("?>")
        if end >= 0:
            return markup[end + 2 :]
    return markup


def _title(root: Any) -> str | None:
    for value in root.xpath("//head/title/text() | //meta[@property='og:title']/@content"):
        title = " ".join(str(value).split())
        if title:
            return title
    return None


def _canonical_url(root: Any) -> str | None:
    query = "//link[translate(@rel,'CANONICAL','canonical')='canonical']/@href | //meta[@property='og:url']/@content"
    for value in root.xpath(query):
        url = str(value).strip()
        if url:
            return url
    return None
