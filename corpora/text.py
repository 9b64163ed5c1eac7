"""The `text` reader: plain-text files, one document per file, line or paragraph."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

from pipeline.document import Document, Rejected
from pipeline.registry import register

from ._corpus_file import CorpusFile
from ._decoding import (
    SNIFF_BYTES,
    TextLine,
    check_encoding,
    decode_error_reason,
    detection_sample,
    encoding_problems,
    is_wide,
    iter_lines,
    sniff_text,
)
from ._files import open_binary
from .file_reader import FileReader

__all__ = ["TextReader"]


@register("reader", "text")
class TextReader(FileReader):
    """Plain-text files (a file, a folder or a glob; .gz/.bz2 too) as one document per file, line or paragraph.

    `mode`: "file" (id `<relative path>`), "line" (one document per non-blank line, id
    `<relative path>:<line>`) or "paragraph" (blank-line separated, id `<relative path>:<first line>`).
    `encoding` decodes strictly; "auto" detects it per file with charset-normalizer.
    Binary, undecodable, unreadable and truncated files or lines become `Rejected`
    records; position is the 1-based line number (None in file mode).
    """

    suffixes = None  # every file of a folder

    def __init__(
        self,
        *,
        path: str,
        encoding: str = "utf-8",
        mode: Literal["file", "line", "paragraph"] = "file",
    ):
        self.path = path
        self.encoding = encoding
        self.mode = mode

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """What `prepare()` would refuse: an unknown `encoding`."""
        return encoding_problems(params["encoding"])

    def prepare(self) -> None:
        """Check `encoding` and `mode`."""
        check_encoding(self.encoding)
        if self.mode not in ("file", "line", "paragraph"):
            raise ValueError(f"mode must be 'file', 'line' or 'paragraph', not {self.mode!r}")

    def one_item_per_file(self) -> bool:
        """In file mode every file gives one document or one rejection."""
        return self.mode == "file"

    def read_file(self, corpus_file: CorpusFile) -> Iterator[Document | Rejected]:
        """The file as one document, or its lines or paragraphs, by `mode`."""
        if self.mode == "file":
            yield self._whole_file(corpus_file)
        else:
            yield from self._parts(corpus_file)

    def _whole_file(self, corpus_file: CorpusFile) -> Document | Rejected:
        source = corpus_file.source
        with open_binary(corpus_file.path) as stream:
            data = stream.read()
        encoding, reason = sniff_text(data, self.encoding)
        if encoding is not None and not is_wide(encoding) and b"\x00" in data:
            encoding, reason = None, "binary file: contains NUL bytes"
        if encoding is None:
            return Rejected(source, None, reason or "")
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            line = None if is_wide(encoding) else data.count(b"\n", 0, exc.start) + 1
            return Rejected(source, None, decode_error_reason(exc, encoding, 0, line))
        if text.startswith("\ufeff"):
            text = text[1:]
        meta = {"source": source, "encoding": encoding}
        return Document(id=corpus_file.relative, text=text, meta=meta)

    def _parts(self, corpus_file: CorpusFile) -> Iterator[Document | Rejected]:
        with open_binary(corpus_file.path) as stream:
            sample = (
                detection_sample(stream)
                if self.encoding.lower() == "auto"
                else stream.read(SNIFF_BYTES)
            )
        encoding, reason = sniff_text(sample, self.encoding)
        if encoding is None:
            yield Rejected(corpus_file.source, None, reason or "")
            return
        with open_binary(corpus_file.path) as stream:
            lines = iter_lines(stream, encoding)
            if self.mode == "line":
                yield from self._lines(corpus_file, lines, encoding)
            else:
                yield from self._paragraphs(corpus_file, lines, encoding)

    def _lines(
        self, corpus_file: CorpusFile, lines: Iterator[TextLine], encoding: str
    ) -> Iterator[Document | Rejected]:
        source = corpus_file.source
        for line in lines:
            if line.error is not None:
                yield Rejected(
                    source, line.number, line.error, id=f"{corpus_file.relative}:{line.number}"
                )
            elif line.text and not line.text.isspace():
                yield _part(corpus_file, line.number, line.text, encoding)

    def _paragraphs(
        self, corpus_file: CorpusFile, lines: Iterator[TextLine], encoding: str
    ) -> Iterator[Document | Rejected]:
        start = 0  # first line of the paragraph being collected; 0 between paragraphs
        texts: list[str] = []
        error: str | None = None
        for line in lines:
            if line.error is None and (not line.text or line.text.isspace()):
                if start:
                    yield _paragraph(corpus_file, start, texts, error, encoding)
                start, texts, error = 0, [], None
                continue
            start = start or line.number
            if line.error is not None:
                error = error or line.error
            else:
                texts.append(line.text or "")
        if start:
            yield _paragraph(corpus_file, start, texts, error, encoding)


def _paragraph(
    corpus_file: CorpusFile, start: int, texts: list[str], error: str | None, encoding: str
) -> Document | Rejected:
    """A paragraph's document, or its rejection when one of its lines was unusable."""
    if error is not None:
        return Rejected(corpus_file.source, start, error, id=f"{corpus_file.relative}:{start}")
    return _part(corpus_file, start, "\n".join(texts), encoding)


def _part(corpus_file: CorpusFile, line: int, text: str, encoding: str) -> Document:
    """A document for the line or paragraph that starts at `line`."""
    meta = {"source": corpus_file.source, "line": line, "encoding": encoding}
    return Document(id=f"{corpus_file.relative}:{line}", text=text, meta=meta)
