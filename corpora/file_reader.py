"""`FileReader`: the base of the readers of corpus files (`text`, `jsonl`, `csv`, `feeds`, `html`).

A file reader declares which file names it takes from folders (`suffixes`) and how one
file becomes documents (`read_file`); the base lists the files of `path` (a file, a
folder, a glob or an fsspec URL) in a stable order, leaves out unchanged files on
incremental runs, and turns files that cannot be read into `Rejected` records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import ClassVar

from pipeline.document import Document, Rejected
from pipeline.stage import Reader

from ._corpus_file import READ_ERRORS, CorpusFile, CorpusPath, FileTooLarge, read_error_reason
from ._files import iter_corpus_files

__all__ = ["FileReader"]


class FileReader(Reader):
    """A reader whose items come from the files under `path`, read one file at a time.

    Subclasses store their constructor parameters (one of them `path`), declare
    `suffixes` and implement `read_file`; they may override `prepare` (checks run when
    reading starts) and `one_item_per_file` (which makes `count()` cheap). A file that
    cannot be listed or opened becomes one `Rejected` record at position None, as does
    a read error partway through a file (ending it); reading goes on with the next file.
    """

    # File names taken from folders, matched before any .gz/.bz2 suffix; None: every file.
    # A single file or a glob is read whatever its name.
    suffixes: ClassVar[tuple[str, ...] | None] = None
    path: str

    def read(self) -> Iterator[Document | Rejected]:
        """Yield the items of every file in sorted path order, rejected files and items in place."""
        return self.read_skipping(None)

    def read_skipping(
        self, skip: Callable[[CorpusPath], bool] | None
    ) -> Iterator[Document | Rejected]:
        """`read()`, leaving out the files for which `skip(path)` is true (incremental runs)."""
        self.prepare()
        for corpus_file in iter_corpus_files(self.path, suffixes=self.suffixes, skip=skip):
            if corpus_file.error is not None:
                yield Rejected(corpus_file.source, None, corpus_file.error)
                continue
            try:
                yield from self.read_file(corpus_file)
            except FileTooLarge as exc:
                yield Rejected(corpus_file.source, None, str(exc))
            except READ_ERRORS as exc:
                yield Rejected(corpus_file.source, None, read_error_reason(exc))

    def read_file(self, corpus_file: CorpusFile) -> Iterator[Document | Rejected]:
        """Yield the documents of one file in order, unusable parts as `Rejected` records.

        Open it with `open_binary` or `read_bytes` (both take local and remote paths);
        give every item `meta["source"]` (or `Rejected.source`) equal to
        `corpus_file.source`, and ids built from `corpus_file.relative` where the file
        has none. Read errors (`READ_ERRORS`, `FileTooLarge`) may be left to the caller,
        which rejects the rest of the file with their reason.
        """
        raise NotImplementedError

    def prepare(self) -> None:
        """Check the parameters and set up what every file needs; runs once, when reading starts.

        Raises `ValueError` naming a parameter that cannot work. The default does nothing.
        """

    def one_item_per_file(self) -> bool:
        """Whether every file gives exactly one item (a document or a rejection). Default: False."""
        return False

    def count(self) -> int | None:
        """The number of files when each gives one item (no file is opened); else None."""
        if not self.one_item_per_file():
            return None
        return sum(1 for _ in iter_corpus_files(self.path, suffixes=self.suffixes))
