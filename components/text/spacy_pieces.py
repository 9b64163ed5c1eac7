"""The pieces a spaCy-backed stage sends through `nlp.pipe`, and what it keeps of them.

A document becomes one spaCy doc per paragraph (a blank line of the original text), and
a text longer than `CHUNK_CHARS` becomes sentence-aligned chunks: `spacy_doc_for` yields
them one at a time, so a long document never exists as one spaCy doc. Once processed, a
piece keeps only compact arrays of the annotations the stages read (`Piece`), and its
spaCy doc (with its token structs and tok2vec tensor) is released, unless a stage reads
it: memory then follows the piece, not the document.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from pipeline.document import Document

from .sentence_rules import PARAGRAPH_RE

__all__ = [
    "CHUNK_CHARS",
    "Piece",
    "chunk_ranges",
    "paragraph_starts",
    "piece_heads",
    "piece_strings",
    "spacy_doc_for",
]

CHUNK_CHARS = 100_000  # longest piece of a document the spaCy pipeline sees at once

_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_SENTENCE_END = frozenset(".!?")


class Entity(NamedTuple):
    """A model entity of a piece, in the piece's token indices (what `Span` offers)."""

    start: int
    end: int
    label_: str


@dataclass(slots=True)
class Piece:
    """One processed spaCy doc: tokens `[offset, offset + size)` of our token table.

    `doc` is the spaCy doc, or None once released; then `arrays` holds the exported
    attributes `attrs` (one uint64 row per token) and `strings` the store that names
    them. `ents` are the entities the pipeline's own components found (before rules).
    """

    offset: int
    doc: Any
    ents: tuple[Any, ...] = ()
    size: int = -1
    attrs: tuple[str, ...] = ()
    arrays: Any = None
    strings: Any = None

    def __post_init__(self) -> None:
        if self.size < 0:
            self.size = len(self.doc)

    @classmethod
    def compact(cls, offset: int, sdoc: Any, attrs: Sequence[str], *, ents: bool) -> Piece:
        """Keep `attrs` of a processed spaCy doc as one array (and its entities as
        `Entity` tuples), not the doc: a few dozen bytes per token instead of kilobytes."""
        found = tuple(Entity(e.start, e.end, e.label_) for e in sdoc.ents) if ents else ()
        arrays = sdoc.to_array(list(attrs)).reshape(len(sdoc), len(attrs)) if attrs else None
        return cls(offset, None, found, len(sdoc), tuple(attrs), arrays, sdoc.vocab.strings)

    def values(self, attr: str) -> Any:
        """The uint64 values of `attr` for every token of the piece (a numpy array)."""
        if self.doc is not None:
            return self.doc.to_array(attr)
        if attr not in self.attrs:
            raise KeyError(f"the piece kept {', '.join(self.attrs) or 'no attributes'}, not {attr}")
        return self.arrays[:, self.attrs.index(attr)]


_NAMES: dict[int, str] = {}
_NAMES_MAX = 1 << 20


def piece_strings(pieces: Sequence[Piece], attrs: Sequence[str]) -> list[list[str]]:
    """One list per attribute (e.g. "POS", "TAG", "LEMMA") of the string values of every
    token of the pieces, in order. Hashes are turned into strings through a per-process
    cache, cheaper than reading `token.pos_` one by one; equal strings are one object.
    """
    columns: list[list[str]] = [[] for _ in attrs]
    names = _NAMES
    if len(names) > _NAMES_MAX:
        names.clear()
    for piece in pieces:
        if not piece.size:
            continue
        strings = piece.doc.vocab.strings if piece.doc is not None else piece.strings
        for column, attr in zip(columns, attrs, strict=True):
            for value in piece.values(attr).tolist():
                name = names.get(value)
                if name is None:
                    name = names[value] = strings[value]
                column.append(name)
    return columns


def piece_heads(pieces: Sequence[Piece]) -> array:
    """The index of each token's syntactic head in our token table (a root is its own
    head), as an `array('q')`: eight bytes a token, no int objects."""
    import numpy

    heads = array("q")
    for piece in pieces:
        n = piece.size
        if not n:
            continue
        relative = numpy.ascontiguousarray(piece.values("HEAD")).view(numpy.int64)
        heads.frombytes((relative + numpy.arange(piece.offset, piece.offset + n)).tobytes())
    return heads


def spacy_safe(text: str) -> str:
    """spaCy's string store cannot encode lone surrogates: make them U+FFFD (same length)."""
    if text.isascii() or _SURROGATE_RE.search(text) is None:
        return text
    return _SURROGATE_RE.sub("\ufffd", text)


def spacy_doc_for(doc: Document, nlp: Any) -> Iterator[tuple[int, Any]]:
    """The unprocessed spaCy doc(s) for a tokenized document, one at a time: `(token
    offset, Doc)`. Token `i` of a doc is token `offset + i` of our table.

    A doc comes from `nlp.tokenizer` when its tokens are exactly ours (so tokenizer
    exceptions set their norms, as in `nlp(text)`), else from our token forms. Each
    paragraph (`paragraph_starts`) is a doc of its own; a text longer than `CHUNK_CHARS`
    (or `nlp.max_length`, when smaller) is cut into sentence-aligned chunks
    (`chunk_ranges`) built one by one. Sentence starts from `doc.sentences` are set on
    the docs (`is_sent_start`), so the parser keeps them. No tokens: nothing.
    """
    tokens = doc.tokens
    assert tokens is not None
    if not len(tokens):
        return
    limit = min(nlp.max_length, CHUNK_CHARS)
    if len(doc.working_text) <= limit:
        yield from _short_pieces(doc, nlp)
        return
    firsts = _sentence_firsts(doc)
    bounds = [0, *paragraph_starts(doc), len(tokens)]
    for first, last in zip(bounds, bounds[1:], strict=False):
        for a, b in _chunks(doc, first, last, limit, firsts):
            sdoc = _piece_doc(doc, nlp, a, b)
            for i in firsts[bisect_right(firsts, a) : bisect_left(firsts, b)]:
                sdoc[i - a].is_sent_start = True
            yield a, sdoc


def _short_pieces(doc: Document, nlp: Any) -> list[tuple[int, Any]]:
    """A document that fits in one chunk: tokenized whole, then cut at its paragraphs."""
    from spacy.tokens import Doc

    tokens = doc.tokens
    assert tokens is not None
    text = spacy_safe(doc.working_text)
    sdoc = nlp.tokenizer(text)
    if not _same_tokens(doc, sdoc):
        forms = tokens.norm if tokens.norm is not None else tokens.text
        if text is not doc.working_text:
            forms = [spacy_safe(form) for form in forms]
        # a gap in the original text becomes one space: the text spaCy sees differs from
        # ours only in whitespace, and token i stays token i
        starts, ends = tokens.start, tokens.end
        spaces = [ends[i] < starts[i + 1] for i in range(len(starts) - 1)] + [False]
        sdoc = Doc(nlp.vocab, words=forms, spaces=spaces)
    n = len(sdoc)
    bounds = sorted(set(paragraph_starts(doc)) - {0, n})
    ranges = list(zip([0, *bounds], [*bounds, n], strict=True))
    pieces = [(a, sdoc if (a, b) == (0, n) else sdoc[a:b].as_doc()) for a, b in ranges]
    if doc.sentences:
        token_starts = tokens.column("start")
        for s in doc.sentences:
            i = bisect_left(token_starts, s.start)
            k = bisect_right(bounds, i)  # the piece holding token i
            offset, piece = pieces[k]
            if offset < i < offset + len(piece):
                piece[i - offset].is_sent_start = True
    return pieces


def _sentence_firsts(doc: Document) -> array:
    """The token index each sentence of `doc.sentences` starts at, sorted (empty: none)."""
    if not doc.sentences:
        return array("q")
    starts = doc.tokens.column("start")  # type: ignore[union-attr]
    return array("q", sorted({bisect_left(starts, s.start) for s in doc.sentences}))


def _piece_doc(doc: Document, nlp: Any, a: int, b: int) -> Any:
    """The spaCy doc of tokens `[a, b)`: spaCy's tokenizer on the piece's text when it
    gives exactly those tokens (their norms then follow tokenizer exceptions), else
    built from the token forms with one space wherever the original has a gap."""
    from spacy.tokens import Doc

    tokens = doc.tokens
    assert tokens is not None
    starts, ends, text = tokens.column("start"), tokens.column("end"), doc.text
    if "norm" in tokens.columns:
        forms = [spacy_safe(form) for form in tokens.column("norm")[a:b]]
    else:
        forms = [spacy_safe(text[starts[i] : ends[i]]) for i in range(a, b)]
    n = len(starts)
    spaces = [ends[i] < starts[i + 1] for i in range(a, min(b, n - 1))]
    if b == n:
        spaces.append(False)
    sdoc = nlp.tokenizer("".join(f + " " if s else f for f, s in zip(forms, spaces, strict=True)))
    if len(sdoc) == len(forms) and [t.text for t in sdoc] == forms:
        return sdoc
    return Doc(nlp.vocab, words=forms, spaces=spaces)


def paragraph_starts(doc: Document) -> list[int]:
    """Indices of the tokens that open a paragraph: the first word token after a blank
    line of the original text (a feed item's title and body are two paragraphs)."""
    tokens = doc.tokens
    assert tokens is not None
    starts, ends, text = tokens.column("start"), tokens.column("end"), doc.text
    n = len(starts)
    found: list[int] = []
    for match in PARAGRAPH_RE.finditer(text):
        i = bisect_left(starts, match.end())
        while i < n and text[starts[i] : ends[i]].isspace():
            i += 1
        if 0 < i < n and (not found or found[-1] < i):
            found.append(i)
    return found


def _same_tokens(doc: Document, sdoc: Any) -> bool:
    """Whether spaCy's tokens of the working text are exactly our tokens."""
    tokens = doc.tokens
    assert tokens is not None
    if len(sdoc) != len(tokens):
        return False
    if doc.normalized is None:  # offsets index the same text: compare them, no strings
        array_ = sdoc.to_array(["IDX", "LENGTH"])
        starts = array_[:, 0]
        return starts.tolist() == tokens.start and (starts + array_[:, 1]).tolist() == tokens.end
    # our offsets index the original text: compare the token strings
    forms = tokens.norm if tokens.norm is not None else tokens.text
    return [t.text for t in sdoc] == [spacy_safe(form) for form in forms]


def chunk_ranges(doc: Document, sdoc: Any, max_length: int) -> list[tuple[int, int]]:
    """Cut a long tokenized document into token ranges of at most `max_length` characters.

    Cuts go, by preference, at sentence starts (`doc.sentences`, when set), then at
    paragraph and sentence-like boundaries (after a line break, or after `.`, `!`, `?`
    and a space), then at any space, and only then between two tokens. Read from our
    token table: `sdoc` (the document's spaCy doc, or None) is not needed.
    """
    n = len(doc.tokens)  # type: ignore[arg-type]
    return list(_chunks(doc, 0, n, max_length, _sentence_firsts(doc)))


def _chunks(
    doc: Document, first: int, last: int, max_length: int, firsts: Sequence[int]
) -> Iterator[tuple[int, int]]:
    """The ranges of tokens `[first, last)` (see `chunk_ranges`), lazily."""
    tokens = doc.tokens
    assert tokens is not None
    starts, ends = tokens.column("start"), tokens.column("end")
    a = first
    while a < last:
        # the furthest end b such that tokens [a, b) fit in max_length characters
        b = bisect_right(ends, starts[a] + max_length, a, last)
        if b >= last:
            yield a, last
            return
        k = bisect_right(firsts, b) - 1
        if k >= 0 and firsts[k] > a:
            cut = firsts[k]
        else:
            cut = _soft_cut(doc, a, b) or max(b, a + 1)
        yield a, cut
        a = cut


def _soft_cut(doc: Document, a: int, b: int) -> int | None:
    """The last cut in `(a, b]` after a line break or a sentence-like end (`.`, `!`, `?`
    and a space), else the last after any space; None without either."""
    tokens = doc.tokens
    assert tokens is not None
    starts, ends, text = tokens.column("start"), tokens.column("end"), doc.text
    spaced = None
    for i in range(b, a, -1):
        previous = text[starts[i - 1] : ends[i - 1]]
        if previous.isspace():
            if "\n" in previous or _last_word(doc, a, i - 1)[-1:] in _SENTENCE_END:
                return i
        elif ends[i - 1] < starts[i]:
            if previous[-1:] in _SENTENCE_END:
                return i
        else:
            continue
        if spaced is None:
            spaced = i
    return spaced


def _last_word(doc: Document, a: int, i: int) -> str:
    """The text of the last token before `i` (down to `a`) that is not whitespace."""
    tokens = doc.tokens
    assert tokens is not None
    starts, ends, text = tokens.column("start"), tokens.column("end"), doc.text
    for j in range(i - 1, a - 1, -1):
        word = text[starts[j] : ends[j]]
        if not word.isspace():
            return word
    return ""
