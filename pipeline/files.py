"""Files written atomically and verified by SHA-256.

Every file of a run folder is written to a temporary name in its folder and renamed into
place, so a killed run never leaves a half-written file under a final name. The SHA-256
of each written file is returned so the manifest (or the ledger) can verify it later.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from .urls import RemotePath

__all__ = ["atomic_write", "file_mode", "remove_stale_temps", "scratch_folder", "sha256_file"]


@functools.cache
def file_mode() -> int:
    """Permission bits of a new file under the process umask (`0o644` under umask 022).

    `mkstemp` creates `0600` files whatever the umask, so a colleague or a service account
    could not read a run; written files get these bits instead. The umask is read once,
    from `/proc/self/status` where there is one: `os.umask` can only be read by setting it,
    which races with other threads creating files.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


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
            os.fchmod(fh.fileno(), file_mode())
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
    """Delete temp files and folders (`.*.tmp`) left by a killed run; return how many were removed.

    Folders are the scratch space of an interrupted fit (see `scratch_folder`).
    """
    removed = 0
    if folder.is_dir():
        for tmp in sorted(folder.rglob(".*.tmp"), key=lambda p: len(p.parts), reverse=True):
            try:
                if tmp.is_dir() and not tmp.is_symlink():
                    shutil.rmtree(tmp)
                else:
                    tmp.unlink()
                removed += 1
            except OSError:
                pass
    return removed


def scratch_folder(run_dir: Path | None, prefix: str) -> tempfile.TemporaryDirectory[str]:
    """A temporary folder for a fit's scratch files, removed when the `with` block ends.

    It lives inside `run_dir` (as `.PREFIX-XXXX.tmp`) when one is given, so a killed fit
    leaves nothing in the system temp folder and the next run's `remove_stale_temps`
    removes it; without a run folder it falls back to the system temp folder.
    """
    if run_dir is None:
        return tempfile.TemporaryDirectory(prefix=f"{prefix}-")
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=f".{prefix}-", suffix=".tmp", dir=run_dir)


def move_files(staging: Path, folder: Path) -> None:
    """Move every file under `staging` to the same place under `folder` (created), replacing
    files of the same name: how a task's staged outputs take their place in its folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in sorted(p for p in staging.rglob("*") if p.is_file()):
        target = folder / source.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
