"""English contraction expansion as piecewise rewrites ("don't" -> "do" + " not").

Each expansion keeps the stem and the clitic as separate pieces, so after
tokenization "do" maps back to "do" and "not" to "n't" in the original text, the
way spaCy's tokenizer splits the contraction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .edits import Rewrite

__all__ = ["contraction_spans"]

#: Irregular negations: the stem changes too ("won't" -> "will not").
_NEGATION_STEMS = {"wo": "will", "ca": "can", "sha": "shall", "ai": "is"}
_CLITICS = {"m": "am", "re": "are", "ve": "have", "ll": "will", "d": "would", "s": "is"}
#: 's is expanded only after these words; elsewhere it is a possessive or ambiguous.
_S_IS_WORDS = frozenset(("it", "he", "she", "that", "what", "there", "here", "who", "where", "how"))

# Scanning for the apostrophe first (a character-class prefix) is far cheaper than a
# pattern that starts at every word.
_CLITIC_RE = re.compile(r"['\u2019](?:[tT]|[mM]|[rR][eE]|[vV][eE]|[lL][lL]|[dD]|[sS])\b")
_WORD_BEFORE_RE = re.compile(r"\w+\Z")


def _match_case(new: str, old: str) -> str:
    """Give `new` the case pattern of `old`: ALL CAPS, Capitalized or as written."""
    if len(old) > 1 and old.isupper():
        return new.upper()
    if old[:1].isupper():
        return new[:1].upper() + new[1:]
    return new


def contraction_spans(text: str) -> Iterator[tuple[int, int, Rewrite]]:
    """Yield `(start, end, pieces)` for each English contraction in `text`.

    "don't" -> "do not", "can't" -> "can not", "won't" -> "will not", "I'm" -> "I am",
    "we'll" -> "we will", "they'd" -> "they would", "it's" -> "it is", "let's" -> "let us";
    other "'s" (possessives) are left alone. Case follows the original: "Don't" ->
    "Do not", "DON'T" -> "DO NOT".
    """
    for match in _CLITIC_RE.finditer(text):
        apostrophe, end = match.start(), match.end()
        if not apostrophe or not (text[apostrophe - 1].isalnum() or text[apostrophe - 1] == "_"):
            continue
        word = _WORD_BEFORE_RE.search(text, max(0, apostrophe - 40), apostrophe)
        if word is None:
            continue
        start, stem = word.start(), word.group()
        clitic = text[apostrophe + 1 : end]
        shout = len(stem) + len(clitic) >= 2 and (stem + clitic).isupper()
        key = clitic.lower()
        if key == "t":
            if len(stem) < 2 or stem[-1] not in "nN":
                continue
            base = stem[:-1]
            new_base = _NEGATION_STEMS.get(base.lower())
            new_base = base if new_base is None else _match_case(new_base, base)
            yield (
                start,
                end,
                [(len(base), new_base), (end - start - len(base), " NOT" if shout else " not")],
            )
            continue
        if key == "s":
            lowered = stem.lower()
            if lowered == "let":
                expansion = "us"
            elif lowered in _S_IS_WORDS:
                expansion = "is"
            else:
                continue
        else:
            expansion = _CLITICS[key]
        tail = " " + (expansion.upper() if shout else expansion)
        yield start, end, [(len(stem), stem), (end - apostrophe, tail)]
