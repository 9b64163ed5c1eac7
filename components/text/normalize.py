"""The `normalize` stage: a normalized copy of the text, aligned back to the original."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

from pipeline.document import Alignment, Document
from pipeline.registry import register
from pipeline.stage import Stage, StageError

from . import rewrites
from .edits import Edit, compose

__all__ = ["Normalize", "normalize_text"]

UNICODE_FORMS = ("NFKC", "NFC", "NFKD", "NFD", "none")


def normalize_text(
    text: str,
    *,
    unicode: str = "NFKC",
    whitespace: bool = True,
    lowercase: bool = False,
    strip_accents: bool = False,
    expand_contractions: bool = False,
    mask_urls: bool = False,
    mask_emails: bool = False,
    mask_numbers: bool = False,
) -> tuple[str, list[Edit]]:
    """Normalize `text`; return the new text and the edits mapping it back to `text`.

    Steps run in a fixed order: Unicode form, accents, case, masks, contractions,
    whitespace. Parameters are those of `Normalize`.
    """
    edits: list[Edit] = []
    if unicode != "none":
        text, step = rewrites.unicode_normalize(text, unicode)
        edits = compose(edits, step)
    if strip_accents:
        text, step = rewrites.strip_accents(text, recompose=unicode in ("NFC", "NFKC", "none"))
        edits = compose(edits, step)
    if lowercase:
        text, step = rewrites.lowercase(text)
        edits = compose(edits, step)
    if mask_urls or mask_emails or mask_numbers:
        text, step = rewrites.mask(text, urls=mask_urls, emails=mask_emails, numbers=mask_numbers)
        edits = compose(edits, step)
    if expand_contractions:
        text, step = rewrites.expand_contractions(text)
        edits = compose(edits, step)
    if whitespace:
        text, step = rewrites.collapse_whitespace(text)
        edits = compose(edits, step)
    return text, edits


@register("stage", "normalize")
class Normalize(Stage):
    """Normalize text (Unicode form, whitespace, case, accents, contractions, masks), aligned to the original.

    Never touches `doc.text`: sets `doc.normalized` and `doc.alignment`, whose edits
    map every normalized span back to the original, so later stages report original
    offsets. Running it on an already normalized document normalizes the normalized
    text again and composes the alignments.

    - `unicode`: Unicode normalization form, or "none".
    - `whitespace`: strip both ends and collapse every whitespace run, newlines
      included, to one space. Paragraph breaks stay visible in the original text,
      where `sentences` looks for them.
    - `lowercase`, `strip_accents` ("café" -> "cafe").
    - `expand_contractions`: English; "don't" -> "do not", "I'm" -> "I am",
      "won't" -> "will not", "it's" -> "it is" (other "'s" are left alone: possessive);
      the case of the first letter (or ALL CAPS) is kept.
    - `mask_urls`, `mask_emails`, `mask_numbers`: replace by `<URL>`, `<EMAIL>`,
      `<NUM>`, which every tokenizer backend keeps as single tokens.

    A replaced piece (a masked URL, a ligature, a collapsed whitespace run) maps as a
    whole to the original span it replaced. Put it before `tokenize`: tokens already
    made are not redone.
    """

    version = "1"

    def __init__(
        self,
        *,
        unicode: Literal["NFKC", "NFC", "NFKD", "NFD", "none"] = "NFKC",
        whitespace: bool = True,
        lowercase: bool = False,
        strip_accents: bool = False,
        expand_contractions: bool = False,
        mask_urls: bool = False,
        mask_emails: bool = False,
        mask_numbers: bool = False,
    ):
        self.unicode = unicode
        self.whitespace = whitespace
        self.lowercase = lowercase
        self.strip_accents = strip_accents
        self.expand_contractions = expand_contractions
        self.mask_urls = mask_urls
        self.mask_emails = mask_emails
        self.mask_numbers = mask_numbers

    def pipe(self, docs: Iterable[Document], *, batch_size: int = 256) -> Iterator[Document]:
        """Normalize each document's working text; yields the documents (batching is not needed)."""
        if self.unicode not in UNICODE_FORMS:
            raise StageError(
                f"normalize: unicode={self.unicode!r} is not a normalization form; "
                f"use one of {', '.join(UNICODE_FORMS)}"
            )
        params = self.get_params()
        for doc in docs:
            text, edits = normalize_text(doc.working_text, **params)
            if doc.normalized is not None and doc.alignment:
                edits = compose(doc.alignment.edits, edits)
            doc.normalized = text
            doc.alignment = Alignment(edits)
            yield doc
