"""Tokenizer backends: each turns a stream of texts into token offsets `(starts, ends)`.

A backend is built once per process (heavy imports happen here, lazily) and called
as `backend(texts, batch_size)`; it pulls texts one at a time and yields one
`(starts, ends)` pair per text, in order. Offsets index the text given.
"""

from __future__ import annotations

import logging
import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from pipeline.stage import StageError

from .placeholders import PLACEHOLDER_RE
from .resources import punkt_sentence_tokenizer

__all__ = ["BACKENDS", "DEFAULT_PATTERN", "align_tokens", "make_backend"]

logger = logging.getLogger(__name__)

Spans = tuple[list[int], list[int]]

#: Placeholders, numbers with separators ("3.5", "1,200"), words with inner
#: hyphens/apostrophes ("well-known", "don't"), then any other single character.
DEFAULT_PATTERN = r"<(?:URL|EMAIL|NUM)>|\d+(?:[.,:]\d+)+|\w+(?:[-'\u2019]\w+)*|[^\w\s]"

_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_SPACE_RE = re.compile(r"\s*")
_ALIGN_WINDOW = 64


def align_tokens(tokens: Sequence[str], text: str) -> Spans:
    """Find each token in `text`, in order, after the previous one; skip tokens not found.

    For tokenizers that return strings. A token the tokenizer rewrote (an HTML
    entity it decoded, say) is not found near the cursor and is skipped rather than
    given offsets that would not slice to it.
    """
    starts: list[int] = []
    ends: list[int] = []
    cursor = 0
    space = _SPACE_RE.match
    for token in tokens:
        if not token:
            continue
        here = space(text, cursor).end()  # type: ignore[union-attr]
        found = text.find(token, here, here + len(token) + _ALIGN_WINDOW)
        if found < 0:
            continue
        starts.append(found)
        cursor = found + len(token)
        ends.append(cursor)
    return starts, ends


class SpacyBackend:
    """spaCy's rule-based tokenizer for `language` (`spacy.blank(language).tokenizer`).

    Offsets come from one array export per text (`IDX`, `LENGTH`), copied into typed
    `array('q')` columns: no per-token Python code and no per-token int objects. A text
    longer than `WINDOW_CHARS` is tokenized window by window (`spacy_windows`), so only
    one window's spaCy doc exists at a time; the tokens are the same as the whole text's.
    """

    def __init__(self, language: str):
        import numpy
        import spacy
        from spacy.attrs import IDX, LENGTH

        try:
            nlp = spacy.blank(language)
        except (ImportError, ValueError, KeyError) as exc:
            raise StageError(
                f"tokenize: spaCy has no language {language!r} ({exc}); use a code like 'en', 'de', 'fr'"
            ) from exc
        self.tokenizer = nlp.tokenizer
        self.attrs = [IDX, LENGTH]
        self.numpy = numpy

    def __call__(self, texts: Iterable[str], batch_size: int) -> Iterator[Spans]:
        tokenizer = self.tokenizer
        for text in _spacy_safe(texts):
            starts_out, ends_out = array("q"), array("q")
            for offset, window in spacy_windows(text, WINDOW_CHARS):
                self._append(tokenizer(window), offset, starts_out, ends_out)
            yield starts_out, ends_out

    def _append(self, sdoc: Any, offset: int, starts_out: array, ends_out: array) -> None:
        """Append the offsets of `sdoc`'s tokens, shifted by `offset`, to the two columns."""
        if not len(sdoc):
            return
        offsets = self.numpy.ascontiguousarray(sdoc.to_array(self.attrs).view(self.numpy.int64))
        starts = offsets[:, 0] + offset
        starts_out.frombytes(starts.tobytes())
        ends_out.frombytes((starts + offsets[:, 1]).tobytes())


WINDOW_CHARS = 100_000  # longest text spaCy's tokenizer gets at once: its doc is ~40 bytes/char


def spacy_windows(text: str, size: int) -> Iterator[tuple[int, str]]:
    """Cut `text` into `(offset, window)` pieces of about `size` characters that spaCy's
    tokenizer splits exactly as the whole text: each cut falls right after a single space
    between two non-space characters (spaCy tokenizes the runs between spaces on their
    own). A stretch without such a space (e.g. unspaced scripts) stays in one window.
    """
    n = len(text)
    begin = 0
    while n - begin > size:
        cut = _window_cut(text, begin + size // 2, begin + size)
        if cut is None:
            match = _SINGLE_SPACE_RE.search(text, begin + size)
            if match is None:
                break
            cut = match.end()
        yield begin, text[begin:cut]
        begin = cut
    yield begin, text[begin:] if begin else text


_SINGLE_SPACE_RE = re.compile(r"(?<=\S) (?=\S)")


def _window_cut(text: str, low: int, high: int) -> int | None:
    """The last position in `(low, high]` just after a single space between non-spaces."""
    position = text.rfind(" ", low, high)
    while position > low:
        if not text[position - 1].isspace() and not text[position + 1 : position + 2].isspace():
            if position + 1 < len(text):
                return position + 1
        position = text.rfind(" ", low, position)
    return None


def _spacy_safe(texts: Iterable[str]) -> Iterator[str]:
    """Feed texts to spaCy lazily. Its string store cannot encode lone surrogates, so
    they become U+FFFD: same length, so every offset stays valid."""
    for text in texts:
        if not text.isascii() and _SURROGATE_RE.search(text) is not None:
            text = _SURROGATE_RE.sub("\ufffd", text)
        yield text


class RegexBackend:
    """Tokens are the non-empty matches of a regular expression."""

    def __init__(self, pattern: str | None):
        try:
            self.regex = re.compile(pattern if pattern is not None else DEFAULT_PATTERN)
        except re.error as exc:
            raise StageError(
                f"tokenize: pattern {pattern!r} is not a valid regular expression: {exc}"
            ) from exc

    def __call__(self, texts: Iterable[str], batch_size: int) -> Iterator[Spans]:
        finditer = self.regex.finditer
        for text in texts:
            spans = [m.span() for m in finditer(text) if m.end() > m.start()]
            yield [s for s, _ in spans], [e for _, e in spans]


class WhitespaceBackend(RegexBackend):
    """Tokens are the runs of non-whitespace characters."""

    def __init__(self) -> None:
        super().__init__(r"\S+")


class TreebankBackend:
    """NLTK's Penn Treebank tokenizer, sentence by sentence (Punkt), like `nltk.word_tokenize`.

    Treebank splits off a period only at the end of its input, so it runs on each
    sentence rather than the whole text.
    """

    def __init__(self) -> None:
        from nltk.tokenize import TreebankWordTokenizer

        self.tokenizer = TreebankWordTokenizer()
        self.sentences = punkt_sentence_tokenizer("english")

    def _sentence_spans(self, sentence: str) -> Spans:
        try:
            spans = list(self.tokenizer.span_tokenize(sentence))
        except ValueError:  # a token the tokenizer rewrote could not be found: align leniently
            return align_tokens(self.tokenizer.tokenize(sentence), sentence)
        return [s for s, _ in spans], [e for _, e in spans]

    def __call__(self, texts: Iterable[str], batch_size: int) -> Iterator[Spans]:
        for text in texts:
            starts: list[int] = []
            ends: list[int] = []
            for s_start, s_end in self.sentences.span_tokenize(text):
                sub_starts, sub_ends = self._sentence_spans(text[s_start:s_end])
                starts.extend(s + s_start for s in sub_starts)
                ends.extend(e + s_start for e in sub_ends)
            yield starts, ends


class TweetBackend:
    """NLTK's `TweetTokenizer` (emoticons, hashtags, @handles), aligned back to the text."""

    def __init__(self) -> None:
        from nltk.tokenize import TweetTokenizer

        self.tokenizer = TweetTokenizer(preserve_case=True, reduce_len=False, strip_handles=False)
        self.fallback = RegexBackend(None)

    def __call__(self, texts: Iterable[str], batch_size: int) -> Iterator[Spans]:
        for text in texts:
            try:
                tokens = self.tokenizer.tokenize(text)
            except TimeoutError:  # NLTK's guard against adversarial input
                logger.warning(
                    "tweet tokenizer timed out on a %d-character text; used the regex backend",
                    len(text),
                )
                yield next(self.fallback([text], 1))
                continue
            yield align_tokens(tokens, text)


BACKENDS = ("spacy", "regex", "nltk-treebank", "nltk-tweet", "whitespace")


def make_backend(backend: str, *, language: str = "en", pattern: str | None = None) -> Any:
    """Build the tokenizer backend named `backend` (one of `BACKENDS`)."""
    if backend == "spacy":
        return SpacyBackend(language)
    if backend == "regex":
        return RegexBackend(pattern)
    if backend == "whitespace":
        return WhitespaceBackend()
    if backend == "nltk-treebank":
        return TreebankBackend()
    if backend == "nltk-tweet":
        return TweetBackend()
    raise StageError(f"tokenize: unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")


def keep_placeholders(text: str, starts: list[int], ends: list[int]) -> Spans:
    """Make every placeholder (`<URL>`, ...) in `text` one token, cutting tokens around it."""
    if "<" not in text:
        return starts, ends
    places = [m.span() for m in PLACEHOLDER_RE.finditer(text)]
    if not places:
        return starts, ends
    spans: list[tuple[int, int]] = list(places)
    k = 0
    for start, end in zip(starts, ends, strict=True):
        while k < len(places) and places[k][1] <= start:
            k += 1
        cursor = start
        m = k
        while m < len(places) and places[m][0] < end:
            p_start, p_end = places[m]
            if p_start > cursor:
                spans.append((cursor, p_start))
            cursor = max(cursor, p_end)
            m += 1
        if cursor < end:
            spans.append((cursor, end))
    spans.sort()
    return [s for s, _ in spans], [e for _, e in spans]


def clean_spans(starts: list[int], ends: list[int], length: int) -> Spans:
    """Drop empty, out-of-range and overlapping spans (keeping the earlier), in order."""
    out_starts: list[int] = []
    out_ends: list[int] = []
    last = 0
    for start, end in sorted(zip(starts, ends, strict=True)):
        if start < last or end <= start or end > length:
            continue
        out_starts.append(start)
        out_ends.append(end)
        last = end
    return out_starts, out_ends
