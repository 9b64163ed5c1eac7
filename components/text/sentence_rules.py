"""Rule-based sentence boundaries for English-like text, on tokens or on raw text.

A sentence ends at a token of `.`, `!`, `?` or `…` (with any closing quotes or
brackets right after it) when the next token starts with an uppercase letter, a
digit, an opening quote or bracket, or a placeholder, or when the text ends. A
period after a known abbreviation ("Mr.", "Jan."), an initial ("J.") or a dotted
abbreviation ("U.S.") ends nothing. Boundaries are returned as cut positions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .placeholders import PLACEHOLDER_RE

__all__ = ["ABBREVIATIONS", "PARAGRAPH_RE", "token_cuts", "text_cuts"]

ABBREVIATIONS = frozenset(
    """
    mr mrs ms messrs dr prof sr jr st mt ft gen gov sen rep lt col sgt capt cmdr adm maj
    rev hon pres supt det insp cpl pvt jan feb mar apr jun jul aug sep sept oct nov dec
    mon tue tues wed thu thur thurs fri sat sun no nos fig vol vols pp ch sec dept est
    approx inc ltd co corp bros vs etc al e.g i.e cf
    """.split()
)

_TERMINALS = ".!?\u2026"
_CLOSERS = "\"'\u201d\u2019\u00bb)]}"
_OPENERS = "\"'\u201c\u2018\u00ab([{"

#: A blank line (or a Unicode paragraph separator) always ends a sentence.
PARAGRAPH_RE = re.compile(r"\n[^\S\n]*\n|\u2029")

_CANDIDATE_RE = re.compile(f"[{re.escape(_TERMINALS)}]+[{re.escape(_CLOSERS)}]*(?=\\s|\\Z)")
_NEXT_WORD_RE = re.compile(r"\s*(\S+)")


def _is_abbreviation(word: str) -> bool:
    word = word.lstrip(_OPENERS)
    return (
        word.lower() in ABBREVIATIONS
        or (len(word) == 1 and word.isalpha())
        or ("." in word and not word.endswith("."))
    )


def _ends_sentence(token: str, previous: str | None) -> bool:
    """Whether `token` (with `previous` directly before it, if adjacent) can end a sentence."""
    core = token.rstrip(_CLOSERS)
    if not core or core[-1] not in _TERMINALS:
        return False
    if core[-1] != "." or core.endswith(".."):
        return True
    word = core[:-1]
    if not word:
        if previous is None:
            return True
        word = previous
    return not _is_abbreviation(word)


def _starts_sentence(token: str) -> bool:
    first = token[0]
    return (
        first.isupper()
        or first.isdigit()
        or first in _OPENERS
        or PLACEHOLDER_RE.match(token) is not None
    )


def token_cuts(texts: Sequence[str], starts: Sequence[int], ends: Sequence[int]) -> list[int]:
    """Sentence ends (as character offsets, from `ends`) found on a token sequence.

    Whitespace-only tokens are skipped; `texts` are the token strings the rules read
    (the normalized forms when there are any).
    """
    words = [i for i, t in enumerate(texts) if t and not t.isspace()]
    cuts: list[int] = []
    k = 0
    n = len(words)
    while k < n:
        i = words[k]
        previous = None
        if k and ends[words[k - 1]] == starts[i]:
            previous = texts[words[k - 1]]
        if _ends_sentence(texts[i], previous):
            while (
                k + 1 < n
                and texts[words[k + 1]].strip(_CLOSERS) == ""
                and starts[words[k + 1]] == ends[words[k]]
            ):
                k += 1
            if k + 1 >= n or _starts_sentence(texts[words[k + 1]]):
                cuts.append(ends[words[k]])
        k += 1
    return cuts


def text_cuts(text: str) -> list[int]:
    """Sentence ends (character offsets into `text`) found with the same rules on raw text."""
    cuts: list[int] = []
    for match in _CANDIDATE_RE.finditer(text):
        start, end = match.span()
        nxt = _NEXT_WORD_RE.match(text, end)
        if nxt is not None and nxt.group(1) and not _starts_sentence(nxt.group(1)):
            continue
        punct = match.group().rstrip(_CLOSERS)
        if punct == ".":
            before = text[max(0, start - 40) : start].split()
            if before and not text[start - 1].isspace() and _is_abbreviation(before[-1]):
                continue
        cuts.append(end)
    return cuts
