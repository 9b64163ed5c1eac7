"""Guess the encoding of bytes that carry no byte-order mark and declare none.

UTF-8 when the bytes decode as UTF-8; otherwise charset-normalizer's guess, checked
among the Latin single-byte code pages. charset-normalizer tells Cyrillic, Greek or
Arabic code pages apart well, but among cp1250, cp1252, cp1257, iso8859-* it often
ranks a wrong one first on mostly-ASCII text: Portuguese news in Latin-1 comes out as
cp1257 ("simulaēões") and short French text as cp1250 ("Crčme"). Every one of those
decodes such bytes without error, so the choice among them is made here by which
decoding spells its accented letters as one real language does; ties go to cp1252,
the most common legacy encoding of Western text (and a superset of Latin-1's letters).
"""

from __future__ import annotations

import codecs
from collections import Counter

__all__ = ["detect_encoding"]

# Non-ASCII letters (lower case) of the languages written in Latin single-byte code pages.
_ALPHABETS = (
    "áâãàçéêíóôõúºª",  # Portuguese
    "áéíñóúüºª¡¿",  # Spanish
    "àâæçéèêëîïôœùûüÿ",  # French
    "äöüß",  # German
    "àèéìíîòóùºª",  # Italian
    "àçèéíïòóúü·",  # Catalan
    "éëïóöü",  # Dutch
    "æøåé",  # Danish, Norwegian
    "åäöé",  # Swedish, Finnish
    "áðéíóúýþæö",  # Icelandic
    "ąćęłńóśźż",  # Polish
    "áčďéěíňóřšťúůýž",  # Czech
    "áäčďéíĺľňóôŕšťúýž",  # Slovak
    "áéíóöőúüű",  # Hungarian
    "ăâîșşțţ",  # Romanian
    "çğıöşüâî",  # Turkish
    "čćđšž",  # Croatian, Slovenian, Bosnian
    "āčēģīķļņšūž",  # Latvian
    "ąčęėįšųūž",  # Lithuanian
    "äõöüšž",  # Estonian
    "ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ",  # Vietnamese
)
# Typography found in text of any of those languages.
_PUNCTUATION = frozenset("\xa0–—‘’‚“”„«»…•·°€£§©®™×")
_ASCII = bytes(range(128))


def detect_encoding(sample: bytes) -> str | None:
    """The codec `sample` (a file or its start, cut at a line end) is most likely written in.

    "utf-8" for UTF-8 (and ASCII); else charset-normalizer's guess, replaced by the
    Latin code page that spells the text best (see the module docstring). Returns None
    when no encoding fits, which is what binary data looks like.
    """
    if _is_utf8(sample):
        return "utf-8"
    from charset_normalizer import from_bytes

    results = from_bytes(sample)
    best = results.best()
    if best is None:
        return None
    high = Counter(sample.translate(None, _ASCII))  # byte value -> count, non-ASCII only
    if not _is_latin(_decode_bytes(high, best.encoding), high):
        return best.encoding
    names = ["cp1252", best.encoding] + [r.encoding for r in results if r.chaos <= best.chaos]
    spelled = []
    for rank, name in enumerate(dict.fromkeys(names)):
        chars = _decode_bytes(high, name)
        if chars is not None:
            spelled.append((_spelling_score(chars, high), -rank, name))
    return max(spelled)[2] if spelled else best.encoding


def _is_utf8(sample: bytes) -> bool:
    """Whether `sample` is UTF-8, allowing a character cut off at its very end."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _decode_bytes(high: Counter[int], encoding: str) -> dict[int, str] | None:
    """Each non-ASCII byte value decoded alone; None when `encoding` is not single-byte for them."""
    chars = {}
    for value in high:
        try:
            char = bytes([value]).decode(encoding)
        except (UnicodeDecodeError, LookupError):
            return None
        if len(char) != 1:
            return None
        chars[value] = char
    return chars


def _is_latin(chars: dict[int, str] | None, high: Counter[int]) -> bool:
    """Whether most non-ASCII letters of a single-byte decoding are Latin letters."""
    if chars is None:
        return False
    letters = sum(n for value, n in high.items() if chars[value].isalpha())
    latin = sum(n for value, n in high.items() if _is_latin_letter(chars[value]))
    return letters > 0 and latin >= 0.5 * letters


def _is_latin_letter(char: str) -> bool:
    return char in "ªº" or (0xC0 <= ord(char) <= 0x24F and char not in "×÷")


def _spelling_score(chars: dict[int, str], high: Counter[int]) -> float:
    """The largest share of non-ASCII characters that one language's alphabet accounts for."""
    total = sum(high.values())
    lowered = {value: char.lower() for value, char in chars.items()}
    return max(
        sum(
            n
            for value, n in high.items()
            if lowered[value] in alphabet or lowered[value] in _PUNCTUATION
        )
        / total
        for alphabet in _ALPHABETS
    )
