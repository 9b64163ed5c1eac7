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
keeps them. Long documents are cut into pieces of at most `CHUNK_CHARS` characters,
made and processed a batch at a time; a processed piece keeps only compact arrays of
its annotations (see `spacy_pieces`), so memory is bounded by the batch, not the document.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from pipeline.document import Document
from pipeline.language import document_language, mark_skipped
from pipeline.stage import Stage, StageError

from .spacy_models import load_model, model_problems, resolve_model_name
from .spacy_pieces import (
    CHUNK_CHARS,
    Piece,
    chunk_ranges,
    paragraph_starts,
    piece_heads,
    piece_strings,
    spacy_doc_for,
)

__all__ = [
    "CHUNK_CHARS",
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

BATCH_CHARS = 200_000  # about this many characters per nlp.pipe batch of short documents
ALONE_CHARS = CHUNK_CHARS // 2  # a spaCy doc this long goes through nlp.pipe alone

# the token attributes a processed piece keeps, by the pipeline component that sets them
_COMPONENT_ATTRS = {
    "tagger": ("POS", "TAG"),
    "morphologizer": ("POS", "TAG"),
    "attribute_ruler": ("POS", "TAG"),
    "parser": ("DEP", "HEAD"),
    "lemmatizer": ("LEMMA",),
}


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

    def reads_piece_docs(self) -> bool:
        """Whether `write` reads `piece.doc` (the processed spaCy doc). When no stage of a
        step does, each piece keeps only compact arrays (`Piece.compact`: read them with
        `piece_strings`, `piece_heads` and `piece.ents`) and its spaCy doc is released at
        once, so a long document's memory follows its pieces. Stages that only read those
        say so by returning False.
        """
        return True

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
        keep_docs = any(stage.reads_piece_docs() for stage in self.stages)
        attrs = tuple(dict.fromkeys(a for c in needed for a in _COMPONENT_ATTRS.get(c, ())))
        tokenize = self._tokenizer_stage(nlp)
        pending: deque[_Pending] = deque()

        def feed() -> Iterator[Any]:
            for doc in docs:
                language = document_language(doc)
                if language is not None and language != nlp.lang:
                    pending.append(_Pending(doc, skipped=True))
                    continue
                if doc.tokens is None:
                    for _ in tokenize.pipe([doc], batch_size=1):
                        pass
                entry = _Pending(doc)
                pending.append(entry)
                for offset, sdoc in spacy_doc_for(doc, nlp):  # one piece at a time
                    entry.offsets.append(offset)
                    yield sdoc
                entry.complete = True

        def finish(entry: _Pending) -> Document:
            for stage in self.stages:
                if entry.skipped:
                    mark_skipped(entry.doc, stage.name)
                else:
                    stage.write(entry.doc, entry.pieces)
            return entry.doc

        def kept(offset: int, sdoc: Any) -> Piece:
            if keep_docs:
                return Piece(offset, sdoc, tuple(sdoc.ents) if keep_ents else ())
            return Piece.compact(offset, sdoc, attrs, ents=keep_ents)

        for group in _bounded_batches(feed(), batch_size):
            for sdoc in nlp.pipe(group, batch_size=len(group), disable=disable):
                while pending[0].done:
                    yield finish(pending.popleft())
                entry = pending[0]
                entry.pieces.append(kept(entry.offsets[len(entry.pieces)], sdoc))
                if entry.done:
                    yield finish(pending.popleft())
            del group, sdoc  # the batch's spaCy docs go now, not when the next batch is made
        while pending:
            yield finish(pending.popleft())


def _bounded_batches(sdocs: Iterable[Any], batch_size: int) -> Iterator[list[Any]]:
    """Group spaCy docs into batches of at most `batch_size` docs and about `BATCH_CHARS`
    characters: the parser's and tagger's working memory grows with the batch's length.
    A doc of `ALONE_CHARS` or more (a long document's piece) is a batch of its own, so a
    long document goes through one piece at a time."""
    group: list[Any] = []
    chars = 0
    for sdoc in sdocs:
        size = len(sdoc.text)
        if size >= ALONE_CHARS:
            if group:
                yield group
                group, chars = [], 0
            yield [sdoc]
            continue
        group.append(sdoc)
        chars += size
        if len(group) >= batch_size or chars >= BATCH_CHARS:
            yield group
            group, chars = [], 0
    if group:
        yield group


class _Pending:
    """A document waiting for its spaCy pieces: `complete` once all were fed to the pipeline."""

    __slots__ = ("complete", "doc", "offsets", "pieces", "skipped")

    def __init__(self, doc: Document, *, skipped: bool = False):
        self.doc = doc
        self.offsets: list[int] = []
        self.pieces: list[Piece] = []
        self.skipped = skipped
        self.complete = skipped

    @property
    def done(self) -> bool:
        return self.complete and len(self.pieces) == len(self.offsets)
