"""The `ner` stage: named entities from spaCy's statistical model plus rule patterns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pipeline.document import Document, Span
from pipeline.registry import register
from pipeline.stage import StageError

from .spacy_models import load_model
from .spacy_stages import Piece, SpacyStage, required

__all__ = ["NamedEntities"]

# token-pattern attributes that only the tagger, lemmatizer or parser can provide
_TAGGED_ATTRS = frozenset({"POS", "TAG", "MORPH"})
_LEMMA_ATTRS = frozenset({"LEMMA"})
_PARSED_ATTRS = frozenset({"DEP", "SENT_START", "IS_SENT_START"})


@register("stage", "ner")
class NamedEntities(SpacyStage):
    """Find named entities: `doc.entities`, labelled character spans of the original text.

    - `model`: the spaCy pipeline (see `pos`); its statistical NER runs when
      `statistical` is true.
    - `patterns`: spaCy EntityRuler patterns, each `{"label": ..., "pattern": ...}`
      with a phrase (`"Acme Corp"`, matched on the exact token texts) or a list of
      token patterns (`[{"TEXT": {"REGEX": "^[A-Z]{2,5}$"}}]`); an optional `id`.
    - `precedence`: which side wins when a rule match overlaps a model entity.
      "rules" (default): the rule match replaces the overlapping model entities.
      "model": the model entity is kept and the rule match dropped. Among rule
      matches, the longest wins, then the earliest.
    - `statistical`: false to use only the patterns (no model NER runs).

    Token patterns that test POS, TAG, MORPH, LEMMA or DEP make the tagger (lemmatizer,
    parser) run too. Entities are ordered and never overlap; offsets always index the
    original text, through the token layer.
    """

    version = "2"

    def __init__(
        self,
        *,
        model: str | None = None,
        patterns: list[dict[str, Any]] = [],  # noqa: B006 - stored, never mutated
        precedence: Literal["model", "rules"] = "rules",
        statistical: bool = True,
    ):
        self.model = model
        self.patterns = patterns
        self.precedence = precedence
        self.statistical = statistical

    def _pattern_attrs(self) -> set[str]:
        attrs: set[str] = set()
        for entry in self.patterns:
            pattern = entry.get("pattern") if isinstance(entry, dict) else None
            if isinstance(pattern, list):
                for token in pattern:
                    if isinstance(token, dict):
                        attrs.update(str(key).upper() for key in token)
        return attrs

    def spacy_components(self, nlp: Any) -> set[str]:
        """The statistical `ner`, plus what token patterns need (tagger, lemmatizer, parser)."""
        needed: set[str] = set()
        if self.statistical:
            needed |= required(nlp, "ner", ("ner",))
        attrs = self._pattern_attrs()
        if attrs & (_TAGGED_ATTRS | _LEMMA_ATTRS | _PARSED_ATTRS):
            needed |= required(nlp, "ner", ("tagger", "morphologizer"), any_of=True)
            needed |= {"attribute_ruler"} & set(nlp.pipe_names)
            if "parser" in nlp.pipe_names:  # POS from the attribute ruler follows the parse
                needed.add("parser")
        if attrs & _LEMMA_ATTRS:
            needed |= required(nlp, "ner", ("lemmatizer",))
        return needed

    def _ruler(self) -> Any:
        """The EntityRuler for `patterns` (built once), or None without patterns."""
        return self._resource("ruler", self._build_ruler)

    def _build_ruler(self) -> Any:
        if not self.patterns:
            return None
        nlp = load_model(self.model)
        return _make_ruler(nlp, self.patterns, self.precedence == "rules")

    def reads_piece_docs(self) -> bool:
        """Only to run the rule `patterns` (or with `statistical` off); the model's
        entities alone are kept with each piece (`piece.ents`)."""
        return bool(self.patterns) or not self.statistical

    def write(self, doc: Document, pieces: Sequence[Piece]) -> None:
        """Set `doc.entities` from the model's entities and the rule matches."""
        tokens = doc.tokens
        assert tokens is not None
        ruler = self._ruler()
        starts, ends, text = tokens.start, tokens.end, doc.text
        entities: list[Span] = []
        for piece in pieces:
            if ruler is None and self.statistical:
                ents = piece.ents
            else:
                # start from the model's own entities (or none), whatever a fused stage did
                sdoc = piece.doc
                sdoc.ents = piece.ents if self.statistical else ()
                if ruler is not None:
                    ruler(sdoc)
                ents = sdoc.ents
            for ent in ents:
                first, last = piece.offset + ent.start, piece.offset + ent.end - 1
                # the model may take in the blank line that ends a paragraph: leave it out
                while last >= first and text[starts[last] : ends[last]].isspace():
                    last -= 1
                while first <= last and text[starts[first] : ends[first]].isspace():
                    first += 1
                if first > last:
                    continue
                start, end = starts[first], ends[last]
                entities.append(Span(start, end, text[start:end], ent.label_))
        doc.entities = entities


def _make_ruler(nlp: Any, patterns: list[dict[str, Any]], overwrite: bool) -> Any:
    """A standalone spaCy EntityRuler over the model's vocabulary and tokenizer.

    It lives outside the shared pipeline (other stages on the same model must not see
    it) on a blank pipeline that shares the vocab and tokenizer, so phrase patterns are
    tokenized exactly like the documents and nothing else runs on them.
    """
    import spacy
    from spacy.errors import MatchPatternError
    from spacy.pipeline import EntityRuler

    for i, entry in enumerate(patterns):
        if not isinstance(entry, dict) or "label" not in entry or "pattern" not in entry:
            raise StageError(
                f"ner: patterns[{i}] must be a mapping with `label` and `pattern`, got {entry!r}"
            )
        if not isinstance(entry["pattern"], str | list) or not entry["pattern"]:
            raise StageError(
                f"ner: patterns[{i}].pattern must be a phrase (text) or a non-empty list of "
                f"token patterns, got {entry['pattern']!r}"
            )
    host = spacy.blank(nlp.lang, vocab=nlp.vocab)
    host.tokenizer = nlp.tokenizer
    ruler = EntityRuler(host, validate=True, overwrite_ents=overwrite)
    try:
        ruler.add_patterns(patterns)
    except (MatchPatternError, ValueError) as exc:
        message = " ".join(str(exc).split())
        raise StageError(f"ner: invalid entity pattern: {message}") from exc
    return ruler
