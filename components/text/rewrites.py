"""The text rewrites behind `normalize`, each returning `(new_text, edits)`.

Every rewrite has a fast path that does no per-character work when it would
change nothing (ASCII text, already-normalized text, no matches), since it runs on
every document of a corpus. Edits follow `components.text.edits`: a replacement maps
its characters to the whole replaced span; one-for-one substitutions need no edit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import partial

from .contractions import contraction_spans
from .edits import Edit, compose, rewrite_spans
from .placeholders import EMAIL, NUM, PLACEHOLDER_RE, URL

__all__ = [
    "collapse_whitespace",
    "expand_contractions",
    "lowercase",
    "mask",
    "strip_accents",
    "unicode_normalize",
]

_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]+")

_URL_RE = re.compile(r"(?:(?:https?|ftp)://|www\.)[^\s<>\"]*[^\s<>\"'.,;:!?)\]}]", re.IGNORECASE)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Starts with \d so the regex engine can skip ahead to digits; a number glued to a
# word ("A380") is rejected afterwards.
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*(?:st|nd|rd|th|s)?(?!\w)")

# A whitespace run needs rewriting when it holds a non-space whitespace character
# or two spaces; the first such spot in a run is at its start or one space in.
_WHITESPACE_TRIGGER_RE = re.compile(r"[^\S ]|  ")
_WHITESPACE_RUN_RE = re.compile(r"\s+")
_ASCII_OTHER_WHITESPACE = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_OTHER_WHITESPACE_RE = re.compile(
    "[\t\n\r\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)  # every character but " " for which str.isspace() is true


def _ascii_led_segments(text: str):
    """Yield `(start, end)` of each non-ASCII run together with the ASCII character
    before it (a possible base for combining marks).

    Cutting the text before ASCII characters is safe for Unicode normalization: an
    ASCII character never composes with, or reorders around, its neighbours.
    """
    for match in _NON_ASCII_RE.finditer(text):
        start = match.start()
        yield (start - 1 if start else start), match.end()


def _clusters(segment: str) -> list[str]:
    """Split a segment into clusters: a starter and the combining marks after it.

    Hangul vowel and trailing jamo stay with the syllable they may compose into.
    """
    combining = unicodedata.combining
    out: list[str] = []
    begin = 0
    for k in range(1, len(segment)):
        ch = segment[k]
        if not combining(ch) and not ("\u1160" <= ch <= "\u11ff" or "\ud7b0" <= ch <= "\ud7ff"):
            out.append(segment[begin:k])
            begin = k
    out.append(segment[begin:])
    return out


def _rewrite_segments(text: str, rewrite: Callable[[str], str]) -> tuple[str, list[Edit]]:
    """Apply `rewrite` to the non-ASCII segments of `text`, cluster by cluster.

    `rewrite(segment)` is the reference result for a whole segment; when the
    cluster-wise results do not join up to it (a rare composition across clusters),
    the whole segment becomes one edit.
    """
    parts: list[str] = []
    edits: list[Edit] = []
    src = 0
    shift = 0
    for start, end in _ascii_led_segments(text):
        segment = text[start:end]
        target = rewrite(segment)
        if target == segment:
            continue
        parts.append(text[src:start])
        clusters = _clusters(segment)
        rewritten = [rewrite(c) for c in clusters]
        if "".join(rewritten) != target:
            clusters, rewritten = [segment], [target]
        pos = start
        for old, new in zip(clusters, rewritten, strict=True):
            if new != old and not (len(old) == 1 and len(new) == 1):
                edits.append((pos + shift, pos + shift + len(new), pos, pos + len(old)))
            shift += len(new) - len(old)
            pos += len(old)
            parts.append(new)
        src = end
    if not parts:
        return text, edits
    parts.append(text[src:])
    return "".join(parts), edits


def unicode_normalize(text: str, form: str) -> tuple[str, list[Edit]]:
    """Apply Unicode normalization `form` (NFC, NFKC, NFD, NFKD) with character alignment."""
    if text.isascii() or unicodedata.is_normalized(form, text):
        return text, []
    normalize = partial(unicodedata.normalize, form)
    return _rewrite_segments(text, normalize)


def strip_accents(text: str, *, recompose: bool = True) -> tuple[str, list[Edit]]:
    """Drop combining marks after canonical decomposition ("café" -> "cafe").

    With `recompose`, what remains is put back in NFC (Hangul syllables, for one).
    """
    if text.isascii():
        return text, []
    normalize = unicodedata.normalize
    combining = unicodedata.combining

    def strip(segment: str) -> str:
        decomposed = normalize("NFD", segment)
        stripped = "".join(ch for ch in decomposed if not combining(ch))
        return normalize("NFC", stripped) if recompose else stripped

    return _rewrite_segments(text, strip)


def _lowercase_piece(text: str, base: int, shift: int, edits: list[Edit]) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered  # one for one everywhere: offsets are unchanged
    # Some characters lowercase to several ("İ" -> "i̇"): record those.
    pos = 0
    for ch in text:
        width = len(ch.lower())
        if width != 1:
            edits.append(
                (base + pos + shift, base + pos + shift + width, base + pos, base + pos + 1)
            )
            shift += width - 1
        pos += 1
    return lowered


def lowercase(text: str) -> tuple[str, list[Edit]]:
    """Lowercase the text, leaving placeholders such as `<URL>` as they are."""
    edits: list[Edit] = []
    if "<" not in text or PLACEHOLDER_RE.search(text) is None:
        return _lowercase_piece(text, 0, 0, edits), edits
    parts: list[str] = []
    src = 0
    for match in PLACEHOLDER_RE.finditer(text):
        shift = sum(len(p) for p in parts) - src
        parts.append(_lowercase_piece(text[src : match.start()], src, shift, edits))
        parts.append(match.group())
        src = match.end()
    shift = sum(len(p) for p in parts) - src
    parts.append(_lowercase_piece(text[src:], src, shift, edits))
    return "".join(parts), edits


def _replace_all(text: str, pattern: re.Pattern[str], placeholder: str) -> tuple[str, list[Edit]]:
    return rewrite_spans(text, ((m.start(), m.end(), placeholder) for m in pattern.finditer(text)))


def _number_spans(text: str):
    for match in _NUMBER_RE.finditer(text):
        start = match.start()
        if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
            continue  # part of a word: "A380", "mp3"
        yield start, match.end(), NUM


def mask(text: str, *, urls: bool, emails: bool, numbers: bool) -> tuple[str, list[Edit]]:
    """Replace URLs, e-mail addresses and numbers by `<URL>`, `<EMAIL>`, `<NUM>`.

    URLs go first, so "http://user@host.org/" is one URL, not an e-mail address.
    """
    edits: list[Edit] = []
    if urls and ("://" in text or "www." in text.lower()):
        text, step = _replace_all(text, _URL_RE, URL)
        edits = compose(edits, step)
    if emails and "@" in text:
        text, step = _replace_all(text, _EMAIL_RE, EMAIL)
        edits = compose(edits, step)
    if numbers:
        text, step = rewrite_spans(text, _number_spans(text))
        edits = compose(edits, step)
    return text, edits


def expand_contractions(text: str) -> tuple[str, list[Edit]]:
    """Expand English contractions: "don't" -> "do not", "I'm" -> "I am", "won't" -> "will not"."""
    if "'" not in text and "\u2019" not in text:
        return text, []
    return rewrite_spans(text, contraction_spans(text))


def _whitespace_spans(text: str):
    """Yield `(start, end, replacement)` for the whitespace runs that need rewriting."""
    n = len(text)
    pos = 0
    if text[0].isspace():
        end = _WHITESPACE_RUN_RE.match(text).end()  # type: ignore[union-attr]
        yield 0, end, ""
        pos = end
    search = _WHITESPACE_TRIGGER_RE.search
    run = _WHITESPACE_RUN_RE.match
    while (trigger := search(text, pos)) is not None:
        start = trigger.start()
        if start > pos and text[start - 1] == " ":
            start -= 1
        end = run(text, start).end()  # type: ignore[union-attr]
        yield start, end, ("" if end == n else " ")
        pos = end
    if pos < n and text[-1].isspace():
        start = n - 1
        while start > pos and text[start - 1].isspace():
            start -= 1
        yield start, n, ""


def collapse_whitespace(text: str) -> tuple[str, list[Edit]]:
    """Collapse every whitespace run (newlines included) to one space; strip both ends."""
    if not text or not _needs_whitespace_work(text):
        return text, []
    return rewrite_spans(text, _whitespace_spans(text))


def _needs_whitespace_work(text: str) -> bool:
    # Substring tests run at memchr speed; a regex scan is several times slower.
    if text[0].isspace() or text[-1].isspace() or "  " in text:
        return True
    if text.isascii():
        return any(ch in text for ch in _ASCII_OTHER_WHITESPACE)
    return _OTHER_WHITESPACE_RE.search(text) is not None
