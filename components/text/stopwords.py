"""The `stopwords` stage: flag (or drop) stop words from standard and user lists."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from pipeline.document import Document
from pipeline.registry import register
from pipeline.stage import Stage, StageError

__all__ = ["Stopwords", "load_stop_list"]

LISTS = ("spacy", "sklearn", "gensim")


def load_stop_list(name: str) -> frozenset[str]:
    """The English stop list of a library: "spacy", "sklearn" or "gensim" (all lowercase)."""
    if name == "spacy":
        from spacy.lang.en.stop_words import STOP_WORDS

        return frozenset(STOP_WORDS)
    if name == "sklearn":
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        return frozenset(ENGLISH_STOP_WORDS)
    if name == "gensim":
        from gensim.parsing.preprocessing import STOPWORDS

        return frozenset(STOPWORDS)
    raise StageError(f"stopwords: unknown list {name!r}; use any of {', '.join(LISTS)}")


def _read_word_file(path: str) -> list[str]:
    """Words of a list file: one per line, `#` starts a comment, blank lines ignored."""
    try:
        lines = Path(path).expanduser().read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise StageError(
            f"stopwords: cannot read word list {path!r}: {exc.strerror or exc}"
        ) from exc
    except UnicodeDecodeError as exc:
        raise StageError(f"stopwords: word list {path!r} is not UTF-8 text ({exc.reason})") from exc
    words = []
    for line in lines:
        word = line.split("#", 1)[0].strip()
        if word:
            words.append(word)
    return words


@register("stage", "stopwords")
class Stopwords(Stage):
    """Mark stop words in the token layer (`is_stop`), optionally removing them.

    - `lists`: standard English lists to combine: "spacy", "sklearn", "gensim".
    - `words`: extra stop words; `files`: word-list files (one word per line, `#`
      comments).
    - `exclude`: words that are never stop words, whatever the lists say.
    - `remove`: drop stop tokens from the token layer (every column stays aligned).
    - `case_sensitive`: compare tokens as written; by default tokens and lists are
      lowercased before comparing (the standard lists are lowercase).

    A token is looked up by its normalized form when `normalize` ran, else by its
    text. Needs the token layer: put `tokenize` before `stopwords`.
    """

    version = "1"

    def __init__(
        self,
        *,
        lists: list[Literal["spacy", "sklearn", "gensim"]] = ["spacy"],  # noqa: B006 - stored, never mutated
        words: list[str] = [],  # noqa: B006
        files: list[str] = [],  # noqa: B006
        exclude: list[str] = [],  # noqa: B006
        remove: bool = False,
        case_sensitive: bool = False,
    ):
        self.lists = lists
        self.words = words
        self.files = files
        self.exclude = exclude
        self.remove = remove
        self.case_sensitive = case_sensitive

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """Word-list `files` that are not there (a run would stop at them)."""
        return [
            f"files: {path!r} does not exist"
            for path in params["files"]
            if not Path(path).expanduser().is_file()
        ]

    def imports(self) -> tuple[str, ...]:
        """The library of each configured stop list."""
        libraries = {"spacy": "spacy", "sklearn": "sklearn", "gensim": "gensim"}
        return tuple(libraries[name] for name in self.lists if name in libraries)

    def _stop_words(self) -> frozenset[str]:
        return self._resource("stop_words", self._build_stop_words)

    def _build_stop_words(self) -> frozenset[str]:
        words: set[str] = set()
        for name in self.lists:
            words |= load_stop_list(name)
        words.update(self.words)
        for path in self.files:
            words.update(_read_word_file(path))
        excluded = set(self.exclude)
        if not self.case_sensitive:
            words = {w.lower() for w in words}
            excluded = {w.lower() for w in excluded}
        return frozenset(words - excluded)

    def pipe(self, docs: Iterable[Document], *, batch_size: int = 256) -> Iterator[Document]:
        """Set `is_stop` on each document's tokens (and drop them with `remove`)."""
        stop = self._stop_words()
        fold = not self.case_sensitive
        for doc in docs:
            tokens = doc.tokens
            if tokens is None:
                raise StageError(
                    f"stopwords: document {doc.id!r} has no tokens; add `tokenize` before `stopwords` in the stages"
                )
            forms = tokens.norm if tokens.norm is not None else tokens.text
            if fold:
                flags = [form.lower() in stop for form in forms]
            else:
                flags = [form in stop for form in forms]
            tokens.is_stop = flags
            if self.remove:
                tokens.keep([not f for f in flags])
            yield doc
