"""The run loop: corpus → shards → stages → represent → tasks → report → publish.

`run` takes a resolved config and drives one `Run` through its phases, in order:

1. read and stages: the corpus is read as a stream of shards from a `ShardSource`
   (`IndexedShards` for a plain run: shards by index, with the stage cache, reuse of
   verified shards and resume; `LedgerShards` for `output.incremental`: only items no
   earlier run saw, appended to a date-partitioned dataset), and an executor processes
   each shard and writes its files atomically; the manifest records each one.
2. represent: the corpus learners are fitted on the run's documents, reducing across
   shards on the same executor where they can.
3. tasks: each task is fitted on the run's documents and saved in `tasks/NAME/`.
4. report: when tasks ran, `report.html` rendered from what the run folder holds
   (`pipeline.report`); a report that fails is a warning, never a failed run.
5. publish: a remote `output.dir` is uploaded from its local staging folder.

The run folder holds `config.yaml` (resolved), `manifest.json`, the documents,
`quarantine.jsonl`, `represent/`, `tasks/` and `cache/`.
"""

from __future__ import annotations

import glob
import logging
import os
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

import orjson

from .config import ConfigError, dump_config
from .executors import executor_for
from .files import atomic_write, remove_stale_temps
from .incremental import LedgerShards
from .indexed import IndexedShards
from .interfaces import Executor
from .language import LANGUAGE_MODULES
from .learners import fit_learners
from .manifest import (
    MANIFEST_VERSION,
    package_versions,
    quarantine_check,
    run_timings,
    stage_table,
)
from .pipeline import build_stage
from .remote import RemoteRun, remote_run
from .run_guards import failure_reason, locked_run_dir, sigterm_interrupts, storage_errors
from .run_types import (
    EmptyCorpusError,
    ProgressHook,
    RunError,
    RunInterrupted,
    RunResult,
    ShardSource,
    StopCheck,
)
from .settings import RunSettings
from .shards import ReadTimer, ShardResult
from .stage_cache import apply_cache_keep
from .tasks import fit_tasks
from .urls import is_url, local_path, remote_filesystem
from .workers import preload_modules

__all__ = [
    "EmptyCorpusError",
    "Run",
    "RunError",
    "RunInterrupted",
    "RunResult",
    "run",
    "ProgressHook",
    "check_corpus_path",
]

logger = logging.getLogger(__name__)

MANIFEST_INTERVAL = 1.0  # seconds between manifest writes while reused shards stream by


def check_corpus_path(path: str | None) -> None:
    """Fail early, in one line, when the corpus path names nothing (on disk, or behind an fsspec URL).

    `None` (a reader without a path) passes. A URL whose fsspec backend is not installed
    (s3fs, gcsfs) is a `ConfigError` saying what to pip install.
    """
    if path is None:
        return
    if is_url(path):
        remote = remote_filesystem(path, "corpus.path")
        if remote is not None:
            _check_remote_corpus_path(path, *remote)
            return
        expanded = str(local_path(path))
    else:
        expanded = os.path.expanduser(path)
    if glob.has_magic(expanded):
        if not any(True for _ in glob.iglob(expanded, recursive=True)):
            raise ConfigError(f"corpus.path: {path!r} matches no file")
    elif not os.path.exists(expanded):
        raise ConfigError(f"corpus.path: {path!r} does not exist")


def _check_remote_corpus_path(url: str, filesystem: Any, path: str) -> None:
    try:
        if glob.has_magic(path):
            if not filesystem.glob(path):
                raise ConfigError(f"corpus.path: {url!r} matches no file")
        elif not filesystem.exists(path):
            raise ConfigError(f"corpus.path: {url!r} does not exist")
    except OSError as exc:  # no permission, no network
        raise ConfigError(f"corpus.path: cannot list {url!r}: {exc.strerror or exc}") from None


def run(
    config: Mapping[str, Any],
    *,
    progress: ProgressHook | None = None,
    should_stop: StopCheck | None = None,
) -> RunResult:
    """Run a resolved config end to end and return the run folder and manifest.

    Raises `ConfigError` for a bad corpus path or output URL, `RunError` when the output
    folder is locked or cannot be written (permissions, full disk), `ExecutorError` when
    workers keep dying, and lets `StageError` (missing model or data) through. With
    `output.incremental`, only items not seen by earlier runs are processed (see
    `pipeline.incremental`). A remote `output.dir` (s3://...) runs in a local staging
    folder, the returned `run_dir`, which is published to the URL when the run ends
    (see `pipeline.remote`). `should_stop()`, asked before each shard, ends the run early
    with status `stopped` (what was done is kept; the next run resumes).

    A run that fails or is interrupted (Ctrl-C, SIGTERM: `RunInterrupted`) leaves its
    manifest with status `failed` or `interrupted` and a one-line `reason`. A corpus with
    no item is an `EmptyCorpusError` unless `corpus.allow_empty`. A quarantined share above
    `execution.max_quarantined` completes the run and sets `RunResult.quarantine_exceeded`.
    """
    started = datetime.now(UTC)
    t_start = time.perf_counter()
    check_corpus_path(config["corpus"].get("path"))
    settings = RunSettings.from_config(config)
    run_dir = settings.output.run_dir
    with locked_run_dir(run_dir), storage_errors(run_dir), sigterm_interrupts():
        return Run(settings, progress or ProgressHook(), should_stop, started, t_start).execute()


class Run:
    """One run of typed settings through its phases; `execute` reads them top to bottom.

    The caller holds the run folder's lock. The executor that processes the shards stays
    open for the represent and tasks phases, so they run on the same workers.
    """

    def __init__(
        self,
        settings: RunSettings,
        progress: ProgressHook,
        should_stop: StopCheck | None,
        started: datetime,
        t_start: float,
    ):
        self.settings = settings
        self.progress = progress
        self.should_stop = should_stop
        self.started = started
        self.t_start = t_start
        self.run_dir = settings.output.run_dir
        self.timer = ReadTimer()
        self.stage_seconds = {spec.name: 0.0 for spec in settings.stages}
        self.words = 0
        self.computed = 0
        self.reused = 0
        self.manifest: dict[str, Any] = {}
        self._input_keys: list[str] = []
        self._last_write = 0.0

    def execute(self) -> RunResult:
        """Run every phase in order and return the run folder and its manifest.

        Whatever ends the run early (an exception, Ctrl-C, SIGTERM) is recorded in the
        manifest as status `failed` or `interrupted` with its reason, then raised again.
        """
        try:
            remote = self._pull()
            source = self._prepare()
            # the shards' executor stays open for represent and tasks
            with ExitStack() as executor_scope:
                executor = self._read_and_process(source, executor_scope)
                self._check_not_empty()
                self._represent(executor)
                self._tasks(executor)
            self._close_manifest(stopped=source.stopped)
            if not source.stopped:  # a stopped run keeps its cache entries for the resume
                apply_cache_keep(
                    self.run_dir,
                    self.manifest["shards"],
                    self.settings.stages,
                    self.settings.execution.cache_keep,
                )
            self._report()
            self._publish(remote)
        except BaseException as exc:
            self._record_failure(exc)
            raise
        return RunResult(self.run_dir, self.manifest)

    # -- phases, in the order they run --------------------------------------------------------

    def _pull(self) -> RemoteRun | None:
        """A remote `output.dir`: bring its published run into the staging folder first, so a
        fresh machine resumes from it."""
        if not self.settings.output.remote:
            return None
        remote = remote_run(self.settings.output.dir, self.run_dir)
        if remote is not None:
            remote.pull()
        return remote

    def _prepare(self) -> ShardSource:
        """Choose the shard source, check the folder suits it, write the resolved config."""
        source = self._shard_source()
        source.check()
        remove_stale_temps(self.run_dir)
        config_yaml = dump_config(self.settings.config).encode("utf-8")
        atomic_write(self.run_dir / "config.yaml", config_yaml)
        return source

    def _read_and_process(self, source: ShardSource, executor_scope: ExitStack) -> Executor:
        """Read the corpus as shards and run the stages on each; sum up in the manifest."""
        with source:
            self.manifest = self._new_manifest(source)
            executor = self._process_shards(source, executor_scope)
            self._summarize(source)
        return executor

    def _check_not_empty(self) -> None:
        """Refuse a corpus that gave no item at all, unless `corpus.allow_empty`."""
        if self.manifest["documents"]["in"] or self.settings.corpus.allow_empty:
            return
        path = self.settings.corpus.path
        where = f"corpus.path {path!r}" if path is not None else "the corpus"
        raise EmptyCorpusError(
            f"{where} has no input ({self.settings.corpus.reader} reader found no file or item); "
            "check the path, or set corpus.allow_empty: true to accept an empty run"
        )

    def _represent(self, executor: Executor) -> None:
        """Fit the corpus learners on the run's documents, on the shards' executor."""
        if self.settings.represent:
            self.manifest["represent"] = fit_learners(
                self.settings.represent, self.run_dir, self._input_keys, executor
            )

    def _tasks(self, executor: Executor) -> None:
        """Fit and save each task of `tasks:` on the run's documents (a task's `search:`
        runs its trials on the shards' executor)."""
        if self.settings.tasks:
            self.manifest["tasks"] = fit_tasks(
                self.settings.tasks,
                self.run_dir,
                self._input_keys,
                self.settings.config,
                executor,
            )

    def _report(self) -> None:
        """When tasks ran, render `report.html` (`pipeline.report`) and record its path and
        seconds in the manifest (`report`). A report that cannot be written is a warning and
        `report.error` in the manifest: the run's results stand without it."""
        if not self.manifest.get("tasks"):
            return
        from .report import render_report

        t0 = time.perf_counter()
        try:
            path = render_report(self.run_dir)
            entry: dict[str, Any] = {"path": os.path.relpath(path, self.run_dir)}
        except Exception as exc:  # noqa: BLE001 - a failed report must never fail a finished run
            reason = f"{type(exc).__name__}: {exc}"
            logger.warning("could not write the run report in %s: %s", self.run_dir, reason)
            entry = {"error": reason}
        entry["seconds"] = round(time.perf_counter() - t0, 4)
        self.manifest["report"] = entry
        try:
            atomic_write(self.run_dir / "manifest.json", _manifest_bytes(self.manifest))
        except OSError as exc:
            logger.warning("could not record the report in %s: %s", self.run_dir, exc)

    def _publish(self, remote: RemoteRun | None) -> None:
        """A remote `output.dir`: upload what changed, `manifest.json` last."""
        if remote is not None:
            remote.publish(self.manifest)

    # -- the read and stages phase ------------------------------------------------------------

    def _shard_source(self) -> ShardSource:
        reader = self.settings.corpus.build_reader()
        if self.settings.output.incremental:
            return LedgerShards(self.settings, reader, self.timer, self.started.isoformat())
        return IndexedShards(self.settings, reader, self.timer)

    def _new_manifest(self, source: ShardSource) -> dict[str, Any]:
        return {
            "manifest_version": MANIFEST_VERSION,
            "name": self.settings.name,
            "status": "running",
            **source.header(),
            "started": self.started.isoformat(),
            "documents": source.initial_counts(),
            "stages": [],
            "versions": package_versions(),
            "components": {spec.name: spec.version for spec in self.settings.stages},
            "timings": {},
            "shards": [],
        }

    def _process_shards(self, source: ShardSource, executor_scope: ExitStack) -> Executor:
        """Read the corpus shard by shard and process each on the executor, recording results."""
        stages = [build_stage(spec.name, spec.params) for spec in self.settings.stages]
        # every shard detects its documents' language (pipeline.language) before the stages
        preload = sorted({*preload_modules(stages), *LANGUAGE_MODULES})
        executor = executor_for(self.settings.execution, preload=preload)
        self.progress.start(source.expected_total())
        finished = False
        try:
            executor_scope.enter_context(executor)
            record = self._recorder(source)
            for result in executor.run(source.tasks(self.should_stop, record)):
                record(result)
            finished = True
        finally:
            self.progress.finish()
            try:
                self._write_manifest(source, force=True)
            except OSError as exc:  # a full disk: keep the error that stopped the run
                if finished:
                    raise
                logger.warning(
                    "could not update %s: %s", self.run_dir / "manifest.json", exc.strerror
                )
        return executor

    def _recorder(self, source: ShardSource) -> Callable[[ShardResult], None]:
        def record(result: ShardResult) -> None:
            source.record(result)
            if result.reused:
                self.reused += 1
            else:
                self.computed += 1
                for stat in result.stages:
                    if not stat.get("cached"):
                        self.stage_seconds[stat["name"]] += stat["seconds"]
            self.words += result.words
            self.progress.advance(result.documents_in, result.words, result.reused)
            self._write_manifest(source, force=not result.reused)

        return record

    def _summarize(self, source: ShardSource) -> None:
        summary = source.finish()
        self._input_keys = summary.learner_inputs
        self.manifest["shards"] = summary.shards
        self.manifest["documents"] = summary.documents
        self.manifest.update(summary.sections)
        self.manifest["stages"] = stage_table(
            summary.shards, self.settings.stages, self.stage_seconds
        )

    def _close_manifest(self, *, stopped: bool) -> None:
        self.manifest["timings"] = run_timings(
            time.perf_counter() - self.t_start,
            read_seconds=self.timer.read_seconds,
            words=self.words,
            stage_seconds=self.stage_seconds,
            documents=self.manifest["documents"]["in"],
            computed=self.computed,
            reused=self.reused,
        )
        self.manifest["quarantine_check"] = quarantine_check(
            self.manifest["documents"], self.settings.execution.max_quarantined
        )
        self.manifest["status"] = "stopped" if stopped else "complete"
        self.manifest["finished"] = datetime.now(UTC).isoformat()
        atomic_write(self.run_dir / "manifest.json", _manifest_bytes(self.manifest))

    def _record_failure(self, exc: BaseException) -> None:
        """Write the manifest with status `failed` or `interrupted` and the reason `exc` gives.

        A run that ended before its manifest was started (a folder of the other kind of run,
        a bad reader parameter) leaves the folder's manifest as it was. When the manifest
        cannot be written (a full disk), the error that ended the run is the one kept.
        """
        if not self.manifest:
            return
        self.manifest["status"] = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        self.manifest["reason"] = failure_reason(exc, self.run_dir)
        self.manifest["finished"] = datetime.now(UTC).isoformat()
        try:
            atomic_write(self.run_dir / "manifest.json", _manifest_bytes(self.manifest))
        except OSError as write_error:
            logger.warning(
                "could not record the %s run in %s: %s",
                self.manifest["status"],
                self.run_dir / "manifest.json",
                write_error.strerror or write_error,
            )

    def _write_manifest(self, source: ShardSource, *, force: bool) -> None:
        now = time.perf_counter()
        if not force and now - self._last_write < MANIFEST_INTERVAL:
            return
        self._last_write = now
        self.manifest["shards"] = source.entries()
        atomic_write(self.run_dir / "manifest.json", _manifest_bytes(self.manifest))


def _manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    return orjson.dumps(manifest, option=orjson.OPT_INDENT_2)
