"""Executors: where shards are processed. Same tasks in, same files out, whatever the executor.

- `serial`: in this process.
- `processes`: a spawn-context process pool; each worker rebuilds the stages from the
  resolved config (never a pickled stage) and is recycled after `recycle_after` shards.
- `dask`: a `dask.distributed` client, joining `address` or starting a LocalCluster.

Every executor keeps at most `2 × workers` shards in flight, so memory depends on the
shard size, not on the corpus size.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from .shards import ShardResult, ShardTask, process_shard

__all__ = ["make_executor", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "ExecutorError"]

logger = logging.getLogger(__name__)


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


class ProcessExecutor:
    """Processes shards in a pool of spawned worker processes."""

    def __init__(self, workers: int, recycle_after: int):
        self.workers = workers
        self.recycle_after = recycle_after
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ProcessExecutor:
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            max_tasks_per_child=self.recycle_after,
        )
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def run(self, tasks: Iterable[ShardTask]) -> Iterator[ShardResult]:
        """Yield shard results in completion order, keeping a bounded number in flight."""
        from concurrent.futures.process import BrokenProcessPool

        assert self._pool is not None, "use the executor as a context manager"
        limit = 2 * self.workers
        pending: set[Future[ShardResult]] = set()
        task_iter = iter(tasks)
        exhausted = False
        while True:
            while not exhausted and len(pending) < limit:
                task = next(task_iter, None)
                if task is None:
                    exhausted = True
                    break
                pending.add(self._pool.submit(process_shard, task))
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    yield future.result()
                except BrokenProcessPool as exc:
                    raise ExecutorError(
                        "a worker process died (out of memory or killed); finished shards are kept: run again to resume"
                    ) from exc


class DaskExecutor:
    """Processes shards as `dask.distributed` tasks (one task per shard, never per document)."""

    def __init__(self, workers: int, address: str | None):
        self.workers = workers
        self.address = address
        self._client: Any = None
        self._cluster: Any = None

    def __enter__(self) -> DaskExecutor:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:
            raise ExecutorError(
                "the dask executor needs dask: pip install 'nlp-pipeline[dask]'"
            ) from exc
        if self.address:
            try:
                self._client = Client(self.address, timeout="10s")
            except OSError as exc:
                raise ExecutorError(
                    f"cannot reach the Dask scheduler at {self.address}: {exc}"
                ) from exc
        else:
            self._cluster = LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self._client = Client(self._cluster)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def run(self, tasks: Iterable[ShardTask]) -> Iterator[ShardResult]:
        """Yield shard results as tasks finish, keeping a bounded number in flight."""
        from dask.distributed import as_completed

        limit = 2 * self.workers
        task_iter = iter(tasks)
        first = [self._client.submit(process_shard, t, pure=False) for t in _take(task_iter, limit)]
        if not first:
            return
        completed = as_completed(first)
        for future in completed:
            result = future.result()
            for task in _take(task_iter, 1):
                completed.add(self._client.submit(process_shard, task, pure=False))
            yield result


def _take(iterator: Iterator[ShardTask], n: int) -> list[ShardTask]:
    out: deque[ShardTask] = deque()
    for _ in range(n):
        item = next(iterator, None)
        if item is None:
            break
        out.append(item)
    return list(out)


def make_executor(
    kind: str, *, workers: int, recycle_after: int, address: str | None = None
) -> Any:
    """Build the executor named in `execution.executor`."""
    if kind == "serial":
        return SerialExecutor()
    if kind == "processes":
        return ProcessExecutor(workers, recycle_after)
    if kind == "dask":
        return DaskExecutor(workers, address)
    raise ValueError(f"unknown executor {kind!r}; expected serial, processes or dask")
