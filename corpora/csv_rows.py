"""The `csv` reader: delimited text files, one document per row."""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

from pipeline.document import Document, Rejected
from pipeline.hints import did_you_mean
from pipeline.registry import register

from ._corpus_file import CorpusFile
from ._decoding import (
    TextLine,
    check_encoding,
    detection_sample,
    encoding_problems,
    iter_lines,
    sniff_text,
)
from ._duplicates import FirstOccurrences
from ._files import open_binary
from .file_reader import FileReader

__all__ = ["CsvReader"]

EXCERPT_CHARS = 200
# Python's csv module refuses fields over 128 KiB by default; whole articles can be
# longer. The limit is process-wide, so it is only ever raised, never lowered.
FIELD_SIZE_LIMIT = 1 << 26


@register("reader", "csv")
class CsvReader(FileReader):
    """CSV/TSV files (a file, a folder or a glob; .gz/.bz2 too), one document per row.

    `text_column` names the text column, or a list of columns joined with "\\n" (empty
    parts skipped), e.g. `[title, description]`. `label_column` goes to `meta["label"]`
    (as a string); `id_column` gives the id, else `<relative path>:<line>`; `meta_columns`
    picks the other columns copied into `meta` (None: all). Without a `header`, columns
    are named by `column_names`, else by position ("0", "1", ...). A file whose columns
    lack a configured one is rejected whole (the reason lists its columns); malformed
    rows (wrong field count, undecodable) are rejected at the 1-based line they start on.
    A quote that is never closed properly (which would swallow the rows after it) gets
    its line rejected and the lines after it read as rows; a repeated `id_column` value
    is rejected, naming the line that has it first.
    """

    suffixes = (".csv", ".tsv")

    def __init__(
        self,
        *,
        path: str,
        text_column: str | list[str] = "text",
        label_column: str | None = None,
        id_column: str | None = None,
        meta_columns: list[str] | None = None,
        delimiter: str = ",",
        header: bool = True,
        column_names: list[str] | None = None,
        encoding: str = "utf-8",
    ):
        self.path = path
        self.text_column = text_column
        self.label_column = label_column
        self.id_column = id_column
        self.meta_columns = meta_columns
        self.delimiter = delimiter
        self.header = header
        self.column_names = column_names
        self.encoding = encoding

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """What `prepare()` would refuse: an unknown `encoding`, a `delimiter` not one character."""
        problems = encoding_problems(params["encoding"])
        if len(params["delimiter"]) != 1:
            problems.append(
                f"delimiter: {params['delimiter']!r} is invalid: must be a single character "
                "(use '\\t' for TSV)"
            )
        return problems

    def prepare(self) -> None:
        """Check `encoding` and `delimiter`; let the csv module take fields as long as articles."""
        check_encoding(self.encoding)
        if len(self.delimiter) != 1:
            raise ValueError(
                f"delimiter must be a single character, not {self.delimiter!r} (use '\\t' for TSV)"
            )
        csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))

    def read_file(self, corpus_file: CorpusFile) -> Iterator[Document | Rejected]:
        """One document (or rejection) per data row; a file lacking a configured column is rejected."""
        source = corpus_file.source
        with open_binary(corpus_file.path) as stream:
            sample = detection_sample(stream)
        encoding, reason = sniff_text(sample, self.encoding)
        if encoding is None:
            yield Rejected(source, None, reason or "")
            return
        with open_binary(corpus_file.path) as stream:
            lines = _LineFeed(iter_lines(stream, encoding, keepends=True))
            rows = csv.reader(lines, delimiter=self.delimiter)
            columns: _Columns | None = None
            first_ids = FirstOccurrences("line")
            while True:
                lines.taken.clear()
                try:
                    row = next(rows)
                except StopIteration:
                    break
                except csv.Error as exc:
                    lines.errors.append(f"malformed CSV row: {exc}")
                    row = []
                start = lines.taken[0].number if lines.taken else lines.consumed
                broken_quote = _broken_quote_reason(lines.taken, row, self.delimiter)
                if broken_quote is not None and not lines.errors:
                    lines.replay(lines.taken[1:])  # the rows the open quote swallowed
                    lines.errors.append(broken_quote)
                if lines.errors:
                    reason = lines.errors[0]
                    lines.errors.clear()
                    if columns is None and self.header:
                        yield Rejected(source, start, f"unusable header row: {reason}")
                        return
                    excerpt = lines.taken[0].text[:EXCERPT_CHARS] if broken_quote else None
                    yield Rejected(
                        source, start, reason, id=f"{corpus_file.relative}:{start}", excerpt=excerpt
                    )
                    continue
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # a blank line
                if columns is None:
                    names = self._column_names(row)
                    missing = self._missing(names)
                    if missing:
                        yield Rejected(source, start, _missing_reason(missing, names))
                        return
                    columns = _Columns(self, names)
                    if self.header:
                        continue
                item = columns.document(corpus_file, start, row, self.delimiter)
                if isinstance(item, Document) and columns.id is not None and row[columns.id]:
                    item = first_ids.check(item, start)
                yield item

    def _column_names(self, first_row: list[str]) -> list[str]:
        if self.column_names is not None:
            return list(self.column_names)
        if self.header:
            return [name.strip() for name in first_row]
        return [str(i) for i in range(len(first_row))]

    def _missing(self, names: list[str]) -> list[str]:
        wanted = _as_list(self.text_column) + [
            c for c in (self.label_column, self.id_column) if c is not None
        ]
        wanted += self.meta_columns or []
        return [name for name in wanted if name not in names]


class _Columns:
    """Where the configured columns sit in a file's rows, and how a row becomes a document."""

    def __init__(self, reader: CsvReader, names: list[str]):
        index = {name: i for i, name in enumerate(names)}
        self.names = names
        self.text = [index[name] for name in _as_list(reader.text_column)]
        self.label = None if reader.label_column is None else index[reader.label_column]
        self.id = None if reader.id_column is None else index[reader.id_column]
        if reader.meta_columns is not None:
            self.meta = [(name, index[name]) for name in reader.meta_columns]
        else:
            used = {*self.text, self.label, self.id}
            self.meta = [(name, i) for i, name in enumerate(names) if i not in used]

    def document(
        self, corpus_file: CorpusFile, line: int, row: list[str], delimiter: str
    ) -> Document | Rejected:
        if len(row) != len(self.names):
            reason = (
                f"row has {len(row)} fields, expected {len(self.names)} ({', '.join(self.names)})"
            )
            excerpt = delimiter.join(row)[:EXCERPT_CHARS]
            return Rejected(
                corpus_file.source,
                line,
                reason,
                id=f"{corpus_file.relative}:{line}",
                excerpt=excerpt,
            )
        if len(self.text) == 1:
            text = row[self.text[0]]
        else:
            text = "\n".join(row[i] for i in self.text if row[i])
        doc_id = (
            row[self.id]
            if self.id is not None and row[self.id]
            else f"{corpus_file.relative}:{line}"
        )
        meta: dict[str, Any] = {name: row[i] for name, i in self.meta}
        if self.label is not None:
            meta["label"] = row[self.label]
        meta["source"] = corpus_file.source
        meta["line"] = line
        return Document(id=doc_id, text=text, meta=meta)


class _LineFeed:
    """Feeds decoded lines to `csv.reader`, counting them and collecting decode errors.

    An unusable line is fed as an empty line and its reason kept in `errors`, so the
    row it belongs to can be rejected with that reason once `csv.reader` returns it.
    `taken` holds the lines of the current row; `replay` feeds lines again.
    """

    def __init__(self, lines: Iterator[TextLine]):
        self._lines = lines
        self._replayed: deque[TextLine] = deque()
        self.consumed = 0
        self.errors: list[str] = []
        self.taken: list[TextLine] = []

    def __iter__(self) -> _LineFeed:
        return self

    def replay(self, lines: list[TextLine]) -> None:
        """Feed `lines` again, before the rest of the file."""
        self._replayed.extendleft(reversed(lines))

    def __next__(self) -> str:
        line = self._replayed.popleft() if self._replayed else next(self._lines)
        self.taken.append(line)
        self.consumed = line.number
        if line.error is not None:
            self.errors.append(line.error)
            return "\n"
        return line.text or ""


def _broken_quote_reason(lines: list[TextLine], row: list[str], delimiter: str) -> str | None:
    """Why a row read over several lines is a quote left open rather than a quoted line break.

    csv.reader, forgiving by default, runs an unclosed quoted field on to the next quote
    in the file (or its end), silently swallowing the rows between. Read strictly, a
    properly quoted multi-line field parses; a field closed by a quote followed by
    other text, or still open at the end of the file, does not.
    """
    open_at_end = bool(row) and row[-1].endswith(("\n", "\r"))  # only an open quote keeps those
    if (len(lines) < 2 and not open_at_end) or any(line.error is not None for line in lines):
        return None
    try:
        for _ in csv.reader((line.text or "" for line in lines), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        end = lines[-1].number
        if "unexpected end of data" in str(exc):
            where = "is still open at the end of the file"
        else:
            where = f"runs on to line {end}, where a quote is followed by other text"
        reason = (
            f"unterminated quote: the quoted field that opens on line {lines[0].number} {where}"
        )
        if end > lines[0].number + 1:
            reason += f"; lines {lines[0].number + 1}-{end} after it are read as rows"
        elif end > lines[0].number:
            reason += f"; line {end} after it is read as a row"
        return reason
    return None


def _as_list(columns: str | list[str]) -> list[str]:
    return [columns] if isinstance(columns, str) else list(columns)


def _missing_reason(missing: list[str], names: list[str]) -> str:
    hints = []
    for name in missing:
        # In brackets after each name, as several columns may be missing: 'bodi' (did you mean 'body'?)
        hint = did_you_mean(name, names).removeprefix("; ")
        hints.append(f"{name!r} ({hint})" if hint else repr(name))
    return (
        f"no column {', '.join(hints)} in this file; its columns are: {', '.join(names) or 'none'}"
    )
