"""Worker processes: started warm, ended with their run.

On Linux a `processes` run forks its workers from a fork server that imported the heavy
libraries its stages declare (`Stage.imports()`: spaCy, which imports torch through thinc: ~2 s) once, instead
of every spawned worker importing them again; a recycled or replacement worker starts in
milliseconds. Elsewhere workers are spawned.

Every worker watches the process that started it and exits as soon as that process ends,
even when it is killed with SIGKILL or by the out-of-memory killer. The fork server and
multiprocessing's resource tracker then end by themselves: each exits when the last
process holding its pipe (the run and its workers) is gone.

Log records (and, when the run captures them, Python warnings) that stages emit inside a
worker travel through a multiprocessing queue (`WorkerLogs`) to the run's process, where
its own loggers handle them: they reach `nlp run --log-file` and the terminal like the
run's own, with the time the worker logged them.
"""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing
import os
import sys
import threading
import warnings
from collections.abc import Iterable, Sequence
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any

from .stage import Stage

__all__ = ["WorkerLogs", "die_with_run", "pool_context", "preload_modules", "start_worker"]


def pool_context(preload: Sequence[str] = ()) -> BaseContext:
    """The multiprocessing context for a worker pool; on Linux, starts its fork server now.

    Linux: `forkserver`, whose server imports `preload` in the background while the caller
    goes on (the first worker waits for it). The server is one per process and is kept
    until the process exits, so later pools (recycled workers, retries, the next run in
    the same process) fork from it at once; `preload` counts only when it starts.
    Elsewhere: `spawn` (every worker imports what it needs).
    """
    if not sys.platform.startswith("linux"):
        return multiprocessing.get_context("spawn")
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    # Replaces the default ["__main__"]: the workers import the main module themselves.
    context.set_forkserver_preload(list(preload))
    forkserver.ensure_running()
    return context


def preload_modules(stages: Iterable[Stage]) -> list[str]:
    """The libraries the stages import when they run (`Stage.imports()`), for the fork server.

    Stages are built from their parameters in the main process for this (a constructor
    only stores them). The project's own modules and plugins are left to the workers,
    which import them from the run's `sys.path` (Python 3.11's fork server does not apply
    it, so it could pick up another copy).
    """
    return sorted({module for stage in stages for module in stage.imports()})


def die_with_run() -> None:
    """End this worker process as soon as the process that started it ends, however it ends.

    A pool initializer. The worker inherited at its creation the read end of a pipe whose
    write end only the starting process holds (`multiprocessing.parent_process().sentinel`,
    as Dask's workers do); the kernel closes it when that process ends, even by SIGKILL, and
    a daemon thread waiting on it then exits the worker. Unlike `PR_SET_PDEATHSIG`, it
    follows the run's process rather than the fork server that forked the worker, cannot
    miss a death that happened before it was set up, and works on every platform.
    """
    parent = multiprocessing.parent_process()
    if parent is None:  # not started by multiprocessing: nothing to watch
        return
    watch = threading.Thread(target=_exit_when_ended, args=(parent,), name="die-with-run")
    watch.daemon = True
    watch.start()


def _exit_when_ended(parent: BaseProcess) -> None:
    parent.join()  # returns once the pipe is closed: the run's process has ended
    os._exit(1)  # no cleanup: the run that would use this worker's results is gone


class WorkerLogs:
    """Carries log records from worker processes to the run's process while it is entered.

    `queue` is made from the pool's context and handed to each worker at its start
    (`start_worker`); a `QueueListener` thread here gives every record to the logger of
    the same name in this process, whose level and handlers decide (file, terminal).
    """

    def __init__(self, context: BaseContext):
        self.context = context
        self.queue: Any = None
        self._listener: logging.handlers.QueueListener | None = None

    def __enter__(self) -> WorkerLogs:
        self.queue = self.context.Queue()
        self._listener = logging.handlers.QueueListener(self.queue, _LocalLoggers())
        self._listener.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._listener is not None:
            self._listener.stop()  # handles what is still queued, then ends the thread
            self._listener = None
        if self.queue is not None:
            self.queue.close()
            self.queue.join_thread()
            self.queue = None

    def initargs(self) -> tuple[Any, int, bool]:
        """What `start_worker` needs: the queue, the level to send from, whether to
        capture Python warnings (when this process does)."""
        level = logging.getLogger().getEffectiveLevel()
        return self.queue, level, warnings.showwarning.__module__ == "logging"


class _LocalLoggers(logging.Handler):
    """Hands a record from a worker to this process's logger of the same name."""

    def emit(self, record: logging.LogRecord) -> None:
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)


def start_worker(queue: Any = None, level: int = logging.WARNING, capture: bool = False) -> None:
    """A pool initializer: `die_with_run`, and with `queue` (see `WorkerLogs.initargs`),
    every record from `level` up goes to the run's process instead of this one's handlers."""
    die_with_run()
    if queue is None:
        return
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(logging.handlers.QueueHandler(queue))
    root.setLevel(level)
    if capture:
        logging.captureWarnings(True)
