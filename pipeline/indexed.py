"""Shards by index: the shard source of a plain (non-incremental) run.

The corpus is cut into shards 0, 1, 2, ... in reading order. A shard whose fingerprint
(input hash chained with every stage's identity) matches the previous manifest's entry and
whose files check out by SHA-256 is reused without a task; any other is processed, resuming
from the stage cache where an earlier run got. Shards beyond the corpus's last (left by a
bigger corpus before) are deleted when the run ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .manifest import load_manifest, shard_is_verified, write_quarantine
from .paths import inside
from .run_types import RunError, SourceSummary, StopCheck
from .settings import RunSettings
from .shard_files import shard_name
from .shards import ReadTimer, ShardResult, ShardTask, timed_shards
from .stage import Reader

__all__ = ["IndexedShards"]


class IndexedShards:
    """The shard source of a plain run: shards by index, reused when verified (see module doc)."""

    def __init__(self, settings: RunSettings, reader: Reader, timer: ReadTimer):
        self.settings = settings
        self.reader = reader
        self.timer = timer
        self._recorded: dict[int, dict[str, Any]] = {}
        self._seen: list[int] = []
        self._stopped = False

    def check(self) -> None:
        """Refuse a run folder that holds an incremental dataset."""
        run_dir = self.settings.output.run_dir
        if (run_dir / "ledger.sqlite").exists():
            raise RunError(
                f"{run_dir} holds an incremental dataset (ledger.sqlite): set output.incremental: true "
                "or choose another --output"
            )

    def __enter__(self) -> IndexedShards:
        previous = load_manifest(self.settings.output.run_dir / "manifest.json") or {}
        self._recorded = {int(e["index"]): e for e in previous.get("shards", [])}
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def header(self) -> dict[str, Any]:
        """No keys beyond the common ones."""
        return {}

    def initial_counts(self) -> dict[str, int]:
        """`in`, `out`, `quarantined` at zero."""
        return {"in": 0, "out": 0, "quarantined": 0}

    def expected_total(self) -> int | None:
        """The reader's item count (capped by `corpus.limit`), when it knows it cheaply."""
        total = self.reader.count()
        limit = self.settings.corpus.limit
        return min(total, limit) if total is not None and limit is not None else total

    @property
    def stopped(self) -> bool:
        """Whether reading stopped early because `should_stop()` said so."""
        return self._stopped

    def tasks(
        self, should_stop: StopCheck | None, reuse: Callable[[ShardResult], None]
    ) -> Iterator[ShardTask]:
        """Read the corpus shard by shard; reuse verified shards, yield a task for the others."""
        settings = self.settings
        shards = timed_shards(
            self.reader.read(), settings, limit=settings.corpus.limit, timer=self.timer
        )
        for shard in shards:
            if should_stop is not None and should_stop():
                self._stopped = True
                return
            task = ShardTask.for_run(settings, shard, cache=settings.execution.cache)
            self._seen.append(task.index)
            recorded = self._recorded.get(task.index)
            if shard_is_verified(
                recorded, task.fingerprint, settings.output.formats, settings.output.run_dir
            ):
                reuse(ShardResult.from_manifest(self._recorded[task.index]))
                continue
            self._recorded.pop(task.index, None)
            yield task

    def record(self, result: ShardResult) -> None:
        """Keep the shard's manifest entry."""
        self._recorded[result.index] = result.to_manifest()

    def entries(self) -> list[dict[str, Any]]:
        """Manifest entries of the recorded shards, by index."""
        return [self._recorded[i] for i in sorted(self._recorded)]

    def finish(self) -> SourceSummary:
        """Drop shards beyond the corpus's last, write `quarantine.jsonl`, sum the counts."""
        run_dir = self.settings.output.run_dir
        n_shards = max(self._seen) + 1 if self._seen else 0
        for index in [i for i in self._recorded if i >= n_shards]:
            for info in self._recorded.pop(index).get("files", {}).values():
                path = inside(run_dir, info["path"])
                if path is not None:
                    path.unlink(missing_ok=True)
        _remove_unrecorded_shards(run_dir, n_shards)
        entries = self.entries()
        write_quarantine(
            run_dir,
            [e["files"]["quarantine"]["path"] for e in entries if "quarantine" in e["files"]],
        )
        documents = {
            "in": sum(e["in"] for e in entries),
            "out": sum(e["out"] for e in entries),
            "quarantined": sum(e["quarantined"] for e in entries),
        }
        return SourceSummary(documents, entries, [e["fingerprint"] for e in entries])


def _remove_unrecorded_shards(run_dir: Any, n_shards: int) -> None:
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
