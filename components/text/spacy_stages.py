"""The base of the spaCy-backed stages (`pos`, `lemmatize`, `ner`) and the step that fuses them.

Every spaCy-backed stage annotates *our* token layer: the spaCy `Doc` is built from the
document's tokens (spaCy's own tokenizer output when our tokens are spaCy's, so the
annotations are exactly what `nlp(text)` gives; `Doc(vocab, words, spaces)` otherwise),
and token `i` of the spaCy doc is token `i` of the table. A document without tokens is
first tokenized by our `tokenize` stage with the spaCy backend.

Adjacent stages on the same model are fused by the planner (`fusion_key()` / `fuse()`)
into one `SpacyStep`: one `nlp.pipe` call with only the components the members need,
after which each member writes its layers. A stage run alone goes through the same
step, so fused and unfused runs give identical output.

Documents in another language than the model's (`meta["language"]`, declared or
detected) are passed through unannotated and marked skipped (`mark_skipped`). Each
paragraph (a blank line in the original text, e.g. a feed item's title and body) is a
spaCy doc of its own, so no sentence, entity or parse arc crosses it; sentence starts
from a `sentences` stage that ran are set on the spaCy doc before the parser, which
keeps them.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from pipeline.document import Document
from pipeline.language import document_language, mark_skipped
from pipeline.stage import Stage, StageError

from .sentence_rules import PARAGRAPH_RE
from .spacy_models import load_model, model_problems, resolve_model_name

__all__ = [
    "Piece",
    "SpacyStage",
    "SpacyStep",
    "chunk_ranges",
    "paragraph_starts",
    "piece_heads",
    "piece_strings",
    "required",
    "spacy_doc_for",
]

CHUNK_CHARS = 100_000  # longest piece of a document the spaCy pipeline sees at once
BATCH_CHARS = 200_000  # about this many characters per nlp.pipe batch

_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_SENTENCE_END = frozenset(".!?")


@dataclass(slots=True)
class Piece:
    """One processed spaCy doc: tokens `[offset, offset + len(doc))` of our token table.

    `ents` are the entities the pipeline's own components found (before any rules).
    """

    offset: int
    doc: Any
    ents: tuple[Any, ...] = ()


class SpacyStage(Stage):
    """A stage whose annotations come from a spaCy pipeline (`model`, resolved offline).

    Subclasses say which pipeline components they need (`spacy_components`), whether
    their output depends on the parse (`parsed`), and write their layers from the
    processed pieces (`write`).
    """

    model: str | None = None

    def uses_spacy(self) -> bool:
        """Whether this configuration runs a spaCy pipeline at all."""
        return True

    def parsed(self) -> bool:
        """Whether the stage needs the parse, or output that the parse changes.

        en_core_web_sm's attribute ruler maps some tags to POS by dependency label, so
        POS (and lemmas, which follow POS) differ with and without the parser; stages
        fuse only when they agree on this.
        """
        return True

    def spacy_components(self, nlp: Any) -> set[str]:
        """Names of the pipeline components this stage needs (their listeners are added)."""
        raise NotImplementedError

    def write(self, doc: Document, pieces: Sequence[Piece]) -> None:
        """Copy this stage's annotations from the processed pieces into `doc`."""
        raise NotImplementedError

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """A spaCy `model` that is not installed (looked up as a package, never loaded)."""
        if not cls(**params).uses_spacy():
            return []
        return model_problems(params.get("model"))

    def imports(self) -> tuple[str, ...]:
        """spaCy (which imports thinc and torch): about 2 s in a new process."""
        return ("spacy",)

    def fusion_key(self) -> Hashable | None:
        """Stages on the same resolved model that agree on `parsed()` fuse."""
        if not self.uses_spacy():
            return None
        return ("spacy", resolve_model_name(self.model), self.parsed())

    def fuse(self, stages: list[Stage]) -> Stage:
        """One step running a single `nlp.pipe` for all `stages`."""
        return SpacyStep([s for s in stages if isinstance(s, SpacyStage)])

    def pipe(self, docs: Iterable[Document], *, batch_size: int = 256) -> Iterator[Document]:
        """Annotate a stream of documents (through a one-member `SpacyStep`)."""
        step = self._resource("step", partial(SpacyStep, [self]))
        return step.pipe(docs, batch_size=batch_size)


_NAMES: dict[int, str] = {}
_NAMES_MAX = 1 << 20


def piece_strings(pieces: Sequence[Piece], attrs: Sequence[str]) -> list[list[str]]:
    """One list per attribute (e.g. "POS", "TAG", "LEMMA") of the string values of every
    token of the pieces, in order. Hashes are exported in one array per piece and turned
    into strings through a per-process cache, cheaper than reading `token.pos_` one by one.
    """
    columns: list[list[str]] = [[] for _ in attrs]
    names = _NAMES
    if len(names) > _NAMES_MAX:
        names.clear()
    for piece in pieces:
        if not len(piece.doc):
            continue
        strings = piece.doc.vocab.strings
        array = piece.doc.to_array(list(attrs)).reshape(len(piece.doc), len(attrs))
        for column, values in zip(columns, array.T.tolist(), strict=True):
            for value in values:
                name = names.get(value)
                if name is None:
                    name = names[value] = strings[value]
                column.append(name)
    return columns


def piece_heads(pieces: Sequence[Piece]) -> list[int]:
    """The index of each token's syntactic head in our token table (a root is its own head)."""
    import numpy

    heads: list[int] = []
    for piece in pieces:
        n = len(piece.doc)
        if not n:
            continue
        relative = piece.doc.to_array("HEAD").view(numpy.int64)
        heads.extend((relative + numpy.arange(piece.offset, piece.offset + n)).tolist())
    return heads


def required(nlp: Any, stage: str, names: Iterable[str], *, any_of: bool = False) -> set[str]:
    """Check that the pipeline has the components `names` (or one of them, `any_of`)."""
    names = list(names)
    present = {name for name in names if name in nlp.pipe_names}
    if (any_of and not present) or (not any_of and len(present) < len(names)):
        missing = " or ".join(names) if any_of else ", ".join(sorted(set(names) - present))
        raise StageError(
            f"{stage}: the spaCy pipeline {nlp.meta.get('name', '?')!r} has no {missing} component "
            f"(it has {', '.join(nlp.pipe_names)}); choose another `model`"
        )
    return present


class SpacyStep(Stage):
    """Runs one `nlp.pipe` for several spaCy-backed stages, then lets each write its layers.

    Only the components the members need (and the embedding layers those listen to) run;
    the others are disabled for this call only, so the shared model is never changed.
    """

    def __init__(self, stages: list[SpacyStage]):
        self.stages = stages

    @property
    def stage_names(self) -> list[str]:
        """Registered names of the fused stages, in order."""
        return [stage.name for stage in self.stages]

    @property
    def name(self) -> str:  # type: ignore[override]
        return "+".join(self.stage_names)

    def _components(self, nlp: Any) -> set[str]:
        needed: set[str] = set()
        for stage in self.stages:
            needed |= stage.spacy_components(nlp)
        for name, component in nlp.pipeline:
            listeners = getattr(component, "listening_components", None) or ()
            if needed & set(listeners):
                needed.add(name)
        return needed

    def _tokenizer_stage(self, nlp: Any) -> Stage:
        from .tokenize import Tokenize

        return self._resource(
            f"tokenize:{nlp.lang}", partial(Tokenize, backend="spacy", language=nlp.lang)
        )

    def pipe(self, docs: Iterable[Document], *, batch_size: int = 256) -> Iterator[Document]:
        """Annotate a stream of documents, yielding each in input order when all its pieces are done."""
        nlp = load_model(self.stages[0].model)
        needed = self._components(nlp)
        disable = [name for name in nlp.pipe_names if name not in needed]
        keep_ents = "ner" in needed
        tokenize = self._tokenizer_stage(nlp)
        pending: deque[_Pending] = deque()

        def feed() -> Iterator[Any]:
            for doc in docs:
                language = document_language(doc)
                if language is not None and language != nlp.lang:
                    pending.append(_Pending(doc, [], skipped=True))
                    continue
                if doc.tokens is None:
                    for _ in tokenize.pipe([doc], batch_size=1):
                        pass
                ranges = spacy_doc_for(doc, nlp)
                entry = _Pending(doc, [offset for offset, _ in ranges])
                pending.append(entry)
                for _, sdoc in ranges:
                    yield sdoc

        def finish(entry: _Pending) -> Document:
            for stage in self.stages:
                if entry.skipped:
                    mark_skipped(entry.doc, stage.name)
                else:
                    stage.write(entry.doc, entry.pieces)
            return entry.doc

        for group in _bounded_batches(feed(), batch_size):
            for sdoc in nlp.pipe(group, batch_size=len(group), disable=disable):
                while pending[0].done:
                    yield finish(pending.popleft())
                entry = pending[0]
                offset = entry.offsets[len(entry.pieces)]
                entry.pieces.append(Piece(offset, sdoc, tuple(sdoc.ents) if keep_ents else ()))
                if entry.done:
                    yield finish(pending.popleft())
        while pending:
            yield finish(pending.popleft())


def _bounded_batches(sdocs: Iterable[Any], batch_size: int) -> Iterator[list[Any]]:
    """Group spaCy docs into batches of at most `batch_size` docs and about `BATCH_CHARS`
    characters: the parser's and tagger's memory grows with the batch's length, so a long
    document's pieces go through a few at a time rather than all in one batch."""
    group: list[Any] = []
    chars = 0
    for sdoc in sdocs:
        group.append(sdoc)
        chars += len(sdoc.text)
        if len(group) >= batch_size or chars >= BATCH_CHARS:
            yield group
            group, chars = [], 0
    if group:
        yield group


class _Pending:
    """A document waiting for its spaCy pieces."""

    __slots__ = ("doc", "offsets", "pieces", "skipped")

    def __init__(self, doc: Document, offsets: list[int], *, skipped: bool = False):
        self.doc = doc
        self.offsets = offsets
        self.pieces: list[Piece] = []
        self.skipped = skipped

    @property
    def done(self) -> bool:
        return len(self.pieces) == len(self.offsets)


def _spacy_safe(text: str) -> str:
    """spaCy's string store cannot encode lone surrogates: make them U+FFFD (same length)."""
    if text.isascii() or _SURROGATE_RE.search(text) is None:
        return text
    return _SURROGATE_RE.sub("\ufffd", text)


def spacy_doc_for(doc: Document, nlp: Any) -> list[tuple[int, Any]]:
    """The unprocessed spaCy doc(s) for a tokenized document: `[(token offset, Doc), ...]`.

    When our tokens are exactly spaCy's tokens of the working text, the doc comes from
    `nlp.tokenizer` (so tokenizer exceptions set their norms, as in `nlp(text)`); else it
    is built from our token forms. Each paragraph (`paragraph_starts`) is a doc of its
    own, and texts longer than `CHUNK_CHARS` (or `nlp.max_length`, when smaller) become
    sentence-aligned chunks (`chunk_ranges`), so memory depends on the chunk, not the document. Sentence starts from `doc.sentences` are set on the docs
    (`is_sent_start`), so the parser keeps them. A document without tokens gives `[]`.
    """
    from spacy.tokens import Doc

    tokens = doc.tokens
    assert tokens is not None
    if not len(tokens):
        return []
    text = _spacy_safe(doc.working_text)
    sdoc = nlp.tokenizer(text)
    if not _same_tokens(doc, sdoc):
        forms = tokens.norm if tokens.norm is not None else tokens.text
        if text is not doc.working_text:
            forms = [_spacy_safe(form) for form in forms]
        # a gap in the original text becomes one space: the text spaCy sees differs from
        # ours only in whitespace, and token i stays token i
        starts, ends = tokens.start, tokens.end
        spaces = [ends[i] < starts[i + 1] for i in range(len(starts) - 1)] + [False]
        sdoc = Doc(nlp.vocab, words=forms, spaces=spaces)
    n = len(sdoc)
    cuts = set(paragraph_starts(doc))
    limit = min(nlp.max_length, CHUNK_CHARS)
    if len(sdoc.text) > limit:
        cuts.update(a for a, _ in chunk_ranges(doc, sdoc, limit))
    bounds = sorted(cuts - {0, n})
    ranges = list(zip([0, *bounds], [*bounds, n], strict=True))
    pieces = [(a, sdoc if (a, b) == (0, n) else sdoc[a:b].as_doc()) for a, b in ranges]
    if doc.sentences:
        token_starts = tokens.start
        for s in doc.sentences:
            i = bisect_left(token_starts, s.start)
            k = bisect_right(bounds, i)  # the piece holding token i
            offset, piece = pieces[k]
            if offset < i < offset + len(piece):
                piece[i - offset].is_sent_start = True
    return pieces


def paragraph_starts(doc: Document) -> list[int]:
    """Indices of the tokens that open a paragraph: the first word token after a blank
    line of the original text (a feed item's title and body are two paragraphs)."""
    tokens = doc.tokens
    assert tokens is not None
    starts, ends, text = tokens.start, tokens.end, doc.text
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
        array = sdoc.to_array(["IDX", "LENGTH"])
        starts = array[:, 0]
        return starts.tolist() == tokens.start and (starts + array[:, 1]).tolist() == tokens.end
    # our offsets index the original text: compare the token strings
    forms = tokens.norm if tokens.norm is not None else tokens.text
    return [t.text for t in sdoc] == [_spacy_safe(form) for form in forms]


def chunk_ranges(doc: Document, sdoc: Any, max_length: int) -> list[tuple[int, int]]:
    """Cut a long spaCy doc into token ranges of at most `max_length` characters each.

    Cuts go, by preference, at sentence starts (`doc.sentences`, when set), then at
    paragraph and sentence-like boundaries (after a line break, or after `.`, `!`, `?`
    and a space), then at any space, and only then between two tokens.
    """
    n = len(sdoc)
    starts = [t.idx for t in sdoc]
    ends = [t.idx + len(t) for t in sdoc]
    levels: list[list[int]] = []
    if doc.sentences:
        token_starts = doc.tokens.start  # type: ignore[union-attr]
        levels.append(sorted({bisect_left(token_starts, s.start) for s in doc.sentences} - {0, n}))
    soft: list[int] = []
    spaced: list[int] = []
    last_word = ""
    for i in range(1, n):
        previous = sdoc[i - 1]
        if previous.is_space:
            spaced.append(i)
            if "\n" in previous.text or last_word[-1:] in _SENTENCE_END:
                soft.append(i)
            continue
        last_word = previous.text
        if previous.whitespace_:
            spaced.append(i)
            if last_word[-1:] in _SENTENCE_END:
                soft.append(i)
    levels += [soft, spaced, list(range(1, n))]

    ranges: list[tuple[int, int]] = []
    a = 0
    while a < n:
        # the furthest end b such that tokens [a, b) fit in max_length characters
        b = bisect_right(ends, starts[a] + max_length)
        if b >= n:
            ranges.append((a, n))
            break
        cut = max(b, a + 1)
        for cuts in levels:
            k = bisect_right(cuts, b) - 1
            if k >= 0 and cuts[k] > a:
                cut = cuts[k]
                break
        ranges.append((a, cut))
        a = cut
    return ranges
