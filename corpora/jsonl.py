"""The `jsonl` reader: one JSON object per line, one document per object."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from pipeline.document import Document, Rejected
from pipeline.registry import register

from ._corpus_file import READ_ERRORS, CorpusFile, read_error_reason
from ._decoding import bom_encoding, is_wide, iter_lines
from ._duplicates import FirstOccurrences
from ._files import open_binary
from .file_reader import FileReader

__all__ = ["JsonlReader"]

EXCERPT_CHARS = 200
_JSON_TYPES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    type(None): "null",
}


@register("reader", "jsonl")
class JsonlReader(FileReader):
    """JSON Lines files (a file, a folder or a glob; .gz/.bz2 too), one document per JSON object.

    The text comes from `text_field`; the id from `id_field` (a string or integer),
    else `<relative path>:<line>`. `meta_fields` picks the fields copied into `meta`
    (None: every field but the text and id). `meta["source"]` (file path) and
    `meta["line"]` are always set and win over record fields of the same name.
    Blank lines are skipped; malformed JSON, non-object lines, a missing or
    non-string text field, and an id repeated from an earlier line of the same file
    (the reason names that line) become `Rejected` records at their 1-based line number.
    """

    suffixes = (".jsonl", ".ndjson", ".json")

    def __init__(
        self,
        *,
        path: str,
        text_field: str = "text",
        id_field: str | None = "id",
        meta_fields: list[str] | None = None,
    ):
        self.path = path
        self.text_field = text_field
        self.id_field = id_field
        self.meta_fields = meta_fields

    def read_file(self, corpus_file: CorpusFile) -> Iterator[Document | Rejected]:
        """One document (or rejection) per non-blank line; a read error ends the file at its line.

        Lines are UTF-8 (as JSON Lines says), or UTF-16/32 when the file starts with their
        byte-order mark.
        """
        first_ids = FirstOccurrences("line")
        for item in self._items(corpus_file):
            # Ids made from the line number are unique; only ids from the records can repeat.
            if (
                isinstance(item, Document)
                and item.id != f"{corpus_file.relative}:{item.meta['line']}"
            ):
                item = first_ids.check(item, item.meta["line"])
            yield item

    def _items(self, corpus_file: CorpusFile) -> Iterator[Document | Rejected]:
        with open_binary(corpus_file.path) as stream:
            bom = bom_encoding(stream.read(4))
        if bom is not None and is_wide(bom):
            yield from self._wide_file(corpus_file, bom)
            return
        number = 0
        try:
            with open_binary(corpus_file.path) as stream:
                for number, raw in enumerate(stream, start=1):  # noqa: B007 - read after the loop
                    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                        raw = raw[3:]
                    if raw.strip():
                        yield self._record(corpus_file, number, raw)
        except READ_ERRORS as exc:
            position = number + 1 if number else None
            yield Rejected(
                corpus_file.source, position, f"{read_error_reason(exc)} (after line {number})"
            )

    def _wide_file(self, corpus_file: CorpusFile, encoding: str) -> Iterator[Document | Rejected]:
        with open_binary(corpus_file.path) as stream:
            for line in iter_lines(stream, encoding):
                if line.error is not None:
                    yield Rejected(corpus_file.source, line.number, line.error)
                elif line.text and line.text.strip():
                    yield self._record(corpus_file, line.number, line.text)

    def _record(
        self, corpus_file: CorpusFile, number: int, raw: bytes | str
    ) -> Document | Rejected:
        source = corpus_file.source
        line_id = f"{corpus_file.relative}:{number}"
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return Rejected(
                source, number, _json_error(raw, exc), id=line_id, excerpt=_excerpt(raw)
            )
        if not isinstance(record, dict):
            kind = _JSON_TYPES.get(type(record), "a number")
            return Rejected(
                source,
                number,
                f"line is {kind}, expected a JSON object",
                id=line_id,
                excerpt=_excerpt(raw),
            )
        if self.text_field not in record:
            fields = ", ".join(map(repr, record)) or "none"
            reason = f"no text field {self.text_field!r} (fields: {fields})"
            return Rejected(source, number, reason, id=line_id, excerpt=_excerpt(raw))
        text = record[self.text_field]
        if not isinstance(text, str):
            kind = _JSON_TYPES.get(type(text), "a number")
            reason = f"text field {self.text_field!r} is {kind}, expected a string"
            return Rejected(source, number, reason, id=line_id, excerpt=_excerpt(raw))
        doc_id = line_id
        if self.id_field is not None and record.get(self.id_field) is not None:
            value = record[self.id_field]
            if isinstance(value, bool) or not isinstance(value, str | int):
                kind = _JSON_TYPES.get(type(value), "a number")
                reason = f"id field {self.id_field!r} is {kind}, expected a string or an integer"
                return Rejected(source, number, reason, id=line_id, excerpt=_excerpt(raw))
            doc_id = str(value)
        meta = self._meta(record)
        meta["source"] = source
        meta["line"] = number
        return Document(id=doc_id, text=text, meta=meta)

    def _meta(self, record: dict[str, Any]) -> dict[str, Any]:
        if self.meta_fields is not None:
            return {name: record.get(name) for name in self.meta_fields}
        skip = (self.text_field, self.id_field)
        return {key: value for key, value in record.items() if key not in skip}


def _json_error(raw: bytes | str, exc: Exception) -> str:
    """Say why a line is not JSON; undecodable UTF-8 is named as such."""
    if isinstance(raw, str):
        return f"malformed JSON: {exc}"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as decode_exc:
        bad = raw[decode_exc.start : decode_exc.start + 1].hex()
        return f"not valid UTF-8: cannot decode byte 0x{bad} at byte {decode_exc.start} of the line"
    return f"malformed JSON: {exc}"


def _excerpt(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw.rstrip("\r\n")[:EXCERPT_CHARS]
    return raw[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace").rstrip("\r\n")[:EXCERPT_CHARS]
