"""Finding and opening the files of a corpus: local paths, globs, folders and fsspec URLs.

Everything here streams: files are found lazily in a stable order and opened as byte
streams, `.gz`/`.bz2` decompressed as they are read. A corpus path may also be an fsspec
URL (`s3://bucket/feeds/`, `gs://.../*.jsonl.gz`), whose files `corpora._remote` lists
and opens.
"""

from __future__ import annotations

import bz2
import glob
import gzip
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from pipeline.urls import RemotePath, is_url, local_path, remote_filesystem

from ._corpus_file import CorpusFile, CorpusPath, FileTooLarge, has_suffix, read_error_reason
from ._remote import find_remote_files, open_remote

__all__ = ["iter_corpus_files", "open_binary", "read_bytes"]

_GLOB_CHARS = frozenset("*?[")


def iter_corpus_files(
    path: str | os.PathLike[str],
    *,
    suffixes: tuple[str, ...] | None = None,
    skip: Callable[[CorpusPath], bool] | None = None,
) -> Iterator[CorpusFile]:
    """Yield the files `path` names, in a stable order: a file, a folder (recursive) or a glob.

    Folders are walked in sorted name order, skipping hidden entries (symlinked folders
    are followed, loops are not); only names ending in one of `suffixes` (before any `.gz`/`.bz2`)
    are taken from folders, all files when `suffixes` is None. A glob (`*`, `?`, `[`,
    `**`) takes every match, sorted. `~` is expanded. An fsspec URL on a remote filesystem
    is listed the same way (a folder is a prefix) and gives `RemotePath`s; `file://` URLs
    are local paths. Files for which `skip(path)` is true are left out (see
    `Reader.read_skipping`); entries with an `error` never are. Raises `FileNotFoundError`
    when nothing matches, `ConfigError` for a URL whose fsspec backend is not installed.
    """
    files = _find_corpus_files(path, suffixes)
    if skip is None:
        return files
    return (f for f in files if f.error is not None or not skip(f.path))


def _find_corpus_files(
    path: str | os.PathLike[str], suffixes: tuple[str, ...] | None
) -> Iterator[CorpusFile]:
    text = os.fspath(path)
    if is_url(text):
        remote = remote_filesystem(text, "corpus.path")
        if remote is not None:
            yield from find_remote_files(*remote, text, suffixes)
            return
        text = str(local_path(text))
    text = os.path.expanduser(text)
    if any(ch in _GLOB_CHARS for ch in text):
        root = _glob_root(text)
        matches = sorted(m for m in glob.iglob(text, recursive=True) if not os.path.isdir(m))
        if not matches:
            raise FileNotFoundError(f"corpus glob {text!r} matches no files")
        for match in matches:
            yield CorpusFile(Path(match), Path(os.path.relpath(match, root)).as_posix())
    elif os.path.isdir(text):
        yield from _walk(Path(text), Path(text), suffixes)
    elif os.path.lexists(text):
        yield CorpusFile(Path(text), Path(text).name)
    else:
        raise FileNotFoundError(
            f"corpus path {text!r} does not exist; give a file, a folder or a glob such as 'data/**/*.txt'"
        )


def _glob_root(pattern: str) -> str:
    """The leading folders of a glob pattern that contain no wildcard (ids are relative to it)."""
    parts = Path(pattern).parts
    plain: list[str] = []
    for part in parts[:-1]:
        if any(ch in _GLOB_CHARS for ch in part):
            break
        plain.append(part)
    return os.path.join(*plain) if plain else "."


def _walk(
    root: Path,
    folder: Path,
    suffixes: tuple[str, ...] | None,
    ancestors: frozenset[tuple[int, int]] = frozenset(),
) -> Iterator[CorpusFile]:
    # Symlinked folders are followed; `ancestors` (device, inode) pairs stop symlink loops.
    try:
        info = folder.stat()
        entries = sorted(os.scandir(folder), key=_entry_name)
    except OSError as exc:
        yield CorpusFile(folder, folder.relative_to(root).as_posix(), error=read_error_reason(exc))
        return
    here = (info.st_dev, info.st_ino)
    if here in ancestors:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        entry_path = Path(entry.path)
        if _is_dir(entry):
            yield from _walk(root, entry_path, suffixes, ancestors | {here})
        elif has_suffix(entry.name, suffixes):
            yield CorpusFile(entry_path, entry_path.relative_to(root).as_posix())


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a broken or unreadable link: treat it as a file, reading it says why
        return False


def _entry_name(entry: os.DirEntry[str]) -> str:
    return entry.name


def open_binary(path: CorpusPath) -> BinaryIO:
    """Open a file for reading bytes; `.gz` and `.bz2` files are decompressed on the fly.

    A `RemotePath` is streamed through fsspec (closing the result closes the remote file).
    """
    name = path.name.lower()
    if isinstance(path, RemotePath):
        return open_remote(path)
    if name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def read_bytes(path: CorpusPath, limit: int) -> bytes:
    """Read a whole (possibly compressed) file, also gunzipping gzip data in a plain-named file.

    Raises `FileTooLarge` when the (decompressed) content exceeds `limit` bytes, without
    ever holding more than `limit + 1` decompressed bytes.
    """
    with open_binary(path) as stream:
        data = stream.read(limit + 1)
    if data[:2] == b"\x1f\x8b":  # gzip bytes under a plain name, as web servers send them
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            data = stream.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(f"file is larger than max_file_bytes={limit} bytes")
    return data
