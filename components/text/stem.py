"""The `stem` stage: NLTK's Porter, Snowball and Lancaster stemmers, with a PyStemmer fast path."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache, partial
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Literal

from pipeline.document import Document
from pipeline.registry import register
from pipeline.stage import Stage, StageError

__all__ = ["Stem", "make_stemmer", "SNOWBALL_LANGUAGES"]

logger = logging.getLogger(__name__)

SNOWBALL_LANGUAGES = (
    "arabic", "danish", "dutch", "english", "finnish", "french", "german", "hungarian",
    "italian", "norwegian", "porter", "portuguese", "romanian", "russian", "spanish", "swedish",
)  # fmt: skip

# Languages where PyStemmer's stems equal NLTK's SnowballStemmer's, by PyStemmer release
# (major.minor). Checked word for word on every entry and lemma of the spacy-lookups-data
# lemma tables (300k-900k words per language; Lee corpus words for English). PyStemmer
# 2.2 (Snowball 2.x) differs from NLTK on English (10 words), French, Danish, Italian,
# Portuguese, Romanian, Russian, Spanish and Hungarian; PyStemmer 3.x (Snowball 3) differs
# on every language. Arabic and Finnish have no word list to check: NLTK is used.
PYSTEMMER_IDENTICAL = {"2.2": frozenset({"dutch", "german", "norwegian", "swedish"})}

_CACHE_MAX = 1 << 20  # words remembered per stemmer: a corpus repeats its words


def _pystemmer(language: str) -> Callable[[str], str] | None:
    """PyStemmer's stemmer for `language` when it is known to match NLTK, else None."""
    try:
        release = ".".join(package_version("PyStemmer").split(".")[:2])
    except PackageNotFoundError:
        return None
    if language not in PYSTEMMER_IDENTICAL.get(release, ()):
        return None
    import Stemmer

    stem_word = Stemmer.Stemmer(language).stemWord

    def stem(word: str) -> str:
        return stem_word(word.lower())  # NLTK's Snowball stemmers lowercase first

    return stem


def make_stemmer(algorithm: str, language: str = "english") -> Callable[[str], str]:
    """Return a function stemming one word, memoized (LRU, up to 2**20 words).

    `algorithm`: "porter" (NLTK's PorterStemmer, NLTK extensions mode), "snowball"
    (NLTK's SnowballStemmer for `language`, or PyStemmer where it gives identical
    stems) or "lancaster". Raises `StageError` for an unknown language.
    """
    language = language.strip().lower()
    if algorithm == "snowball":
        if language not in SNOWBALL_LANGUAGES:
            raise StageError(
                f"stem: Snowball has no language {language!r}; available: {', '.join(SNOWBALL_LANGUAGES)}"
            )
        stem = _pystemmer(language)
        if stem is None:
            from nltk.stem import SnowballStemmer

            stem = SnowballStemmer(language).stem
    elif algorithm in ("porter", "lancaster"):
        if language != "english":
            raise StageError(
                f"stem: the {algorithm} stemmer is English only, got language {language!r}; "
                "use algorithm: snowball for other languages"
            )
        from nltk.stem import LancasterStemmer, PorterStemmer

        stem = PorterStemmer().stem if algorithm == "porter" else LancasterStemmer().stem
    else:
        raise StageError(
            f"stem: unknown algorithm {algorithm!r}; use one of porter, snowball, lancaster"
        )
    return lru_cache(maxsize=_CACHE_MAX)(stem)


@register("stage", "stem")
class Stem(Stage):
    """Set `token.stem` with an NLTK stemmer (lowercased stems).

    - `algorithm`: "snowball" (default; Porter2 for English), "porter" (the original
      Porter algorithm with NLTK's extensions) or "lancaster" (aggressive); the last
      two are English only.
    - `language`: the Snowball language by name: arabic, danish, dutch, english,
      finnish, french, german, hungarian, italian, norwegian, porter, portuguese,
      romanian, russian, spanish, swedish.

    Stems each token's normalized form when `normalize` ran, else its text. Where
    PyStemmer is installed and gives stems identical to NLTK's for the language, it is
    used instead (same output, faster). Needs the token layer: put `tokenize` first.
    """

    version = "1"

    def __init__(
        self,
        *,
        algorithm: Literal["porter", "snowball", "lancaster"] = "snowball",
        language: str = "english",
    ):
        self.algorithm = algorithm
        self.language = language

    def imports(self) -> tuple[str, ...]:
        """NLTK's stemmers."""
        return ("nltk",)

    def _stemmer(self) -> Callable[[str], str]:
        return self._resource("stemmer", partial(make_stemmer, self.algorithm, self.language))

    def pipe(self, docs: Iterable[Document], *, batch_size: int = 256) -> Iterator[Document]:
        """Set `stem` on each document's tokens; yields the documents."""
        stem = self._stemmer()
        for doc in docs:
            tokens = doc.tokens
            if tokens is None:
                raise StageError(
                    f"stem: document {doc.id!r} has no tokens; add `tokenize` before `stem` in the stages"
                )
            forms = tokens.norm if tokens.norm is not None else tokens.text
            tokens.stem = [stem(form) for form in forms]
            yield doc
