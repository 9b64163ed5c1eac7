"""Executors: where shards are processed. Same tasks in, same files out, whatever the executor.

- `serial`: in this process.
- `processes`: a process pool (forked from a fork server on Linux, spawned elsewhere; see
  `pipeline.workers`); each worker rebuilds the stages from their specs (never a pickled
  stage), is recycled after `recycle_after` shards, and exits when the run ends.
- `dask`: a `dask.distributed` client, joining `address` or starting a LocalCluster.

Every executor keeps at most `2 × workers` shards in flight, so memory depends on the
shard size, not on the corpus size.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing.context import BaseContext
from typing import Any, TypeVar

from .settings import ExecutionSpec
from .shards import ShardResult, ShardTask, process_shard
from .workers import WorkerLogs, pool_context, start_worker

__all__ = [
    "executor_for",
    "make_executor",
    "SerialExecutor",
    "ProcessExecutor",
    "DaskExecutor",
    "ExecutorError",
]

logger = logging.getLogger(__name__)

P = TypeVar("P")
R = TypeVar("R")


class ExecutorError(RuntimeError):
    """An executor could not run (worker died, cluster unreachable); the run can be resumed."""


class SerialExecutor:
    """Processes shards one after another in the calling process."""

    workers = 1

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def run(self, tasks: Iterable[ShardTask]) -> Iterator[ShardResult]:
        """Yield each shard's result as soon as it is done."""
        for task in tasks:
            yield process_shard(task)

    def map(self, function: Callable[[P], R], payloads: Iterable[P]) -> Iterator[R]:
        """Yield `function(payload)` for each payload, in order."""
        for payload in payloads:
            yield function(payload)


class ProcessExecutor:
    """Processes shards in a pool of worker processes.

    `preload`: libraries the workers need (`pipeline.workers.preload_modules`); on Linux
    the fork server the workers are forked from imports them once, starting at `__enter__`
    while the run reads its first shard. Workers exit when the process that started them
    ends, even by SIGKILL.

    When a worker process dies (killed, out of memory, a crash in native code), the pool
    is unusable: the shards it had in flight are retried in a fresh pool, each at most
    `retries` times; then the run stops with `ExecutorError` naming those shards.

    What stages log in the workers is handled by this process's loggers (`WorkerLogs`),
    so it reaches the run's log file and terminal.
    """

    def __init__(
        self, workers: int, recycle_after: int, retries: int = 2, *, preload: Sequence[str] = ()
    ):
        self.workers = workers
        self.recycle_after = recycle_after
        self.retries = retries
        self.preload = preload
        self._context: BaseContext | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._logs: WorkerLogs | None = None

    def _start_pool(self) -> None:
        assert self._logs is not None
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self._context,
            initializer=start_worker,
            initargs=self._logs.initargs(),
            max_tasks_per_child=self.recycle_after,
        )

    def __enter__(self) -> ProcessExecutor:
        self._context = pool_context(self.preload)
        self._logs = WorkerLogs(self._context).__enter__()
        try:
            self._start_pool()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
        finally:
            if self._logs is not None:
                self._logs.__exit__()
                self._logs = None

    def run(self, tasks: Iterable[ShardTask]) -> Iterator[ShardResult]:
        """Yield shard results in completion order, keeping a bounded number in flight."""
        from concurrent.futures.process import BrokenProcessPool

        assert self._pool is not None, "use the executor as a context manager"
        limit = 2 * self.workers
        in_flight: dict[Future[ShardResult], ShardTask] = {}
        retry: deque[ShardTask] = deque()
        attempts: dict[int, int] = {}
        task_iter = iter(tasks)
        exhausted = False
        while True:
            while len(in_flight) < limit:
                if retry:
                    task = retry.popleft()
                elif not exhausted:
                    next_task = next(task_iter, None)
                    if next_task is None:
                        exhausted = True
                        continue
                    task = next_task
                else:
                    break
                in_flight[self._pool.submit(process_shard, task)] = task
            if not in_flight:
                return
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            lost: list[ShardTask] = []
            for future in done:
                task = in_flight.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    lost.append(task)
                    continue
                yield result
            if not lost:
                continue
            # The pool is broken: every shard still in flight is lost with it, unless it
            # finished just before.
            wait(in_flight)
            for future, task in list(in_flight.items()):
                if future.exception() is None:
                    yield future.result()
                else:
                    lost.append(task)
            in_flight.clear()
            lost.sort(key=lambda t: t.index)
            for task in lost:
                attempts[task.index] = attempts.get(task.index, 0) + 1
            shards = ", ".join(str(t.index) for t in lost)
            worst = max(attempts[t.index] for t in lost)
            if worst > self.retries:
                raise ExecutorError(
                    f"a worker process died (killed, out of memory, or a crash in a stage) while "
                    f"processing shards {shards} (attempt {worst} of {self.retries + 1}); giving up "
                    f"(execution.retries: {self.retries}); finished shards are kept: run again to resume"
                )
            logger.warning(
                "a worker process died while processing shards %s; retrying them in a fresh pool "
                "(attempt %d of %d)",
                shards,
                worst + 1,
                self.retries + 1,
            )
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._start_pool()
            retry.extend(lost)

    def map(self, function: Callable[[P], R], payloads: Iterable[P]) -> Iterator[R]:
        """Yield `function(payload)` for each payload, in order, `2 × workers` in flight.

        `function` must be a module-level function (it is pickled by reference). A dead
        worker stops the map with `ExecutorError`; what it computes is redone by the next run.
        """
        from concurrent.futures.process import BrokenProcessPool

        assert self._pool is not None, "use the executor as a context manager"
        pool = self._pool
        try:
            yield from _ordered(lambda p: pool.submit(function, p), payloads, 2 * self.workers)
        except BrokenProcessPool:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._start_pool()
            raise ExecutorError(
                f"a worker process died while running {function.__name__}; finished shards are "
                "kept: run again to resume"
            ) from None


class DaskExecutor:
    """Processes shards as `dask.distributed` tasks (one task per shard, never per document).

    Without `address`, starts a LocalCluster of `workers` single-threaded worker processes
    (logs below ERROR silenced) and closes it on exit. A shard whose worker dies is
    rescheduled by Dask on another worker up to `retries` times (the scheduler's
    `allowed-failures`; for a remote scheduler, its own setting applies). Warnings and
    errors that stages log in the workers are forwarded to this process's loggers
    (`Client.forward_logging`); INFO records stay in the workers (their loggers' level).
    """

    def __init__(self, workers: int, address: str | None, retries: int = 2):
        self.workers = workers
        self.address = address
        self.retries = retries
        self._client: Any = None
        self._cluster: Any = None
        self._log_levels: dict[str, int] = {}

    def __enter__(self) -> DaskExecutor:
        try:
            import dask
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:
            raise ExecutorError(
                "the dask executor needs dask: pip install 'nlp-pipeline[dask]'"
            ) from exc
        # Worker start/stop chatter, the nanny's "still alive, killing" when a loaded machine
        # is slow to stop a worker, and the scheduler's own account of dead workers are not
        # the user's concern: the run reports what matters (ExecutorError, the manifest).
        self._log_levels = {
            name: logging.getLogger(name).level
            for name in ["distributed", *logging.Logger.manager.loggerDict]
            if name.startswith("distributed")
        }
        for name in self._log_levels:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        try:
            self._connect(dask, Client, LocalCluster)
            # records the stages log in the workers (from WARNING, the workers' default
            # level) are handled here by the logger of the same name: log file, terminal
            self._client.forward_logging(level=logging.getLogger().getEffectiveLevel())
        except BaseException:
            self.__exit__()
            raise
        return self

    def _connect(self, dask: Any, client_class: Any, cluster_class: Any) -> None:
        if self.address:
            try:
                self._client = client_class(self.address, timeout="10s")
            except OSError as exc:
                raise ExecutorError(
                    f"cannot reach the Dask scheduler at {self.address}: {exc}"
                ) from exc
            return
        with dask.config.set({"distributed.scheduler.allowed-failures": self.retries}):
            self._cluster = cluster_class(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # no dashboard, and the scheduler's HTTP endpoints on a free port: the default
                # 8787 warns when another cluster on the machine holds it
                scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"},
                silence_logs=logging.CRITICAL,  # worker errors surface as ExecutorError, not log noise
            )
            self._client = client_class(self._cluster)

    def __exit__(self, *exc: Any) -> None:
        try:
            if self._client is not None:
                self._client.close()
                self._client = None
            if self._cluster is not None:
                self._cluster.close()
                self._cluster = None
        finally:
            for name, level in self._log_levels.items():
                logging.getLogger(name).setLevel(level)

    def run(self, tasks: Iterable[ShardTask]) -> Iterator[ShardResult]:
        """Yield shard results as tasks finish, keeping a bounded number in flight."""
        from dask.distributed import as_completed
        from distributed.scheduler import KilledWorker

        limit = 2 * self.workers
        task_iter = iter(tasks)
        first = [self._submit(t) for t in _take(task_iter, limit)]
        if not first:
            return
        completed = as_completed(first)
        for future in completed:
            try:
                result = future.result()
            except KilledWorker as exc:
                shard = str(future.key).split("-")[1].lstrip("0") or "0"
                attempts = (
                    f"on all {self.retries + 1} attempts (execution.retries: {self.retries})"
                    if self._cluster is not None
                    else "on every attempt the scheduler allows (its allowed-failures)"
                )
                raise ExecutorError(
                    f"Dask workers died (killed, out of memory, or a crash in a stage) while "
                    f"processing shard {shard}, {attempts}; finished shards are kept: run again to resume"
                ) from exc
            for task in _take(task_iter, 1):
                completed.add(self._submit(task))
            yield result

    def _submit(self, task: ShardTask) -> Any:
        return self._client.submit(
            process_shard, task, pure=False, key=f"shard-{task.index:05d}-{uuid.uuid4().hex[:8]}"
        )

    def map(self, function: Callable[[P], R], payloads: Iterable[P]) -> Iterator[R]:
        """Yield `function(payload)` for each payload, in order: one Dask task per payload,
        `2 × workers` in flight. Workers that keep dying stop the map with `ExecutorError`."""
        from distributed.scheduler import KilledWorker

        name = function.__name__.replace("_", "-")

        def submit(payload: P) -> Any:
            key = f"{name}-{uuid.uuid4().hex[:8]}"
            return self._client.submit(function, payload, pure=False, key=key)

        try:
            yield from _ordered(submit, payloads, 2 * self.workers)
        except KilledWorker as exc:
            raise ExecutorError(
                f"Dask workers died while running {function.__name__}; finished shards are kept: "
                "run again to resume"
            ) from exc


def _ordered(submit: Callable[[P], Any], payloads: Iterable[P], limit: int) -> Iterator[Any]:
    """Submit payloads keeping at most `limit` futures in flight; yield their results in order."""
    pending: deque[Any] = deque()
    for payload in payloads:
        pending.append(submit(payload))
        if len(pending) >= limit:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _take(iterator: Iterator[ShardTask], n: int) -> list[ShardTask]:
    out: deque[ShardTask] = deque()
    for _ in range(n):
        item = next(iterator, None)
        if item is None:
            break
        out.append(item)
    return list(out)


def make_executor(
    kind: str,
    *,
    workers: int,
    recycle_after: int,
    address: str | None = None,
    retries: int = 2,
    preload: Sequence[str] = (),
) -> Any:
    """Build the executor named in `execution.executor`; `preload` is for `processes`."""
    if kind == "serial":
        return SerialExecutor()
    if kind == "processes":
        return ProcessExecutor(workers, recycle_after, retries, preload=preload)
    if kind == "dask":
        return DaskExecutor(workers, address, retries)
    raise ValueError(f"unknown executor {kind!r}; expected serial, processes or dask")


def executor_for(execution: ExecutionSpec, *, preload: Sequence[str] = ()) -> Any:
    """Build the executor a run's `execution` settings ask for; `preload`: libraries for
    process workers to import once (`pipeline.workers.preload_modules`)."""
    return make_executor(
        execution.executor,
        workers=execution.workers,
        recycle_after=execution.recycle_after,
        address=execution.address,
        retries=execution.retries,
        preload=preload,
    )
