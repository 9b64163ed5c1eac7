"""The `tokenize` stage: token offsets into the original text, from one of five backends."""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Iterator
from functools import partial
from itertools import groupby
from typing import Any, Literal

from pipeline.document import Alignment, Document
from pipeline.language import declared_language
from pipeline.registry import register
from pipeline.stage import Stage, StageError

from .tokenizers import clean_spans, keep_placeholders, make_backend

__all__ = ["Tokenize"]


@register("stage", "tokenize")
class Tokenize(Stage):
    """Split the (normalized) text into tokens whose offsets slice the original text.

    - `backend`: "spacy" (spaCy's rule-based tokenizer, `spacy.blank(language)`, no
      model needed; exactly spaCy's tokens, whitespace tokens included), "regex"
      (matches of `pattern`), "nltk-treebank" (Penn Treebank conventions, per Punkt
      sentence, like `nltk.word_tokenize`), "nltk-tweet" (NLTK's TweetTokenizer:
      emoticons, hashtags, handles) or "whitespace".
    - `language`: spaCy language code for the spaCy backend. A document whose
      `meta["language"]` (declared by its source, or set by the runner) is another
      language that spaCy tokenizes without extra packages ("de", "pt", "ru", ...) gets
      that language's rules instead ("Im" stays one German word, "quarta-feira" one
      Portuguese word); no detection runs here.
    - `pattern`: regular expression for the regex backend; the default keeps
      placeholders, numbers like "3.5", words with inner hyphens or apostrophes,
      and makes every other non-space character a token.

    Works on `doc.working_text` and maps offsets back through the alignment, so
    `doc.text[start:end]` is always the token's original text and `norm` holds its
    normalized form. In normalized text, placeholders (`<URL>`, `<EMAIL>`, `<NUM>`)
    are single tokens in every backend. Tokens are ordered and never overlap: tokens
    that come from one original character (NFKC makes "⑴" into "(1)") are merged.
    For the spaCy backend, `batch_size` is passed on to `tokenizer.pipe`; documents
    are yielded one by one as they are done.
    """

    version = "2"

    def __init__(
        self,
        *,
        backend: Literal["spacy", "regex", "nltk-treebank", "nltk-tweet", "whitespace"] = "spacy",
        language: str = "en",
        pattern: str | None = None,
    ):
        self.backend = backend
        self.language = language
        self.pattern = pattern

    def imports(self) -> tuple[str, ...]:
        """spaCy or NLTK for their backends; nothing for regex and whitespace."""
        if self.backend == "spacy":
            return ("spacy",)
        return ("nltk",) if self.backend.startswith("nltk") else ()

    def _tokenizer(self):
        return self._resource(
            "tokenizer",
            partial(make_backend, self.backend, language=self.language, pattern=self.pattern),
        )

    def _spacy_for(self, language: str) -> Any:
        """spaCy's tokenizer for `language`, or None when spaCy cannot make one here."""
        try:
            return self._resource(
                f"tokenizer:{language}", partial(make_backend, "spacy", language=language)
            )
        except StageError:  # no such language, or one that needs a package not installed
            self._keep_resource(f"tokenizer:{language}", None)
            return None

    def _rules_for(self, doc: Document) -> str:
        """The language whose spaCy rules tokenize `doc`: its own when known and available."""
        code = declared_language(doc.meta.get("language"))
        if code is None or code == self.language or self._spacy_for(code) is None:
            return self.language
        return code

    def pipe(self, docs: Iterable[Document], *, batch_size: int = 256) -> Iterator[Document]:
        """Tokenize a stream of documents lazily, yielding each as soon as it is done."""
        if self.backend != "spacy":
            yield from self._tokenize(docs, self._tokenizer(), batch_size)
            return
        for language, run in groupby(docs, key=self._rules_for):
            tokenizer = (
                self._tokenizer() if language == self.language else self._spacy_for(language)
            )
            yield from self._tokenize(run, tokenizer, batch_size)

    def _tokenize(
        self, docs: Iterable[Document], tokenizer: Any, batch_size: int
    ) -> Iterator[Document]:
        exact = self.backend == "spacy"
        pending: deque[Document] = deque()
        for starts, ends in tokenizer(_working_texts(docs, pending), batch_size):
            doc = pending.popleft()
            text = doc.working_text
            if not exact:
                starts, ends = clean_spans(starts, ends, len(text))
            if doc.normalized is not None and "<" in text:
                starts, ends = keep_placeholders(text, starts, ends)
            if doc.alignment:
                starts, ends = _merge_overlaps(doc.alignment, starts, ends)
            doc.set_tokens(starts, ends)
            yield doc


def _working_texts(docs: Iterable[Document], pending: deque[Document]) -> Iterator[str]:
    """Yield each document's working text, queueing the document to pair it with its tokens."""
    for doc in docs:
        pending.append(doc)
        yield doc.working_text


def _merge_overlaps(
    alignment: Alignment, starts: list[int], ends: list[int]
) -> tuple[list[int], list[int]]:
    """Merge tokens whose original spans would overlap; drop those mapping to nothing.

    Only tokens starting inside a multi-character edit can collide, so the full
    check runs only when one does.
    """
    for ns, ne, os_, oe in alignment.edits:
        if ne - ns < 2 and oe > os_:
            continue
        i = bisect_left(starts, ns if oe == os_ else ns + 1)
        if i < len(starts) and starts[i] < ne:
            break
    else:
        return starts, ends
    span = alignment.span
    out_starts: list[int] = []
    out_ends: list[int] = []
    last_end = -1
    for start, end in zip(starts, ends, strict=True):
        o_start, o_end = span(start, end)
        if o_end <= o_start:
            continue
        if out_starts and o_start < last_end:
            out_ends[-1] = end
            last_end = max(last_end, o_end)
            continue
        out_starts.append(start)
        out_ends.append(end)
        last_end = o_end
    return out_starts, out_ends
