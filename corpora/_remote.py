"""Corpus files behind a remote fsspec URL (s3://, gs://, memory://): listed like local ones, streamed.

Nothing is downloaded ahead: a folder (prefix) or glob is listed, and each file is opened
through fsspec only when its reader gets to it, `.gz`/`.bz2` decompressed as it is read.
"""

from __future__ import annotations

import bz2
import gzip
from collections.abc import Iterator
from typing import Any, BinaryIO

from pipeline.urls import RemotePath, join_url

from ._corpus_file import CorpusFile, has_suffix, read_error_reason

__all__ = ["find_remote_files", "open_remote"]

_GLOB_CHARS = frozenset("*?[")


def find_remote_files(
    filesystem: Any, path: str, url: str, suffixes: tuple[str, ...] | None
) -> Iterator[CorpusFile]:
    """The files of a remote corpus URL (`path` on `filesystem`): a glob, a folder (prefix) or a file.

    Listed as `iter_corpus_files` lists local ones: sorted, hidden names left out, folders
    filtered by `suffixes`. Sources are the URL as written joined with each file's relative
    path (`s3://bucket/feeds/` gives `s3://bucket/feeds/world/a.xml`). Raises
    `FileNotFoundError` when nothing matches.
    """
    if any(ch in _GLOB_CHARS for ch in path):
        root_url = _glob_root_url(url)
        found = filesystem.glob(path, detail=True)
        names = [name for name, info in found.items() if info.get("type") != "directory"]
        files = _relative_names(filesystem, root_url, names)
        if not files:
            raise FileNotFoundError(f"corpus glob {url!r} matches no files")
        for relative in files:
            yield CorpusFile(RemotePath(join_url(root_url, relative)), relative)
    elif filesystem.isdir(path):
        try:
            names = list(filesystem.find(path))
        except OSError as exc:
            yield CorpusFile(RemotePath(url), ".", error=read_error_reason(exc))
            return
        for relative in _relative_names(filesystem, url, names):
            if has_suffix(relative.rsplit("/", 1)[-1], suffixes):
                yield CorpusFile(RemotePath(join_url(url, relative)), relative)
    elif filesystem.isfile(path):
        yield CorpusFile(RemotePath(url), RemotePath(url).name)
    else:
        raise FileNotFoundError(
            f"corpus path {url!r} does not exist; give a file, a folder (prefix) or a glob such "
            "as 's3://bucket/data/**/*.txt'"
        )


def _relative_names(filesystem: Any, root_url: str, names: list[str]) -> list[str]:
    """Paths of `names` relative to `root_url`, hidden parts left out, in local walk order."""
    root = filesystem._strip_protocol(root_url).rstrip("/")
    relative = []
    for name in names:
        if root and not name.startswith(root + "/"):
            continue
        rel = name[len(root) :].lstrip("/")
        if rel and not any(part.startswith(".") for part in rel.split("/")):
            relative.append(rel)
    # Sorting by parts is the order of a sorted folder walk ("a/x" before "a.txt").
    return sorted(relative, key=lambda rel: rel.split("/"))


def _glob_root_url(pattern: str) -> str:
    """The part of a glob URL before the folder holding its first wildcard (ids are relative to it)."""
    protocol, _, rest = pattern.partition("://")
    first = min(rest.find(ch) for ch in _GLOB_CHARS if ch in rest)
    folder = rest[:first].rsplit("/", 1)[0] if "/" in rest[:first] else ""
    return f"{protocol}://{folder}"


def open_remote(path: RemotePath) -> BinaryIO:
    """Open a remote file for reading bytes; `.gz` and `.bz2` files are decompressed on the fly.

    Closing the result closes the remote file too.
    """
    raw = path.open()
    name = path.name.lower()
    if name.endswith(".gz"):
        return _GzipFile(raw)  # type: ignore[return-value]
    if name.endswith(".bz2"):
        return _BZ2File(raw)  # type: ignore[return-value]
    return raw


class _GzipFile(gzip.GzipFile):
    """Gunzips a remote file and closes it too (a GzipFile leaves a file object it is given open)."""

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        super().__init__(fileobj=raw, mode="rb")

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


class _BZ2File(bz2.BZ2File):
    """Decompresses a remote bzip2 file and closes it too."""

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        super().__init__(raw, mode="rb")

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()
