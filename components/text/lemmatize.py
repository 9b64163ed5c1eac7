"""The `lemmatize` stage: lemmas from spaCy's rule lemmatizer, spaCy lookup tables or WordNet."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any, Literal

from pipeline.document import Document
from pipeline.registry import register
from pipeline.stage import StageError

from .spacy_stages import Piece, SpacyStage, piece_strings, required
from .wsd import load_wordnet, wordnet_pos

__all__ = ["Lemmatize", "lookup_languages"]

LOOKUPS_PACKAGE = "spacy-lookups-data"
_CACHE_MAX = 1 << 20  # (form, POS) pairs remembered per lemmatizer: a corpus repeats its words


def lookup_languages() -> list[str]:
    """Language codes with a `lemma_lookup` table in the installed `spacy-lookups-data`."""
    from importlib.resources import files

    data = files("spacy_lookups_data") / "data"
    suffix = "_lemma_lookup.json.gz"
    return sorted(p.name[: -len(suffix)] for p in data.iterdir() if p.name.endswith(suffix))


def _lookup_lemmatizer(language: str) -> Callable[[str, str | None], str]:
    """Lemma of a word from spaCy's lookup table for `language` (`spacy-lookups-data`);
    the POS is ignored (the tables have none)."""
    if importlib.util.find_spec("spacy_lookups_data") is None:
        raise StageError(
            f"lemmatize: backend 'lookup' needs spaCy's lookup tables: `pip install {LOOKUPS_PACKAGE}`"
        )
    if language not in lookup_languages():
        raise StageError(
            f"lemmatize: no lemma lookup table for language {language!r} in {LOOKUPS_PACKAGE}; "
            f"available: {', '.join(lookup_languages())}"
        )
    from spacy.lookups import load_lookups

    table = load_lookups(language, ["lemma_lookup"]).get_table("lemma_lookup")

    def lemma(form: str, upos: str | None) -> str:
        # spaCy's lookup mode uses the text as written; the lowercase form is tried
        # next, so a capitalized sentence start ("Went") finds its lemma too
        return table.get(form) or table.get(form.lower()) or form

    return lemma


def _wordnet_lemmatizer() -> Callable[[str, str | None], str]:
    """Lemma of a word as NLTK's WordNetLemmatizer gives it; `upos` picks WordNet's POS."""
    morphy = load_wordnet()._morphy

    def lemma(form: str, upos: str | None) -> str:
        if upos == "PROPN":
            return form
        key = form.lower()
        pos = "n" if upos is None else "v" if upos == "AUX" else wordnet_pos(upos)
        if pos is None:
            return key
        # WordNetLemmatizer.lemmatize, on our reader rather than NLTK's global one
        lemmas = morphy(key, pos)
        return min(lemmas, key=len) if lemmas else key

    return lemma


@register("stage", "lemmatize")
class Lemmatize(SpacyStage):
    """Set `token.lemma` with spaCy's rule lemmatizer, spaCy's lookup tables or WordNet.

    - `backend="spacy"` (default): spaCy's rule lemmatizer, driven by the tagger (and the
      parse, which refines POS) of the `model` pipeline: exactly the lemmas of the full
      spaCy pipeline ("went" -> "go", "mice" -> "mouse"). Fuses with adjacent `pos`/`ner`.
    - `backend="lookup"`: spaCy's lookup tables for `language` from the
      `spacy-lookups-data` package, no model and no context (fast; the word as written,
      then lowercased, else unchanged).
    - `backend="wordnet"`: NLTK's WordNetLemmatizer, lowercased, with the POS from a
      `pos` stage when one ran before (nouns otherwise; auxiliaries are verbs, proper
      nouns stay as written, other closed-class words are lowercased). Needs WordNet data: Debian's
      `wordnet-base` (`apt-get install wordnet-base`), copied into the project's NLTK
      data folder on first use.

    `model` is used by the spacy backend only, `language` (a spaCy code) by lookup only.
    Works on the token layer (`norm` when `normalize` ran); a document without tokens is
    tokenized with spaCy first by the spacy backend, and refused by the others.
    """

    version = "2"

    def __init__(
        self,
        *,
        backend: Literal["spacy", "lookup", "wordnet"] = "spacy",
        model: str | None = None,
        language: str = "en",
    ):
        self.backend = backend
        self.model = model
        self.language = language

    def imports(self) -> tuple[str, ...]:
        """spaCy for the spacy and lookup backends, NLTK for wordnet."""
        return ("nltk",) if self.backend == "wordnet" else ("spacy",)

    def uses_spacy(self) -> bool:
        """Only the spacy backend runs (and fuses into) a spaCy pipeline."""
        return self.backend == "spacy"

    def spacy_components(self, nlp: Any) -> set[str]:
        """Tagger (or morphologizer), attribute ruler, parser when present, lemmatizer."""
        needed = required(nlp, "lemmatize", ("tagger", "morphologizer"), any_of=True)
        needed |= {"attribute_ruler", "parser"} & set(nlp.pipe_names)
        return needed | required(nlp, "lemmatize", ("lemmatizer",))

    def reads_piece_docs(self) -> bool:
        """No: `write` reads the pieces' arrays only (see `SpacyStage.reads_piece_docs`)."""
        return False

    def write(self, doc: Document, pieces: Sequence[Piece]) -> None:
        """Set `lemma` on the token layer."""
        assert doc.tokens is not None
        (doc.tokens.lemma,) = piece_strings(pieces, ("LEMMA",))

    def _word_lemmatizer(self) -> Callable[[str, str | None], str]:
        return self._resource("lemmatizer", self._build_word_lemmatizer)

    def _build_word_lemmatizer(self) -> Callable[[str, str | None], str]:
        if self.backend == "lookup":
            return lru_cache(maxsize=_CACHE_MAX)(_lookup_lemmatizer(self.language))
        if self.backend == "wordnet":
            return lru_cache(maxsize=_CACHE_MAX)(_wordnet_lemmatizer())
        raise StageError(
            f"lemmatize: unknown backend {self.backend!r}; use spacy, lookup or wordnet"
        )

    def pipe(self, docs: Iterable[Document], *, batch_size: int = 256) -> Iterator[Document]:
        """Set `token.lemma` on each document; yields the documents."""
        if self.backend == "spacy":
            yield from super().pipe(docs, batch_size=batch_size)
            return
        lemma = self._word_lemmatizer()
        for doc in docs:
            tokens = doc.tokens
            if tokens is None:
                raise StageError(
                    f"lemmatize: document {doc.id!r} has no tokens; add `tokenize` before `lemmatize` in the stages"
                )
            forms = tokens.norm if tokens.norm is not None else tokens.text
            tags = tokens.pos if tokens.pos is not None else [None] * len(forms)
            tokens.lemma = [lemma(form, tag) for form, tag in zip(forms, tags, strict=True)]
            yield doc
