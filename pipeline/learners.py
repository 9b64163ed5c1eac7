"""Corpus learners (`represent:`): fitted on the processed documents of a run, after the stages.

A learner whose statistics add up over documents (vocabulary, document frequencies:
`bow`, `onehot`, `tfidf`) is fitted as a reduction across shards: each shard file is
counted by a task on the run's executor (a Dask or process worker), the counts are
merged here, and the corpus matrix is built shard by shard the same way (the contract
is `pipeline.interfaces.ShardReducingLearner`). Any other learner (Word2Vec, GloVe, ...) reads the
run's shards as a restartable stream in this process (it may make several passes; the
corpus is never loaded as a list). Each saves itself and its corpus-level artifacts
into `RUN/represent/NAME/`; one whose input shards and parameters are unchanged since
the last run is skipped.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from . import registry
from .document import Document
from .executors import SerialExecutor
from .files import atomic_write
from .interfaces import ArtifactExporter, CorpusLearner, Executor, ShardReducingLearner
from .shard_files import document_files, read_shard
from .store import read_documents

__all__ = ["LearnerShard", "RunCorpus", "fit_learners", "shard_matrix", "shard_statistics"]

logger = logging.getLogger(__name__)


class RunCorpus:
    """A restartable iterable over the documents of a run folder, in corpus order."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)

    def __iter__(self) -> Iterator[Document]:
        return read_documents(self.run_dir, allow_partial=True)  # read while the run is open


@dataclass(frozen=True)
class LearnerShard:
    """One learner's work on one shard file: plain data a worker rebuilds the learner from."""

    learner: str
    params: dict[str, Any]
    run_dir: str
    path: str  # the shard file, relative to run_dir
    fitted: str | None = None  # the fitted learner's folder (for `shard_matrix`)
    key: str = ""  # the fit's fingerprint: workers keep one loaded learner per key


def shard_statistics(task: LearnerShard) -> Any:
    """(worker) The learner's mergeable statistics of one shard file."""
    registry.load_plugins()
    learner = registry.lookup("represent", task.learner)(**task.params)
    return learner.shard_statistics(read_shard(Path(task.run_dir) / task.path))


_FITTED: dict[str, Any] = {}


def shard_matrix(task: LearnerShard) -> Any:
    """(worker) The fitted learner's (document ids, matrix rows) of one shard file."""
    learner = _FITTED.get(task.key)
    if learner is None:
        registry.load_plugins()
        cls: Any = registry.lookup("represent", task.learner)
        learner = cls.load(task.fitted)
        _FITTED.clear()  # one fitted learner per worker at a time
        _FITTED[task.key] = learner
    return learner.shard_matrix(read_shard(Path(task.run_dir) / task.path))


def fit_fingerprint(
    input_keys: list[str], name: str, params: Mapping[str, Any], version: str
) -> str:
    """What a fitted learner or task depends on: its input files, component, parameters, version."""
    blob = orjson.dumps([input_keys, name, params, version], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()


def is_fitted(folder: Path, fingerprint: str) -> bool:
    """Whether `folder` holds a fit with this fingerprint (its `.fingerprint` stamp)."""
    stamp = folder / ".fingerprint"
    return stamp.is_file() and stamp.read_text().strip() == fingerprint


def mark_fitted(folder: Path, fingerprint: str) -> None:
    """Stamp `folder` as holding the fit with this fingerprint (written last, atomically)."""
    atomic_write(folder / ".fingerprint", fingerprint.encode())


def fit_learners(
    represent: Mapping[str, Mapping[str, Any]],
    run_dir: Path,
    input_keys: list[str],
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Fit, save and export every learner of the `represent:` section; return per-learner manifest rows.

    `input_keys` identify the run's document files (shard fingerprints, or part hashes of
    an incremental dataset): a learner whose inputs and parameters are unchanged since
    it was last fitted is skipped. With an `executor`, learners that reduce across shards
    count and transform each shard file as a task on it; without one, in this process.
    """
    rows: dict[str, Any] = {}
    corpus = RunCorpus(run_dir)
    for name, params in represent.items():
        cls = registry.lookup("represent", name)
        key = fit_fingerprint(input_keys, name, params, getattr(cls, "version", "1"))
        out_dir = run_dir / "represent" / name
        if is_fitted(out_dir, key):
            rows[name] = {"path": str(out_dir.relative_to(run_dir)), "reused": True, "seconds": 0.0}
            continue
        t0 = time.perf_counter()
        learner = cls(**params)
        if not isinstance(learner, CorpusLearner):
            raise TypeError(f"represent.{name}: {cls.__name__} does not implement CorpusLearner")
        row: dict[str, Any] = {"path": str(out_dir.relative_to(run_dir)), "reused": False}
        if isinstance(learner, ShardReducingLearner) and learner.reduces_across_shards():
            files = document_files(run_dir)
            _fit_across_shards(learner, name, params, run_dir, files, out_dir, key, executor)
            row["shards_reduced"] = len(files)
        else:
            learner.fit(corpus)
            out_dir.mkdir(parents=True, exist_ok=True)
            learner.save(out_dir)
            if isinstance(learner, ArtifactExporter):
                learner.export(corpus, out_dir)
        mark_fitted(out_dir, key)
        row["seconds"] = round(time.perf_counter() - t0, 4)
        rows[name] = row
        logger.info("fitted %s in %.2f s", name, row["seconds"])
    return rows


def _fit_across_shards(
    learner: ShardReducingLearner,
    name: str,
    params: Mapping[str, Any],
    run_dir: Path,
    files: list[str],
    out_dir: Path,
    key: str,
    executor: Executor | None,
) -> None:
    """Map `shard_statistics` over the shard files, merge, fit; then map `shard_matrix` to export."""
    executor = executor or SerialExecutor()
    tasks = [LearnerShard(name, dict(params), str(run_dir), path) for path in files]
    merged = None
    for stats in executor.map(shard_statistics, tasks):
        merged = stats if merged is None else learner.merge_statistics(merged, stats)
    if merged is None:
        merged = learner.shard_statistics([])
    learner.fit_statistics(merged)
    out_dir.mkdir(parents=True, exist_ok=True)
    learner.save(out_dir)
    fitted = [LearnerShard(name, {}, str(run_dir), t.path, str(out_dir), key) for t in tasks]
    learner.export_shards(executor.map(shard_matrix, fitted), out_dir)
