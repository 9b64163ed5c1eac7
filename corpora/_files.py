"""File plumbing shared by the readers: finding files, opening them, decoding lines.

Everything here streams: files are found lazily in a stable order, lines are read one
at a time, and only the file mode of the `text` reader holds a whole file in memory.
A corpus path may also be an fsspec URL (`s3://bucket/feeds/`, `gs://.../*.jsonl.gz`),
whose files `corpora._remote` lists and opens.
"""

from __future__ import annotations

import bz2
import codecs
import glob
import gzip
import io
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pipeline.urls import RemotePath, is_url, local_path, remote_filesystem

__all__ = [
    "READ_ERRORS",
    "SNIFF_BYTES",
    "CorpusFile",
    "CorpusPath",
    "FileTooLarge",
    "TextLine",
    "binary_reason",
    "check_encoding",
    "decode_error_reason",
    "detection_sample",
    "has_suffix",
    "is_wide",
    "iter_corpus_files",
    "iter_lines",
    "open_binary",
    "read_bytes",
    "read_error_reason",
    "resolve_encoding",
    "sniff_text",
]

# What reading a corpus file can raise: OS errors (permission, missing file, bad gzip
# header), truncated compressed streams (EOFError) and corrupt deflate data (zlib.error).
READ_ERRORS = (OSError, EOFError, zlib.error)

COMPRESSED_SUFFIXES = (".gz", ".bz2")
SNIFF_BYTES = 8192
DETECT_BYTES = 1 << 20
_GLOB_CHARS = frozenset("*?[")
_WIDE_CODECS = ("utf-16", "utf-32")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


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
            from ._remote import find_remote_files  # imported here: _remote builds on this module

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


def open_binary(path: CorpusPath) -> BinaryIO:
    """Open a file for reading bytes; `.gz` and `.bz2` files are decompressed on the fly.

    A `RemotePath` is streamed through fsspec (closing the result closes the remote file).
    """
    name = path.name.lower()
    if isinstance(path, RemotePath):
        from ._remote import open_remote  # imported here: _remote builds on this module

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


def check_encoding(encoding: str) -> None:
    """Raise `ValueError` naming the parameter when `encoding` is neither "auto" nor a known codec."""
    if encoding.lower() == "auto":
        return
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(
            f"unknown encoding {encoding!r}; use a Python codec name such as 'utf-8', 'latin-1', "
            "'cp1252', or 'auto' to detect it"
        ) from None


def resolve_encoding(encoding: str, sample: bytes) -> str | None:
    """The codec to decode a file with: `encoding`, or for "auto" a guess from its first bytes.

    "auto" trusts a byte-order mark, then charset-normalizer (pure ASCII counts as
    UTF-8). Returns None when no encoding fits, which is what binary data looks like.
    """
    if encoding.lower() != "auto":
        return encoding
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    if not sample:
        return "utf-8"
    if b"\x00" in sample:
        return None
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        return None
    return "utf-8" if best.encoding == "ascii" else best.encoding


def sniff_text(sample: bytes, encoding: str) -> tuple[str, None] | tuple[None, str]:
    """`(codec, None)` when `sample` (a file's start) is text in `encoding`, "auto" resolved;
    `(None, reason)` when it looks like binary data."""
    codec = resolve_encoding(encoding, sample)
    if codec is None:
        return None, "binary file: no text encoding fits its bytes"
    reason = binary_reason(sample[:SNIFF_BYTES], codec)
    if reason is not None:
        return None, reason
    return codec, None


def detection_sample(stream: BinaryIO) -> bytes:
    """Up to 1 MiB from the start of `stream`, cut at the last newline so no character is split."""
    sample = stream.read(DETECT_BYTES)
    if len(sample) == DETECT_BYTES and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n") + 1]
    return sample


def is_wide(encoding: str) -> bool:
    """Whether `encoding` is UTF-16 or UTF-32, where NUL bytes are normal and b"\\n" splits nothing."""
    return codecs.lookup(encoding).name.startswith(_WIDE_CODECS)


def binary_reason(sample: bytes, encoding: str) -> str | None:
    """Why `sample` (the start of a file) looks like binary data rather than text, or None.

    Binary means NUL bytes (outside UTF-16/32) or more than 30% control characters.
    """
    if not is_wide(encoding) and b"\x00" in sample:
        return "binary file: contains NUL bytes"
    text = sample.decode(encoding, errors="ignore")
    if not text:
        return None
    controls = sum(1 for ch in text if _is_control(ch))
    if controls > 0.3 * len(text):
        return f"binary file: {controls / len(text):.0%} of the first characters are control characters"
    return None


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return (code < 32 and ch not in "\t\n\r\f\v") or 0x7F <= code < 0xA0


def decode_error_reason(
    exc: UnicodeDecodeError, encoding: str, offset: int, line: int | None = None
) -> str:
    """Describe an undecodable byte: which byte, at which offset of the file, for which encoding."""
    bad = exc.object[exc.start : exc.start + 1]
    where = f"byte offset {offset + exc.start}" + (f" (line {line})" if line is not None else "")
    return f"not valid {encoding}: cannot decode byte 0x{bad.hex()} at {where}"


@dataclass(frozen=True, slots=True)
class TextLine:
    """One line of a text file: its 1-based number, its text, or why it is unusable.

    `text` has no line ending (unless read with `keepends`) and is None when `error`
    is set. `fatal` marks an error after which the file cannot be read further.
    """

    number: int
    text: str | None
    error: str | None = None
    fatal: bool = False


def iter_lines(stream: BinaryIO, encoding: str, *, keepends: bool = False) -> Iterator[TextLine]:
    """Decode a byte stream line by line (split at "\\n"), strictly, without loading it whole.

    A line that does not decode becomes a `TextLine` with an error naming the byte
    offset, and reading goes on with the next line. A read failure (truncated gzip)
    ends the stream with a fatal error line. A leading byte-order mark is dropped.
    """
    if is_wide(encoding):
        yield from _iter_wide_lines(stream, encoding, keepends=keepends)
        return
    offset = 0
    number = 0
    try:
        for number, raw in enumerate(stream, start=1):  # noqa: B007 - number is read after the loop
            yield _decode_line(raw, number, offset, encoding, keepends=keepends)
            offset += len(raw)
    except READ_ERRORS as exc:
        yield TextLine(
            number + 1, None, f"{read_error_reason(exc)} (after line {number})", fatal=True
        )


def _decode_line(
    raw: bytes, number: int, offset: int, encoding: str, *, keepends: bool
) -> TextLine:
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        return TextLine(number, None, decode_error_reason(exc, encoding, offset, number))
    nul = raw.find(b"\x00")
    if nul >= 0:
        return TextLine(
            number, None, f"binary data: NUL byte at byte offset {offset + nul} (line {number})"
        )
    if number == 1 and text.startswith("\ufeff"):
        text = text[1:]
    return TextLine(number, text if keepends else _strip_newline(text))


def _iter_wide_lines(stream: BinaryIO, encoding: str, *, keepends: bool) -> Iterator[TextLine]:
    # UTF-16/32: b"\n" is not a line boundary, so let a text wrapper find the lines.
    wrapper = io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline="")  # type: ignore[type-var]
    number = 0
    try:
        for number, text in enumerate(wrapper, start=1):  # noqa: B007 - number is read after the loop
            if number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield TextLine(number, text if keepends else _strip_newline(text))
    except UnicodeDecodeError as exc:
        reason = f"not valid {encoding}: cannot decode bytes after line {number} ({exc.reason})"
        yield TextLine(number + 1, None, reason, fatal=True)
    except READ_ERRORS as exc:
        yield TextLine(
            number + 1, None, f"{read_error_reason(exc)} (after line {number})", fatal=True
        )
    finally:
        wrapper.detach()


def _strip_newline(text: str) -> str:
    if text.endswith("\n"):
        text = text[:-1]
    if text.endswith("\r"):
        text = text[:-1]
    return text
