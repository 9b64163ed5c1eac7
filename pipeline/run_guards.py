"""How a run holds its folder and how it ends badly: the lock, SIGTERM, storage errors, reasons.

`pipeline.runner.run` wraps each `Run` in `locked_run_dir` (one run per folder),
`storage_errors` (a full disk or a lost permission becomes a one-line `RunError`) and
`sigterm_interrupts` (SIGTERM raises `RunInterrupted`, so the run can record it);
`failure_reason` is the one line the manifest's `reason` holds for a run that ended early.
"""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .config import ConfigError
from .executors import ExecutorError
from .remote import PublishError
from .run_types import RunError, RunInterrupted
from .stage import StageError

__all__ = [
    "DISK_FULL",
    "failure_reason",
    "locked_run_dir",
    "sigterm_interrupts",
    "storage_error",
    "storage_errors",
]

DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
# errors whose message is already a sentence for the user: the reason is the message as is
USER_FACING_ERRORS = (RunError, ConfigError, StageError, ExecutorError, PublishError)


def failure_reason(exc: BaseException, run_dir: Path) -> str:
    """One line saying why a run ended early, as the CLI words it."""
    if isinstance(exc, RunInterrupted):
        return f"interrupted by {exc.signal_name}; finished shards are kept: run again to resume"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C); finished shards are kept: run again to resume"
    if isinstance(exc, OSError):
        return storage_error(exc, run_dir)
    if isinstance(exc, sqlite3.Error):
        return _ledger_error(exc, run_dir)
    message = " ".join(str(exc).split())
    if isinstance(exc, USER_FACING_ERRORS):
        return message or type(exc).__name__
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


@contextmanager
def locked_run_dir(run_dir: Path) -> Iterator[None]:
    """Create the run folder and hold its lock file; another run on it is a `RunError`."""
    from filelock import FileLock, Timeout

    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(run_dir / ".lock"))
        lock.acquire(timeout=0)
    except Timeout:
        raise RunError(
            f"another run is writing to {run_dir} (lock {run_dir / '.lock'}); wait for it to finish or choose another --output"
        ) from None
    except OSError as exc:
        raise RunError(
            f"cannot write to the output folder {run_dir}: {exc.strerror or exc}"
        ) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """While the run lasts, SIGTERM raises `RunInterrupted` in the main thread (as Ctrl-C raises
    `KeyboardInterrupt`), so the run records `interrupted` before the process ends.

    Outside the main thread no handler can be installed and SIGTERM keeps its default; a
    process forked from this one (a worker) still dies of SIGTERM.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    owner = os.getpid()

    def interrupt(signum: int, frame: Any) -> None:
        if os.getpid() != owner:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise RunInterrupted(signum, signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def storage_errors(run_dir: Path) -> Iterator[None]:
    """Turn storage failures during a run into one-line `RunError`s saying the next run resumes."""
    try:
        yield
    except PublishError as exc:
        raise RunError(str(exc)) from None
    except OSError as exc:
        raise RunError(storage_error(exc, run_dir)) from None
    except sqlite3.Error as exc:  # the ledger of an incremental run (a full disk, a damaged file)
        raise RunError(_ledger_error(exc, run_dir)) from None


def storage_error(exc: OSError, run_dir: Path) -> str:
    """One line for a failed write: what, where, and that the next run resumes."""
    where = exc.filename or run_dir
    if exc.errno in DISK_FULL:
        what = f"the disk is full ({exc.strerror}) while writing {where}"
    else:
        what = f"cannot write {where}: {exc.strerror or exc}"
    return f"{what}; finished shards are kept and verified: free space or fix permissions, then run again to resume"


def _ledger_error(exc: sqlite3.Error, run_dir: Path) -> str:
    return f"cannot update {run_dir / 'ledger.sqlite'}: {exc}; committed parts are kept, run again to resume"
