"""Files written atomically and verified by SHA-256.

Every file of a run folder is written to a temporary name in its folder and renamed into
place, so a killed run never leaves a half-written file under a final name. The SHA-256
of each written file is returned so the manifest (or the ledger) can verify it later.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from .urls import RemotePath

__all__ = ["atomic_write", "sha256_file", "remove_stale_temps"]


def atomic_write(path: Path, data: bytes) -> str:
    """Write `data` to `path` via a temp file + rename; return its SHA-256 hex digest."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):  # name the file meant, not the temp file (a full disk)
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path | RemotePath) -> str | None:
    """SHA-256 hex digest of a file, or `None` when it cannot be read.

    A `RemotePath` (a corpus file behind an fsspec URL) is streamed through fsspec.
    """
    digest = hashlib.sha256()
    try:
        with path.open() if isinstance(path, RemotePath) else open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def remove_stale_temps(folder: Path) -> int:
    """Delete temp files left by a killed run; return how many were removed."""
    removed = 0
    if folder.is_dir():
        for tmp in folder.rglob(".*.tmp"):
            try:
                tmp.unlink()
                removed += 1
            except OSError:
                pass
    return removed
