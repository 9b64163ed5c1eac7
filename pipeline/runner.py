"""The streaming runner: corpus → shards → stages → run folder, with cache, resume and quarantine.

The run folder holds `config.yaml` (resolved), `manifest.json`, `documents/shard-*.{parquet,jsonl}`,
`quarantine.jsonl` and `cache/`. Each finished shard is written atomically and recorded in
the manifest; a re-run verifies recorded shards by checksum and skips them, an interrupted run
resumes where it stopped, and a changed stage recomputes from that stage on (the cache keeps
every stage's output per shard, keyed by a chained fingerprint).
"""

from __future__ import annotations

import errno
import glob
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from . import registry
from .config import ConfigError, dump_config, stage_specs
from .executors import executor_for
from .manifest import (
    MANIFEST_VERSION,
    load_manifest,
    package_versions,
    run_timings,
    shard_is_verified,
    stage_table,
    write_quarantine,
)
from .paths import inside, output_folder
from .remote import PublishError, remote_run
from .shards import ShardResult, ShardTask, stage_fingerprints, timed_shards
from .store import atomic_write, remove_stale_temps, shard_name
from .urls import is_url, local_path, remote_filesystem

__all__ = ["RunError", "RunResult", "run", "ProgressHook", "stage_versions"]

logger = logging.getLogger(__name__)

DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class RunError(RuntimeError):
    """A run cannot start or go on (locked output, unwritable folder, missing input); one line."""


class ProgressHook:
    """Receives progress events; the CLI's rich progress bar implements it. Does nothing by default."""

    def start(self, total: int | None) -> None:
        """The run starts; `total` is the number of input items when known."""

    def advance(self, documents: int, words: int, reused: bool) -> None:
        """A shard finished: `documents` in, `words` out."""

    def finish(self) -> None:
        """The run ended."""


@dataclass
class RunResult:
    """Where a run wrote its results and what its manifest says."""

    run_dir: Path
    manifest: dict[str, Any]

    @property
    def counts(self) -> dict[str, int]:
        """`{"in": N, "out": M, "quarantined": Q}`; incremental runs add `skipped_seen`.

        `in = out + quarantined (+ skipped_seen)` always holds.
        """
        return self.manifest["documents"]


def check_corpus_path(corpus: Mapping[str, Any]) -> None:
    """Fail early, in one line, when the corpus path names nothing (on disk, or behind an fsspec URL).

    A URL whose fsspec backend is not installed (s3fs, gcsfs) is a `ConfigError` saying
    what to pip install.
    """
    path = corpus.get("path")
    if not isinstance(path, str):
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


def stage_versions(config: Mapping[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """`(name, resolved params, component version)` of each stage: what fingerprints chain."""
    return [
        (name, params, str(getattr(registry.lookup("stage", name), "version", "1")))
        for name, params in stage_specs(config)
    ]


def build_reader(corpus: Mapping[str, Any]) -> Any:
    """Instantiate the configured reader with its parameters (engine keys left out)."""
    cls = registry.lookup("reader", corpus["reader"])
    params = {k: v for k, v in corpus.items() if k in registry.parameters(cls)}
    return cls(**params)


def _acquire_lock(run_dir: Path) -> Any:
    from filelock import FileLock, Timeout

    lock = FileLock(str(run_dir / ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunError(
            f"another run is writing to {run_dir} (lock {run_dir / '.lock'}); wait for it to finish or choose another --output"
        ) from None
    return lock


def run(
    config: Mapping[str, Any],
    *,
    progress: ProgressHook | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RunResult:
    """Run a resolved config end to end and return the run folder and manifest.

    Raises `ConfigError` for a bad corpus path or output URL, `RunError` when the output
    folder is locked or cannot be written (permissions, full disk), `ExecutorError` when
    workers keep dying, and lets `StageError` (missing model or data) through. With
    `output.incremental`, only items not seen by earlier runs are processed (see
    `pipeline.incremental`). A remote `output.dir` (s3://...) runs in a local staging
    folder, the returned `run_dir`, which is published to the URL when the run ends
    (see `pipeline.remote`).
    """
    progress = progress or ProgressHook()
    started_wall = datetime.now(UTC)
    t_start = time.perf_counter()
    corpus = config["corpus"]
    check_corpus_path(corpus)
    execution = config["execution"]
    formats = list(config["output"]["formats"])
    run_dir = output_folder(config["output"]["dir"], staging=config["output"].get("staging"))
    remote = remote_run(config["output"]["dir"], run_dir)
    incremental = bool(config["output"].get("incremental"))
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        lock = _acquire_lock(run_dir)
    except OSError as exc:
        raise RunError(
            f"cannot write to the output folder {run_dir}: {exc.strerror or exc}"
        ) from None

    try:
        if remote is not None:
            remote.pull()  # a fresh machine resumes from the published run
        if incremental:
            from .incremental import run_incremental

            result = run_incremental(config, run_dir, progress, should_stop, started_wall, t_start)
        else:
            if (run_dir / "ledger.sqlite").exists():
                raise RunError(
                    f"{run_dir} holds an incremental dataset (ledger.sqlite): set output.incremental: true "
                    "or choose another --output"
                )
            result = _run_locked(
                config,
                run_dir,
                formats,
                execution,
                corpus,
                progress,
                should_stop,
                started_wall,
                t_start,
            )
        if remote is not None:
            remote.publish(result.manifest)
        return result
    except PublishError as exc:
        raise RunError(str(exc)) from None
    except OSError as exc:
        raise RunError(_storage_error(exc, run_dir)) from None
    except sqlite3.Error as exc:  # the ledger of an incremental run (a full disk, a damaged file)
        raise RunError(
            f"cannot update {run_dir / 'ledger.sqlite'}: {exc}; committed parts are kept, run again to resume"
        ) from None
    finally:
        lock.release()


def _storage_error(exc: OSError, run_dir: Path) -> str:
    """One line for a failed write: what, where, and that the next run resumes."""
    where = exc.filename or run_dir
    if exc.errno in DISK_FULL:
        what = f"the disk is full ({exc.strerror}) while writing {where}"
    else:
        what = f"cannot write {where}: {exc.strerror or exc}"
    return f"{what}; finished shards are kept and verified: free space or fix permissions, then run again to resume"


def _run_locked(
    config: Mapping[str, Any],
    run_dir: Path,
    formats: list[str],
    execution: Mapping[str, Any],
    corpus: Mapping[str, Any],
    progress: ProgressHook,
    should_stop: Callable[[], bool] | None,
    started_wall: datetime,
    t_start: float,
) -> RunResult:
    remove_stale_temps(run_dir)
    atomic_write(run_dir / "config.yaml", dump_config(config).encode("utf-8"))
    manifest_path = run_dir / "manifest.json"
    previous = load_manifest(manifest_path) or {}
    recorded: dict[int, dict[str, Any]] = {int(e["index"]): e for e in previous.get("shards", [])}

    specs = stage_versions(config)
    engine_key = orjson.dumps({"max_chars": corpus["max_chars"]}).decode()
    reader = build_reader(corpus)

    versions = package_versions()
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "name": config["name"],
        "status": "running",
        "started": started_wall.isoformat(),
        "documents": {"in": 0, "out": 0, "quarantined": 0},
        "stages": [],
        "versions": versions,
        "components": {name: version for name, _, version in specs},
        "timings": {},
        "shards": [],
    }
    stage_seconds = {name: 0.0 for name, _, _ in specs}
    counters = {"computed": 0, "reused": 0, "read_seconds": 0.0, "words": 0}
    seen_indices: list[int] = []
    last_write = [0.0]

    def write_manifest(force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - last_write[0] < 1.0:
            return
        last_write[0] = now
        manifest["shards"] = [recorded[i] for i in sorted(recorded)]
        atomic_write(manifest_path, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))

    def record(result: ShardResult) -> None:
        recorded[result.index] = result.to_manifest()
        counters["reused" if result.reused else "computed"] += 1
        counters["words"] += result.words
        for stat in result.stages:
            if not result.reused and not stat.get("cached"):
                stage_seconds[stat["name"]] = stage_seconds.get(stat["name"], 0.0) + stat["seconds"]
        progress.advance(result.documents_in, result.words, result.reused)
        write_manifest(force=not result.reused)

    def tasks() -> Iterator[ShardTask]:
        shards = timed_shards(
            reader.read(), config, limit=corpus["limit"], engine_key=engine_key, counters=counters
        )
        for index, items, input_hash in shards:
            if should_stop is not None and should_stop():
                return
            seen_indices.append(index)
            fingerprints = stage_fingerprints(input_hash, specs)
            fingerprint = fingerprints[-1] if fingerprints else input_hash
            if shard_is_verified(recorded.get(index), fingerprint, formats, run_dir):
                record(ShardResult.from_manifest(recorded[index]))
                continue
            recorded.pop(index, None)
            shard = (index, items, input_hash)
            yield ShardTask.for_run(shard, fingerprints, config, run_dir, cache=execution["cache"])

    total = reader.count()
    if total is not None and corpus["limit"] is not None:
        total = min(total, corpus["limit"])
    progress.start(total)
    executor = executor_for(execution)
    finished = False
    # The executor stays open after the stages: the corpus learners reduce over its workers.
    executor_scope = ExitStack()
    try:
        executor_scope.enter_context(executor)
        for result in executor.run(tasks()):
            record(result)
        finished = True
    except BaseException:
        executor_scope.close()
        raise
    finally:
        progress.finish()
        try:
            write_manifest(force=True)
        except OSError as exc:  # a full disk: keep the error that stopped the run
            if finished:
                executor_scope.close()
                raise
            logger.warning("could not update %s: %s", manifest_path, exc.strerror)

    with executor_scope:
        n_shards = max(seen_indices) + 1 if seen_indices else 0
        for index in [i for i in recorded if i >= n_shards]:
            for info in recorded.pop(index).get("files", {}).values():
                path = inside(run_dir, info["path"])
                if path is not None:
                    path.unlink(missing_ok=True)
        _remove_unrecorded_shards(run_dir, n_shards)

        entries = [recorded[i] for i in sorted(recorded)]
        docs_in = sum(e["in"] for e in entries)
        docs_out = sum(e["out"] for e in entries)
        docs_quarantined = sum(e["quarantined"] for e in entries)
        manifest["documents"] = {"in": docs_in, "out": docs_out, "quarantined": docs_quarantined}
        manifest["stages"] = stage_table(entries, specs, stage_seconds)
        write_quarantine(
            run_dir,
            [e["files"]["quarantine"]["path"] for e in entries if "quarantine" in e["files"]],
        )
        if config.get("represent"):
            from .learners import fit_learners

            fingerprints = [e["fingerprint"] for e in entries]
            manifest["represent"] = fit_learners(config, run_dir, fingerprints, executor)
    elapsed = time.perf_counter() - t_start
    manifest["timings"] = run_timings(
        elapsed,
        counters,
        stage_seconds,
        docs_in,
        int(counters["computed"]),
        int(counters["reused"]),
    )
    manifest["status"] = "complete"
    manifest["finished"] = datetime.now(UTC).isoformat()
    write_manifest(force=True)
    return RunResult(run_dir, manifest)


def _remove_unrecorded_shards(run_dir: Path, n_shards: int) -> None:
    """Delete shard files beyond the corpus's last shard (left by a bigger earlier corpus)."""
    for folder in ("documents", "quarantine"):
        for path in (run_dir / folder).glob("shard-*"):
            stem = path.name.split(".")[0]
            try:
                index = int(stem.split("-")[1])
            except (IndexError, ValueError):
                continue
            if index >= n_shards and stem == shard_name(index):
                path.unlink(missing_ok=True)


def clear_cache(run_dir: str | Path) -> None:
    """Delete a run folder's stage cache."""
    shutil.rmtree(Path(run_dir) / "cache", ignore_errors=True)
