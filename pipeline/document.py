"""The `Document`: raw text, metadata and columnar annotation layers.

A document keeps its original `text` untouched. Stages add layers:

- `tokens`: a columnar `TokenTable` (one list per attribute: `start`, `end`,
  `norm`, `is_stop`, `lemma`, `stem`, `pos`, `tag`, `dep`, `head`, ...).
  `start`/`end` are character offsets into the *original* text, so
  `doc.text[t.start:t.end] == t.text` always holds; `norm` carries the
  normalized form when a `normalize` stage ran.
- `sentences`, `entities`: lists of `Span` (character offsets into `text`).
- `normalized`: the normalized text and its `Alignment` back to `text`.
- `coref`: clusters of mention spans; `vectors`: named vectors.

Everything round-trips through `to_dict()` / `Document.from_dict()` exactly.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Alignment", "Document", "Rejected", "Span", "Token", "TokenTable", "content_id"]


def content_id(text: str) -> str:
    """Return a stable id for a text: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Span:
    """A character span `[start, end)` of a document's original text, with an optional label."""

    start: int
    end: int
    text: str
    label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the span as a plain dict (the label only when set)."""
        out: dict[str, Any] = {"start": self.start, "end": self.end, "text": self.text}
        if self.label is not None:
            out["label"] = self.label
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Span:
        """Rebuild a span from `to_dict()` output."""
        return cls(int(data["start"]), int(data["end"]), data["text"], data.get("label"))


@dataclass(frozen=True, slots=True)
class Rejected:
    """An input item that could not become a document: it goes to quarantine, never lost.

    `source` names the file or feed, `position` where in it (line, row, item index,
    byte offset), `reason` says what was wrong in words a user can act on.
    """

    source: str
    position: int | str | None
    reason: str
    id: str | None = None
    excerpt: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the quarantine record as a plain dict."""
        return {
            "source": self.source,
            "position": self.position,
            "reason": self.reason,
            "id": self.id,
            "excerpt": self.excerpt,
        }


class Alignment:
    """Maps offsets in a normalized text back to the original text.

    Stored as sorted edits `(norm_start, norm_end, orig_start, orig_end)`: the
    normalized characters `[norm_start, norm_end)` replaced the original characters
    `[orig_start, orig_end)`. Outside edits the two texts agree character by
    character. An empty edit list is the identity.
    """

    __slots__ = ("edits", "_norm_starts")

    def __init__(self, edits: Sequence[Sequence[int]] = ()):
        self.edits: list[tuple[int, int, int, int]] = [tuple(e) for e in edits]  # type: ignore[misc]
        self._norm_starts = [e[0] for e in self.edits]

    def __bool__(self) -> bool:
        return bool(self.edits)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Alignment) and self.edits == other.edits

    def __repr__(self) -> str:
        return f"Alignment({self.edits!r})"

    def start(self, pos: int) -> int:
        """Original offset of the character at normalized offset `pos` (a span start)."""
        i = bisect_right(self._norm_starts, pos) - 1
        if i < 0:
            return pos
        ns, ne, os_, oe = self.edits[i]
        if pos < ne:
            return os_
        return oe + (pos - ne)

    def end(self, pos: int) -> int:
        """Original offset just after the normalized character before `pos` (a span end)."""
        if pos <= 0:
            return self.start(pos)
        i = bisect_right(self._norm_starts, pos - 1) - 1
        if i < 0:
            return pos
        ns, ne, os_, oe = self.edits[i]
        if pos - 1 < ne:
            return oe
        return oe + (pos - ne)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalized span to the original text; empty spans stay empty."""
        o_start = self.start(start)
        if end <= start:
            return o_start, o_start
        return o_start, max(o_start, self.end(end))


def _column(values: Sequence[Any]) -> Any:
    """Store a column: typed int arrays (`array.array`) as they are, anything else as a list.

    Offsets exported from spaCy arrive as `array('q')` (one memcpy, no per-token objects),
    which keeps tokenization within a few percent of spaCy's own speed.
    """
    return values if isinstance(values, array) else list(values)


def _as_list(values: Any) -> list[Any]:
    return values.tolist() if isinstance(values, array) else list(values)


class Token:
    """A view of one row of a `TokenTable`: attribute access reads the columns."""

    __slots__ = ("_table", "i")

    def __init__(self, table: TokenTable, i: int):
        self._table = table
        self.i = i

    def __getattr__(self, name: str) -> Any:
        columns = self._table._columns
        if name in columns:
            return columns[name][self.i]
        if name == "text":
            return self._table._doc_text[columns["start"][self.i] : columns["end"][self.i]]
        if name == "norm_":
            return self.norm if "norm" in columns else self.text
        if name in TokenTable.KNOWN:
            return None
        raise AttributeError(f"token has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"Token({self.text!r}, {self.start}, {self.end})"


class TokenTable:
    """Columnar token storage: one list per attribute, all of the same length.

    `start` and `end` are required; `text` is derived from the document's original
    text. Read a column with `doc.tokens.lemma`, set one with `doc.tokens.lemma = [...]`
    (the length must match), iterate to get `Token` views.
    """

    KNOWN = (
        "norm", "is_stop", "lemma", "stem", "pos", "tag", "dep", "head",
        "ent_iob", "ent_type", "sense",
    )  # fmt: skip

    __slots__ = ("_columns", "_doc_text")

    def __init__(
        self,
        doc_text: str,
        start: Sequence[int] = (),
        end: Sequence[int] = (),
        **columns: Sequence[Any],
    ):
        object.__setattr__(self, "_doc_text", doc_text)
        if len(start) != len(end):
            raise ValueError(f"token start/end lengths differ: {len(start)} != {len(end)}")
        cols: dict[str, Any] = {"start": _column(start), "end": _column(end)}
        object.__setattr__(self, "_columns", cols)
        for name, values in columns.items():
            if values is not None:
                setattr(self, name, values)

    def __len__(self) -> int:
        return len(self._columns["start"])

    def __iter__(self) -> Iterator[Token]:
        return (Token(self, i) for i in range(len(self)))

    def __getitem__(self, i: int) -> Token:
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("token index out of range")
        return Token(self, i)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        columns = self._columns
        if name in columns:
            values = columns[name]
            return values.tolist() if isinstance(values, array) else values
        if name == "text":
            text = self._doc_text
            return [text[s:e] for s, e in zip(columns["start"], columns["end"], strict=True)]
        if name in self.KNOWN:
            return None
        raise AttributeError(f"token table has no column {name!r}")

    def __setattr__(self, name: str, values: Sequence[Any] | None) -> None:
        if name == "text":
            raise AttributeError("token text is derived from the document text; set `norm` instead")
        if values is None:
            self._columns.pop(name, None)
            return
        values = _column(values)
        if name not in ("start", "end") and len(values) != len(self):
            raise ValueError(f"column {name!r} has {len(values)} values for {len(self)} tokens")
        self._columns[name] = values

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenTable) and self.to_dict() == other.to_dict()

    @property
    def columns(self) -> list[str]:
        """Names of the stored columns (`text` is derived, never stored)."""
        return list(self._columns)

    def column(self, name: str) -> Sequence[Any]:
        """The stored column `name` as kept (an `array` for offsets and heads, else a list),
        without the copy that `tokens.name` makes: for reading long documents; never change it.
        Raises `KeyError` when the column is not stored.
        """
        return self._columns[name]  # type: ignore[no-any-return]

    def keep(self, mask: Sequence[bool]) -> None:
        """Keep only the tokens where `mask` is true, in every column."""
        for name, values in self._columns.items():
            self._columns[name] = [v for v, k in zip(values, mask, strict=True) if k]

    def to_dict(self) -> dict[str, list[Any]]:
        """Return the stored columns (a shallow copy)."""
        return {name: _as_list(values) for name, values in self._columns.items()}


@dataclass(eq=False)
class Document:
    """One text and everything the pipeline learned about it.

    `id` is stable across runs (feed GUID, URL, file position or content hash);
    `text` is the original text, never modified; `meta` holds source, url, title,
    published, labels and the like. Annotation layers are `None` until a stage sets them.
    """

    id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    tokens: TokenTable | None = None
    sentences: list[Span] | None = None
    entities: list[Span] | None = None
    normalized: str | None = None
    alignment: Alignment | None = None
    coref: list[list[Span]] | None = None
    vectors: dict[str, list[float]] | None = None

    @classmethod
    def from_text(
        cls, text: str, *, id: str | None = None, meta: dict[str, Any] | None = None
    ) -> Document:
        """Make a document from a string; the id defaults to a hash of the content."""
        return cls(id=id if id is not None else content_id(text), text=text, meta=dict(meta or {}))

    @property
    def working_text(self) -> str:
        """The text stages analyse: the normalized text when a `normalize` stage ran."""
        return self.normalized if self.normalized is not None else self.text

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of `working_text` to a span of the original `text`."""
        if self.alignment:
            return self.alignment.span(start, end)
        return start, end

    def set_tokens(self, starts: Sequence[int], ends: Sequence[int]) -> TokenTable:
        """Set the token layer from spans of `working_text`, mapping offsets to `text`.

        When the document was normalized, each token's normalized form goes to `norm`.
        """
        if self.normalized is not None:
            norm_text = self.normalized
            norms = [norm_text[s:e] for s, e in zip(starts, ends, strict=True)]
            if self.alignment:
                spans = [self.alignment.span(s, e) for s, e in zip(starts, ends, strict=True)]
                starts = [s for s, _ in spans]
                ends = [e for _, e in spans]
            self.tokens = TokenTable(self.text, starts, ends, norm=norms)
        else:
            self.tokens = TokenTable(self.text, starts, ends)
        return self.tokens

    def span(self, start: int, end: int, label: str | None = None) -> Span:
        """Make a `Span` of the original text."""
        return Span(start, end, self.text[start:end], label)

    @property
    def words(self) -> int:
        """Number of tokens, or of whitespace-separated words before tokenization."""
        if self.tokens is not None:
            return len(self.tokens)
        return len(self.text.split())

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict; `Document.from_dict` rebuilds an equal document."""
        out: dict[str, Any] = {"id": self.id, "text": self.text, "meta": self.meta}
        if self.tokens is not None:
            out["tokens"] = self.tokens.to_dict()
        if self.sentences is not None:
            out["sentences"] = [[s.start, s.end] for s in self.sentences]
        if self.entities is not None:
            out["entities"] = [[s.start, s.end, s.label] for s in self.entities]
        if self.normalized is not None:
            out["normalized"] = self.normalized
            out["alignment"] = [list(e) for e in self.alignment.edits] if self.alignment else []
        if self.coref is not None:
            out["coref"] = [[[m.start, m.end] for m in cluster] for cluster in self.coref]
        if self.vectors is not None:
            out["vectors"] = {k: list(v) for k, v in self.vectors.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        """Rebuild a document from `to_dict()` output (missing layers stay `None`)."""
        text = data["text"]
        doc = cls(id=data["id"], text=text, meta=dict(data.get("meta") or {}))
        tokens = data.get("tokens")
        if tokens is not None:
            columns = {k: v for k, v in tokens.items() if v is not None}
            doc.tokens = TokenTable(text, **columns)
        if data.get("sentences") is not None:
            doc.sentences = [Span(s, e, text[s:e]) for s, e in data["sentences"]]
        if data.get("entities") is not None:
            doc.entities = [Span(s, e, text[s:e], label) for s, e, label in data["entities"]]
        if data.get("normalized") is not None:
            doc.normalized = data["normalized"]
            doc.alignment = Alignment(data.get("alignment") or [])
        if data.get("coref") is not None:
            doc.coref = [[Span(s, e, text[s:e]) for s, e in cluster] for cluster in data["coref"]]
        if data.get("vectors") is not None:
            doc.vectors = {k: list(v) for k, v in data["vectors"].items()}
        return doc

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Document) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        preview = self.text[:40] + ("..." if len(self.text) > 40 else "")
        return f"Document(id={self.id!r}, text={preview!r}, tokens={None if self.tokens is None else len(self.tokens)})"
