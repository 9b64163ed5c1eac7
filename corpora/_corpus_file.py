"""One file of a corpus: its path and id, and what can go wrong reading it.

The lowest layer of the readers' file plumbing: `_remote` (remote listing), `_files`
(finding and opening files) and `_decoding` (bytes to text lines) all build on it.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

from pipeline.urls import RemotePath

__all__ = [
    "READ_ERRORS",
    "CorpusFile",
    "CorpusPath",
    "FileTooLarge",
    "has_suffix",
    "read_error_reason",
]

# What reading a corpus file can raise: OS errors (permission, missing file, bad gzip
# header), truncated compressed streams (EOFError) and corrupt deflate data (zlib.error).
READ_ERRORS = (OSError, EOFError, zlib.error)

COMPRESSED_SUFFIXES = (".gz", ".bz2")

# A corpus file: a local path, or a file on a remote fsspec filesystem named by its URL.
CorpusPath = Path | RemotePath


class FileTooLarge(ValueError):
    """A file whose (decompressed) content exceeds the reader's `max_file_bytes`."""


@dataclass(frozen=True, slots=True)
class CorpusFile:
    """One file of a corpus: its path, its path relative to the corpus root (for ids).

    `path` is a `Path`, or a `RemotePath` for a file behind a remote fsspec URL (its
    `source` is then the full URL). `error` is set when the file was found but cannot be
    used (an unlistable folder); readers turn it into a `Rejected` record.
    """

    path: CorpusPath
    relative: str
    error: str | None = None

    @property
    def source(self) -> str:
        """The path as shown in `meta["source"]` and quarantine records."""
        return self.path.as_posix()


def has_suffix(name: str, suffixes: tuple[str, ...] | None) -> bool:
    """Whether a file name ends in one of `suffixes` before any `.gz`/`.bz2` (any name for None)."""
    return suffixes is None or _base_name(name).endswith(suffixes)


def _base_name(name: str) -> str:
    """The lower-cased file name without a compression suffix: `a.XML.gz` -> `a.xml`."""
    name = name.lower()
    for suffix in COMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def read_error_reason(exc: BaseException) -> str:
    """Say in words why a file could not be read."""
    if isinstance(exc, PermissionError):
        return "cannot read file: permission denied"
    if isinstance(exc, FileNotFoundError):
        return "cannot read file: it does not exist (a broken symbolic link?)"
    if isinstance(exc, IsADirectoryError):
        return "cannot read file: it is a directory"
    if isinstance(exc, EOFError):
        return f"truncated compressed file: {exc}"
    if isinstance(exc, gzip.BadGzipFile | zlib.error):
        return f"corrupt gzip data: {exc}"
    if isinstance(exc, OSError) and exc.strerror is None:  # bz2 and lzma say "Invalid data stream"
        return f"corrupt compressed data: {exc}"
    return f"cannot read file: {exc}"
