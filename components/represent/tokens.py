"""Token selection shared by every corpus learner: which token field, which tokens to keep.

Every learner takes the same three parameters and turns a `Document` into a list of
strings with `token_stream(doc, field=..., drop_stop=..., drop_punct=...)`:

- `field`: "text" (as written), "lower" (lowercased; the normalized form when a
  `normalize` stage ran), "norm", "lemma" or "stem" (the columns those stages set).
- `drop_stop`: drop tokens flagged by the `stopwords` stage.
- `drop_punct`: drop tokens without a letter or digit (punctuation, symbols).

Whitespace-only tokens (spaCy keeps runs of spaces as tokens) are always dropped.
Learners also accept token lists (`list[str]`) instead of documents: those are
used as given, which is what scikit-learn users and tests comparing against other
libraries want.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from pipeline.document import Document
from pipeline.stage import StageError

__all__ = [
    "Field",
    "RepresentError",
    "EmptyVocabularyError",
    "TokenCorpus",
    "TokenSelection",
    "token_stream",
]

Field = Literal["text", "lower", "norm", "lemma", "stem"]

# The stage that sets each column a field needs, for the error message.
_COLUMN_STAGE = {"norm": "normalize", "lemma": "lemmatize", "stem": "stem", "is_stop": "stopwords"}
_HAS_ALNUM = re.compile(r"[^\W_]").search


class RepresentError(StageError):
    """A learner cannot run on these documents as configured; the message says how to fix it."""


class EmptyVocabularyError(RepresentError, ValueError):
    """No term survived token selection and vocabulary limits."""


def _column(doc: Document, name: str, why: str) -> list[Any]:
    values = getattr(doc.tokens, name)
    if values is None:
        stage = _COLUMN_STAGE[name]
        raise RepresentError(
            f"{why} needs the token column {name!r}, which document {doc.id!r} lacks: "
            f"add a `{stage}` stage to `stages:` before the learners"
        )
    return values


def token_stream(
    doc: Document | Iterable[str],
    *,
    field: Field = "lower",
    drop_stop: bool = False,
    drop_punct: bool = True,
) -> list[str]:
    """The selected tokens of one document, as strings, in document order.

    A list (or tuple) of strings is returned as a list, unchanged. Raises
    `RepresentError` naming the stage to add when the document lacks the token
    layer or the column `field` / `drop_stop` needs.
    """
    if not isinstance(doc, Document):
        if isinstance(doc, str):
            raise RepresentError(
                "learners take tokenized Documents or token lists, not raw strings: "
                "run the texts through a `tokenize` stage (or pass text.split())"
            )
        return list(doc)
    tokens = doc.tokens
    if tokens is None:
        raise RepresentError(
            f"document {doc.id!r} has no tokens: add a `tokenize` stage to `stages:` before the learners"
        )
    if field == "lower" and tokens.norm is None:
        # slicing the lowercased text once beats lowercasing every token (when lengths agree)
        text = doc.text
        lowered = text.lower()
        if len(lowered) == len(text):
            values = [lowered[s:e] for s, e in zip(tokens.start, tokens.end, strict=True)]
        else:
            values = [t.lower() for t in tokens.text]
        texts = values  # lowercasing keeps letters letters and spaces spaces
    elif field in ("text", "lower"):
        texts = tokens.text
        norms = tokens.norm
        values = texts if field == "text" else [v.lower() for v in norms]
    elif field in ("norm", "lemma", "stem"):
        values = _column(doc, field, f"field={field!r}")
        texts = tokens.text
    else:
        raise RepresentError(f"unknown token field {field!r}; use text, lower, norm, lemma or stem")
    stops = _column(doc, "is_stop", "drop_stop=True") if drop_stop else None
    if stops is None:
        if values is texts:
            if drop_punct:
                return [v for v in values if _HAS_ALNUM(v)]
            return [v for v in values if v and not v.isspace()]
        if drop_punct:
            return [v for v, t in zip(values, texts, strict=True) if v and _HAS_ALNUM(t)]
        return [v for v, t in zip(values, texts, strict=True) if v and not t.isspace()]
    out = []
    for value, text, stop in zip(values, texts, stops, strict=True):
        if stop or not value or text.isspace():
            continue
        if drop_punct and _HAS_ALNUM(text) is None:
            continue
        out.append(value)
    return out


class TokenSelection:
    """Mixin for learners with the `field` / `drop_stop` / `drop_punct` parameters."""

    field: Field
    drop_stop: bool
    drop_punct: bool

    def select(self, item: Document | Iterable[str]) -> list[str]:
        """The selected tokens of one document (or a token list, used as given)."""
        return token_stream(
            item, field=self.field, drop_stop=self.drop_stop, drop_punct=self.drop_punct
        )

    def token_corpus(self, corpus: Iterable[Any], *, max_length: int | None = None) -> TokenCorpus:
        """A restartable stream of this learner's token lists over `corpus`."""
        return TokenCorpus(corpus, self, max_length=max_length)


class TokenCorpus:
    """A restartable iterable of token lists over a restartable corpus of documents.

    Each iteration re-reads `corpus` (which must be restartable: a list, a reader,
    a run folder's document stream wrapper, never a one-shot generator when
    several passes are needed). `max_length` splits longer documents into pieces
    (gensim's Word2Vec ignores words past 10,000 in one sentence).
    """

    def __init__(
        self, corpus: Iterable[Any], selection: TokenSelection, *, max_length: int | None = None
    ):
        if isinstance(corpus, Iterator):
            raise RepresentError(
                "this learner makes several passes over the corpus: pass a restartable "
                "iterable (a list, a Reader, an object with __iter__), not a generator"
            )
        self.corpus = corpus
        self.selection = selection
        self.max_length = max_length

    def __iter__(self) -> Iterator[list[str]]:
        select = self.selection.select
        limit = self.max_length
        for item in self.corpus:
            tokens = select(item)
            if limit is None or len(tokens) <= limit:
                yield tokens
            else:
                for start in range(0, len(tokens), limit):
                    yield tokens[start : start + limit]
