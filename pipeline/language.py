"""Document language: the declared one (e.g. a feed's `<language>`), else detected offline.

Stages whose model is for one language (the English spaCy stages, coref) pass documents
in other languages through unannotated and say so with `mark_skipped`: the stage's name
goes into `meta["skipped_stages"]`, and the runner counts them per language
(`skipped_languages`) in the shard's stage stats and the manifest.

Detection uses `py3langid` (a maintained fork of langid.py; its naive Bayes model, 97
languages, ships inside the wheel as a NumPy archive: no download, no pickle). The
identifier is built once per process (about 0.6 s) and classifies a news item in well
under a millisecond.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from .document import Document

__all__ = [
    "LANGUAGE_MODULES",
    "DETECT_CHARS",
    "MIN_CONFIDENCE",
    "SKIPPED_KEY",
    "declared_language",
    "detect_language",
    "document_language",
    "mark_skipped",
    "set_languages",
    "skipped_languages",
]

LANGUAGE_MODULES = ("py3langid",)  # imported by detection; process pools preload them
DETECT_CHARS = 2000  # the start of a text decides its language; longer texts cost time only
MIN_CONFIDENCE = 0.7  # below this (short, mixed or odd texts) the language stays unknown
_CODE_RE = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*\s*$")


def declared_language(value: Any) -> str | None:
    """The ISO 639 code of a declared language tag ("de-DE" -> "de", "en_us" -> "en"), or None."""
    if not isinstance(value, str):
        return None
    match = _CODE_RE.match(value)
    return match.group(1).lower() if match else None


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of the language `text` is written in, or None when the detector
    is not at least `MIN_CONFIDENCE` sure (or the text has no letters)."""
    sample = text[:DETECT_CHARS]
    if not any(ch.isalpha() for ch in sample):
        return None
    code, confidence = _identifier().classify(sample)
    return str(code) if confidence >= MIN_CONFIDENCE else None


def document_language(doc: Document) -> str | None:
    """`doc.meta["language"]`: kept when the source declared it (normalized to its ISO
    639 code), else detected from the text and set. None when it cannot be told."""
    code = declared_language(doc.meta.get("language")) or detect_language(doc.text)
    doc.meta["language"] = code
    return code


def set_languages(docs: Iterable[Document]) -> None:
    """Set `meta["language"]` on every document that does not carry one yet."""
    for doc in docs:
        if doc.meta.get("language") is None:
            document_language(doc)


SKIPPED_KEY = "skipped_stages"


def mark_skipped(doc: Document, stage: str) -> None:
    """Record that `stage` left `doc` unannotated because of its language."""
    skipped = doc.meta.setdefault(SKIPPED_KEY, [])
    if stage not in skipped:
        skipped.append(stage)


def skipped_languages(docs: Iterable[Document], stage: str) -> dict[str, int]:
    """How many of `docs` `stage` skipped, per language ("?" when unknown), sorted by code."""
    counts: dict[str, int] = {}
    for doc in docs:
        if stage in doc.meta.get(SKIPPED_KEY, ()):
            code = doc.meta.get("language") or "?"
            counts[code] = counts.get(code, 0) + 1
    return dict(sorted(counts.items()))
