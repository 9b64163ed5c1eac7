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
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from .dataset import NewItem, collect_garbage, commit_shard, rewrite_parts, verify_parts
from .document import Document, Rejected
from .files import sha256_file
from .ledger import Ledger
from .manifest import write_quarantine
from .run_types import RunError, SourceSummary, StopCheck
from .settings import RunSettings
from .shards import (
    PartitionedShardResult,
    ReadTimer,
    ShardResult,
    ShardTask,
    timed_shards,
)
from .stage import Reader
from .urls import RemotePath

__all__ = ["LedgerShards", "item_key"]

logger = logging.getLogger(__name__)


def _is_edit(seen: tuple[str, str | None, str | None], content: str | None) -> bool:
    """Whether a document with this content hash is an edited version of the committed one
    the ledger knows by its key (`seen`: kind, content hash, first published date)."""
    kind, known, _ = seen
    return kind == "doc" and known is not None and content is not None and content != known


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def item_key(item: Document | Rejected) -> str:
    """The ledger key of a reader item: a document's id; for a rejected item, a hash of where and why."""
    if isinstance(item, Document):
        return item.id
    blob = orjson.dumps([item.source, item.position, item.reason, item.id], default=str)
    return "rejected:" + hashlib.sha256(blob).hexdigest()[:32]


def content_hash(doc: Document) -> str:
    """What makes a document an edited version of an earlier one: its text and title."""
    blob = orjson.dumps([doc.text, doc.meta.get("title")], default=str)
    return hashlib.sha256(blob).hexdigest()[:32]


class _Intake:
    """Filters the reader's stream down to new items and keeps the counts and extra sources.

    A document whose key an earlier run committed with another content hash is an edited
    story: it is let through to replace the stale version, with the first version's
    `published` date kept (the edit's own date goes to `meta["modified"]`) and the sources
    recorded so far.
    """

    def __init__(self, ledger: Ledger):
        self.ledger = ledger
        self.sources: dict[str, str] = {}  # key -> source, for every new key of this run
        self.extra_sources: dict[tuple[str, str], None] = {}  # (key, source), ordered
        self.keys: deque[NewItem] = deque()  # in shard order
        self.files_read: dict[str, str] = {}  # input file -> sha256, when the reader reports files
        self.items_per_file: dict[str, int] = {}  # input file -> items read from it
        self.counts = {
            "in": 0,
            "seen_earlier_runs": 0,
            "repeated_this_run": 0,
            "files_unchanged": 0,
        }

    def skip_file(self, path: Path | RemotePath) -> bool:
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
            seen = self.ledger.seen_item(key)
            content = content_hash(item) if isinstance(item, Document) else None
            if seen is not None and not _is_edit(seen, content):
                self.counts["seen_earlier_runs"] += 1
                if seen[0] == "doc" and source and not self.ledger.has_source(key, source):
                    self.extra_sources[(key, source)] = None
                continue
            self.sources[key] = source
            if not isinstance(item, Document):
                self.keys.append(NewItem(key, is_document=False))
                yield item
                continue
            published = item.meta.get("published")
            if seen is None:
                item.meta["sources"] = [source] if source else []
                self.keys.append(NewItem(key, True, content, _text_or_none(published)))
                yield item
                continue
            first_published = seen[2]
            if first_published is not None and _text_or_none(published) != first_published:
                item.meta["modified"] = published
                item.meta["published"] = first_published
            earlier = self.ledger.sources_of([key]).get(key, [])
            item.meta["sources"] = earlier + ([source] if source and source not in earlier else [])
            self.keys.append(NewItem(key, True, content, first_published, updated=True))
            yield item


class LedgerShards:
    """The shard source of an incremental run: only items no earlier run committed.

    Entering opens the ledger, drops part files no commit lists, verifies committed parts,
    begins a run in the ledger and rewrites parts whose documents turned up in further
    sources; `finish` commits those sources and, unless the run was stopped, records
    the input files read in full (so the next run can skip them unchanged).
    """

    def __init__(self, settings: RunSettings, reader: Reader, timer: ReadTimer, started: str):
        self.settings = settings
        self.reader = reader
        self.timer = timer
        self.started = started
        self._scope = ExitStack()
        self._entries: dict[int, dict[str, Any]] = {}
        self._pending: dict[int, list[NewItem]] = {}
        self._out = 0
        self._updated = 0
        self._stopped = False

    def check(self) -> None:
        """Refuse a run folder that holds a plain run's shards."""
        run_dir = self.settings.output.run_dir
        if any((run_dir / "documents").glob("shard-*")):
            raise RunError(
                f"{run_dir} holds a non-incremental run (documents/shard-*); choose another --output "
                "for the incremental dataset"
            )

    def __enter__(self) -> LedgerShards:
        run_dir = self.settings.output.run_dir
        ledger = self._scope.enter_context(Ledger.open(run_dir))
        self.ledger = ledger
        self._removed = collect_garbage(run_dir, ledger)
        self._damaged = verify_parts(run_dir, ledger)
        stages_key = orjson.dumps(
            [[s.name, s.params, s.version] for s in self.settings.stages],
            option=orjson.OPT_SORT_KEYS,
        ).decode()
        earlier = ledger.stage_configs()
        if earlier and earlier[-1] != stages_key:
            logger.warning(
                "the stages changed since the last run: documents already in %s keep their "
                "earlier processing; use a new output folder to process everything again",
                run_dir,
            )
        self.run_no = ledger.begin_run(self.started, stages_key)
        self._rewrite_counter = itertools.count()
        self._rewritten = self._rewrite_parts()
        self.intake = _Intake(ledger)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._scope.close()

    def _rewrite_parts(self) -> int:
        return rewrite_parts(
            self.settings.output.run_dir, self.ledger, self.run_no, self._rewrite_counter
        )

    def header(self) -> dict[str, Any]:
        """`incremental: true` and the run's number in the ledger."""
        return {"incremental": True, "run": self.run_no}

    def initial_counts(self) -> dict[str, int]:
        """`in`, `out`, `updated`, `quarantined`, `skipped_seen` at zero."""
        return {"in": 0, "out": 0, "updated": 0, "quarantined": 0, "skipped_seen": 0}

    def expected_total(self) -> int | None:
        """Unknown: how many items are new is only known once they are read."""
        return None

    @property
    def stopped(self) -> bool:
        """Whether reading stopped early because `should_stop()` said so."""
        return self._stopped

    def tasks(
        self, should_stop: StopCheck | None, reuse: Callable[[ShardResult], None]
    ) -> Iterator[ShardTask]:
        """Shard the new items (never reused: every shard of a run holds new items)."""
        limit = self.settings.corpus.limit
        if limit is None:
            items: Iterable[Document | Rejected] = self.reader.read_skipping(self.intake.skip_file)
        else:  # a partial read: no file is skipped, and none is recorded as read in full
            items = itertools.islice(self.reader.read(), limit)
        new_items = self.intake.new_items(iter(items))
        for shard in timed_shards(new_items, self.settings, limit=None, timer=self.timer):
            index, shard_items, _ = shard
            if should_stop is not None and should_stop():
                self._stopped = True
                self.intake.counts["in"] -= len(shard_items)  # read, not processed: not counted
                return
            self._pending[index] = [self.intake.keys.popleft() for _ in shard_items]
            yield ShardTask.for_run(
                self.settings,
                shard,
                cache=False,  # each run's shards are new items: a cache would only grow
                part_prefix=f"part-{self.run_no:06d}-{index:05d}",
            )

    def record(self, result: ShardResult) -> None:
        """Commit the shard's parts and item keys to the ledger in one transaction."""
        if not isinstance(result, PartitionedShardResult):
            raise TypeError(f"shard {result.index} of an incremental run wrote no dataset parts")
        added, updated = commit_shard(
            self.settings.output.run_dir,
            self.ledger,
            self.run_no,
            result,
            self._pending.pop(result.index),
            self.intake.sources,
        )
        self._out += added
        self._updated += updated
        self._entries[result.index] = result.to_manifest()

    def entries(self) -> list[dict[str, Any]]:
        """Manifest entries of this run's shards, by index."""
        return [self._entries[i] for i in sorted(self._entries)]

    def finish(self) -> SourceSummary:
        """Commit further sources, finish the run in the ledger, write `quarantine.jsonl`."""
        run_dir = self.settings.output.run_dir
        ledger, intake = self.ledger, self.intake
        ledger.add_sources(intake.extra_sources)
        self._rewritten += self._rewrite_parts()
        if not self._stopped:
            files = intake.files_read_in_full() if self.settings.corpus.limit is None else ()
            ledger.finish_run(self.run_no, datetime.now(UTC).isoformat(), files)
        write_quarantine(run_dir, ledger.quarantine_files())
        entries = self.entries()
        quarantined = sum(e["quarantined"] for e in entries)
        counts = intake.counts
        skipped = counts["seen_earlier_runs"] + counts["repeated_this_run"]
        documents = {
            "in": counts["in"],
            "out": self._out,
            "updated": self._updated,
            "quarantined": quarantined,
            "skipped_seen": skipped,
        }
        if counts["in"] != self._out + self._updated + quarantined + skipped:
            logger.error("counts do not add up: %s", documents)
        sections = {
            "seen_before": {
                "earlier_runs": counts["seen_earlier_runs"],
                "this_run": counts["repeated_this_run"],
            },
            "input_files": {
                "read": len(intake.files_read),
                "unchanged_skipped": counts["files_unchanged"],
            },
            "dataset": {
                **ledger.totals(),
                "parts_rewritten_for_sources": self._rewritten,
                "uncommitted_files_removed": self._removed,
                "damaged_parts_dropped": self._damaged,
            },
        }
        return SourceSummary(documents, entries, ledger.part_hashes(), sections)
