"""Incremental runs (`output.incremental: true`): only items not seen before, appended to a dataset.

Each run reads the corpus (a folder or glob of feeds, typically fetched every hour), skips
every item whose key is in the ledger (the document id: feed GUID, else link, else content
hash; a rejected item is keyed by its source, position and reason), processes the rest
shard by shard, and appends the documents to a Parquet dataset partitioned by publication
date: `documents/published=YYYY-MM-DD/part-RRRRRR-SSSSS.parquet` (`published=unknown`
without a date).

Nothing is lost or duplicated when a run is killed: a shard's part files are written
first, then committed with its keys in one SQLite transaction (`pipeline.ledger`); the
next run deletes part files that were never committed and processes their items again.
The same story in several feeds is kept once; every feed it came from is listed in
`meta["sources"]` (parts are rewritten when a story turns up in another feed later).

Readers of files (feeds, html, jsonl, text, csv) skip whole input files whose content a
finished run read in full (same path, same SHA-256): an hourly fetch that leaves most
feeds unchanged parses only the changed ones. Their items still count as read.

Counts: `in = out + quarantined + skipped_seen`, where `skipped_seen` counts items seen by
an earlier run (including every item of an unchanged file) or earlier in this run (the
same id in another feed).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from .config import dump_config
from .dataset import apply_sources, collect_garbage, commit_shard, verify_parts
from .document import Document, Rejected
from .executors import executor_for
from .ledger import Ledger
from .manifest import (
    MANIFEST_VERSION,
    package_versions,
    run_timings,
    stage_table,
    write_quarantine,
)
from .runner import ProgressHook, RunError, RunResult, build_reader, stage_versions
from .shards import ShardTask, stage_fingerprints, timed_shards
from .store import atomic_write, remove_stale_temps, sha256_file

__all__ = ["run_incremental", "item_key"]

logger = logging.getLogger(__name__)


def item_key(item: Document | Rejected) -> str:
    """The ledger key of a reader item: a document's id; for a rejected item, a hash of where and why."""
    if isinstance(item, Document):
        return item.id
    blob = orjson.dumps([item.source, item.position, item.reason, item.id], default=str)
    return "rejected:" + hashlib.sha256(blob).hexdigest()[:32]


class _Intake:
    """Filters the reader's stream down to new items and keeps the counts and extra sources."""

    def __init__(self, ledger: Ledger):
        self.ledger = ledger
        self.sources: dict[str, str] = {}  # key -> source, for every new key of this run
        self.extra_sources: dict[tuple[str, str], None] = {}  # (key, source), ordered
        self.keys: deque[tuple[str, bool]] = deque()  # (key, is_document), in shard order
        self.files_read: dict[str, str] = {}  # input file -> sha256, when the reader reports files
        self.items_per_file: dict[str, int] = {}  # input file -> items read from it
        self.counts = {
            "in": 0,
            "seen_earlier_runs": 0,
            "repeated_this_run": 0,
            "files_unchanged": 0,
        }

    def skip_file(self, path: Path) -> bool:
        """For readers that can skip whole files: skip one whose content a finished run read in full.

        The items of a skipped file count as read and as seen by an earlier run.
        """
        source = path.as_posix()
        sha = sha256_file(path)
        if sha is None:
            return False
        known = self.ledger.read_file(source)
        if known is not None and known[0] == sha:
            self.counts["files_unchanged"] += 1
            self.counts["in"] += known[1]
            self.counts["seen_earlier_runs"] += known[1]
            return True
        self.files_read[source] = sha
        self.items_per_file[source] = 0
        return False

    def files_read_in_full(self) -> list[tuple[str, str, int]]:
        """(path, sha256, items) of every input file this run read."""
        return [(p, sha, self.items_per_file[p]) for p, sha in self.files_read.items()]

    def new_items(self, items: Iterator[Document | Rejected]) -> Iterator[Document | Rejected]:
        """Yield only items whose key no run has committed and this run has not met yet."""
        for item in items:
            self.counts["in"] += 1
            key = item_key(item)
            source = str(item.meta.get("source", "")) if isinstance(item, Document) else ""
            origin = source if isinstance(item, Document) else item.source
            if origin in self.items_per_file:
                self.items_per_file[origin] += 1
            if key in self.sources:
                self.counts["repeated_this_run"] += 1
                if source and source != self.sources[key]:
                    self.extra_sources[(key, source)] = None
                continue
            kind = self.ledger.seen_kind(key)
            if kind is not None:
                self.counts["seen_earlier_runs"] += 1
                if kind == "doc" and source and not self.ledger.has_source(key, source):
                    self.extra_sources[(key, source)] = None
                continue
            self.sources[key] = source
            if isinstance(item, Document):
                item.meta["sources"] = [source] if source else []
            self.keys.append((key, isinstance(item, Document)))
            yield item


def run_incremental(
    config: Mapping[str, Any],
    run_dir: Path,
    progress: ProgressHook,
    should_stop: Callable[[], bool] | None,
    started_wall: datetime,
    t_start: float,
) -> RunResult:
    """Run an incremental config (the caller holds the run folder's lock)."""
    corpus, execution = config["corpus"], config["execution"]
    formats = list(config["output"]["formats"])
    if any((run_dir / "documents").glob("shard-*")):
        raise RunError(
            f"{run_dir} holds a non-incremental run (documents/shard-*); choose another --output "
            "for the incremental dataset"
        )
    remove_stale_temps(run_dir)
    atomic_write(run_dir / "config.yaml", dump_config(config).encode("utf-8"))
    specs = stage_versions(config)
    stages_key = orjson.dumps(specs, option=orjson.OPT_SORT_KEYS).decode()
    engine_key = orjson.dumps({"max_chars": corpus["max_chars"]}).decode()
    reader = build_reader(corpus)

    # The executor stays open after the stages: the corpus learners reduce over its workers.
    with ExitStack() as executor_scope:
        with Ledger.open(run_dir) as ledger:
            removed = collect_garbage(run_dir, ledger)
            damaged = verify_parts(run_dir, ledger)
            earlier = ledger.stage_configs()
            if earlier and earlier[-1] != stages_key:
                logger.warning(
                    "the stages changed since the last run: documents already in %s keep their "
                    "earlier processing; use a new output folder to process everything again",
                    run_dir,
                )
            run_no = ledger.begin_run(started_wall.isoformat(), stages_key)
            rewrite_counter = itertools.count()
            rewritten = apply_sources(run_dir, ledger, run_no, formats, rewrite_counter)

            intake = _Intake(ledger)
            if corpus["limit"] is None:
                items = reader.read_skipping(intake.skip_file)
            else:  # a partial read: no file is skipped, and none is recorded as read in full
                items = itertools.islice(reader.read(), corpus["limit"])
            manifest: dict[str, Any] = {
                "manifest_version": MANIFEST_VERSION,
                "name": config["name"],
                "status": "running",
                "incremental": True,
                "run": run_no,
                "started": started_wall.isoformat(),
                "documents": {"in": 0, "out": 0, "quarantined": 0, "skipped_seen": 0},
                "versions": package_versions(),
                "components": {name: version for name, _, version in specs},
                "shards": [],
            }
            entries: dict[int, dict[str, Any]] = {}
            pending: dict[int, list[tuple[str, bool]]] = {}
            stage_seconds = {name: 0.0 for name, _, _ in specs}
            counters = {"read_seconds": 0.0, "words": 0, "out": 0, "stopped": 0}

            def write_manifest() -> None:
                manifest["shards"] = [entries[i] for i in sorted(entries)]
                atomic_write(
                    run_dir / "manifest.json", orjson.dumps(manifest, option=orjson.OPT_INDENT_2)
                )

            def tasks() -> Iterator[ShardTask]:
                new_items = intake.new_items(iter(items))
                shards = timed_shards(
                    new_items, config, limit=None, engine_key=engine_key, counters=counters
                )
                for index, shard_items, input_hash in shards:
                    if should_stop is not None and should_stop():
                        counters["stopped"] = 1
                        intake.counts["in"] -= len(shard_items)  # read, not processed: not counted
                        return
                    pending[index] = [intake.keys.popleft() for _ in shard_items]
                    fingerprints = stage_fingerprints(input_hash, specs)
                    yield ShardTask.for_run(
                        (index, shard_items, input_hash),
                        fingerprints,
                        config,
                        run_dir,
                        cache=False,  # each run's shards are new items: a cache would only grow
                        part_prefix=f"part-{run_no:06d}-{index:05d}",
                    )

            progress.start(None)
            executor = executor_for(execution)
            try:
                executor_scope.enter_context(executor)
                for result in executor.run(tasks()):
                    counters["out"] += commit_shard(
                        run_dir, ledger, run_no, result, pending.pop(result.index), intake.sources
                    )
                    entry = result.to_manifest()
                    entry["parts"] = [p["stem"] for p in result.extra.get("parts", [])]
                    entries[result.index] = entry
                    counters["words"] += result.words
                    for stat in result.stages:
                        stage_seconds[stat["name"]] += stat["seconds"]
                    progress.advance(result.documents_in, result.words, False)
                    write_manifest()
            finally:
                progress.finish()
                write_manifest()

            ledger.add_sources(intake.extra_sources)
            rewritten += apply_sources(run_dir, ledger, run_no, formats, rewrite_counter)
            quarantine_files = ledger.quarantine_files()
            totals = ledger.totals()
            part_hashes = ledger.part_hashes()
            complete = not counters["stopped"]
            if complete:
                files = intake.files_read_in_full() if corpus["limit"] is None else ()
                ledger.finish_run(run_no, datetime.now(UTC).isoformat(), files)

        write_quarantine(run_dir, quarantine_files)
        shard_entries = [entries[i] for i in sorted(entries)]
        quarantined = sum(e["quarantined"] for e in shard_entries)
        counts = intake.counts
        skipped = counts["seen_earlier_runs"] + counts["repeated_this_run"]
        manifest["documents"] = {
            "in": counts["in"],
            "out": counters["out"],
            "quarantined": quarantined,
            "skipped_seen": skipped,
        }
        if counts["in"] != counters["out"] + quarantined + skipped:
            logger.error("counts do not add up: %s", manifest["documents"])
        manifest["seen_before"] = {
            "earlier_runs": counts["seen_earlier_runs"],
            "this_run": counts["repeated_this_run"],
        }
        manifest["input_files"] = {
            "read": len(intake.files_read),
            "unchanged_skipped": counts["files_unchanged"],
        }
        manifest["dataset"] = {
            **totals,
            "parts_rewritten_for_sources": rewritten,
            "uncommitted_files_removed": removed,
            "damaged_parts_dropped": damaged,
        }
        manifest["stages"] = stage_table(shard_entries, specs, stage_seconds)
        if config.get("represent"):
            from .learners import fit_learners

            manifest["represent"] = fit_learners(config, run_dir, part_hashes, executor)
        elapsed = time.perf_counter() - t_start
        manifest["timings"] = run_timings(
            elapsed, counters, stage_seconds, counts["in"], len(shard_entries), 0
        )
        manifest["status"] = "complete" if complete else "stopped"
        manifest["finished"] = datetime.now(UTC).isoformat()
        write_manifest()
        return RunResult(run_dir, manifest)
