"""Bytes to text for the readers: encodings checked and detected, binary data recognised,
files decoded strictly line by line.

Nothing here opens files: functions take bytes or a byte stream (see `_files.open_binary`).
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from ._corpus_file import READ_ERRORS, read_error_reason
from ._detect import detect_encoding

__all__ = [
    "SNIFF_BYTES",
    "TextLine",
    "binary_reason",
    "bom_encoding",
    "check_encoding",
    "decode_error_reason",
    "detection_sample",
    "is_wide",
    "iter_lines",
    "resolve_encoding",
    "sniff_text",
]

SNIFF_BYTES = 8192
DETECT_BYTES = 1 << 20
_WIDE_CODECS = ("utf-16", "utf-32")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


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


def encoding_problems(encoding: str) -> list[str]:
    """`check_params` lines for an `encoding` parameter: none, or why it is refused."""
    try:
        check_encoding(encoding)
    except ValueError:
        return [
            f"encoding: {encoding!r} is not a known encoding "
            "(e.g. utf-8, latin-1, cp1252, or auto to detect it)"
        ]
    return []


def resolve_encoding(encoding: str, sample: bytes) -> str | None:
    """The codec to decode a file with: `encoding`, or for "auto" a guess from its first bytes.

    "auto" trusts a byte-order mark, then UTF-8 when the bytes are UTF-8, then
    `detect_encoding` (charset-normalizer, checked among Latin code pages). Returns
    None when no encoding fits, which is what binary data looks like.
    """
    if encoding.lower() != "auto":
        return encoding
    bom = bom_encoding(sample)
    if bom is not None:
        return bom
    if not sample:
        return "utf-8"
    if b"\x00" in sample:
        return None
    return detect_encoding(sample)


def bom_encoding(data: bytes) -> str | None:
    """The codec named by the byte-order mark `data` starts with ("utf-8-sig", "utf-16", "utf-32"), or None."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    return None


def sniff_text(sample: bytes, encoding: str) -> tuple[str, None] | tuple[None, str]:
    """`(codec, None)` when `sample` (a file's start) is text in `encoding`, "auto" resolved;
    `(None, reason)` when it looks like binary data. A UTF-16/32 byte-order mark wins
    over a configured single-byte or UTF-8 `encoding`."""
    codec = resolve_encoding(encoding, sample)
    bom = bom_encoding(sample)
    if codec is not None and bom is not None and is_wide(bom) and not is_wide(codec):
        codec = bom  # a UTF-16/32 byte-order mark is unambiguous; read as UTF-8 it is all NULs
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
