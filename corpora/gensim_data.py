"""Readers for the real text corpora that ship with gensim's test data (no download needed).

- `lee-news`: `lee_background.cor`, 300 ABC (Australian) news articles, one per line.
- `lee-test`: `lee.cor`, the 50 other Lee et al. (2005) articles with human similarity ratings.
- `pang-lee-polarity`: `pang_lee_polarity.cor`, 200 movie-review snippets labelled pos/neg.

`lee.cor` and `pang_lee_polarity.cor` are Windows-1252 text (pound signs, dashes); the
readers decode each file with the encoding it really has.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from pipeline.document import Document, Rejected
from pipeline.registry import register
from pipeline.stage import Reader

__all__ = ["LeeNewsReader", "LeeTestReader", "PangLeePolarityReader"]


class BundledLinesReader(Reader):
    """A corpus bundled with gensim, one document per non-blank line (surrounding spaces stripped).

    Subclasses name the file, its encoding and the id prefix; ids are the prefix and
    the 0-based line index, zero-padded: `lee-000` ... `lee-299`.
    """

    file_name: ClassVar[str]
    file_encoding: ClassVar[str] = "utf-8"
    id_prefix: ClassVar[str]
    id_width: ClassVar[int] = 3

    def __init__(self) -> None:
        """No parameters: the corpus is fixed."""

    def read(self) -> Iterator[Document | Rejected]:
        """Yield one document per non-blank line of the bundled file, in file order."""
        path = self.file_path()
        with open(path, encoding=self.file_encoding, errors="strict") as fh:
            index = 0
            for number, line in enumerate(fh, start=1):
                text = line.strip()
                if not text:
                    continue
                doc_id = f"{self.id_prefix}{index:0{self.id_width}d}"
                meta = {"source": path, "line": number}
                yield self.document(doc_id, text, meta)
                index += 1

    def document(self, doc_id: str, text: str, meta: dict[str, object]) -> Document:
        """Make the document for one line; subclasses may split labels off the text."""
        return Document(id=doc_id, text=text, meta=meta)

    def count(self) -> int | None:
        """The number of non-blank lines of the file (read as bytes: fast)."""
        with open(self.file_path(), "rb") as fh:
            return sum(1 for line in fh if line.strip())

    def file_path(self) -> str:
        """Where gensim keeps the file."""
        from gensim.test.utils import datapath

        return datapath(self.file_name)


@register("reader", "lee-news")
class LeeNewsReader(BundledLinesReader):
    """The 300 ABC news articles of gensim's `lee_background.cor`; ids `lee-000` ... `lee-299`."""

    file_name = "lee_background.cor"
    id_prefix = "lee-"


@register("reader", "lee-test")
class LeeTestReader(BundledLinesReader):
    """The 50 news articles of gensim's `lee.cor` (Lee et al. 2005 similarity set); ids `lee-test-00` ... `lee-test-49`."""

    file_name = "lee.cor"
    file_encoding = "cp1252"
    id_prefix = "lee-test-"
    id_width = 2


@register("reader", "pang-lee-polarity")
class PangLeePolarityReader(BundledLinesReader):
    """200 movie-review snippets from gensim's `pang_lee_polarity.cor`, `meta["label"]` pos or neg.

    Ids `pang-lee-000` ... `pang-lee-199`; the `__label__` prefix is removed from the text.
    """

    file_name = "pang_lee_polarity.cor"
    file_encoding = "cp1252"
    id_prefix = "pang-lee-"

    def document(self, doc_id: str, text: str, meta: dict[str, object]) -> Document:
        """Split the `__label__pos` / `__label__neg` prefix off into `meta["label"]`."""
        label, _, rest = text.partition(" ")
        meta["label"] = label.removeprefix("__label__")
        return Document(id=doc_id, text=rest.strip(), meta=meta)
