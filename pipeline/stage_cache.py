"""The stage cache: each shard's documents after every stage prefix, keyed by fingerprint.

A fingerprint chains the input shard's content hash with each stage's registry name,
resolved parameters and version (`pipeline.shards.stage_fingerprints`), so a re-run with a
changed stage resumes from the longest unchanged prefix (decision 3).

Entries of stages or inputs no longer configured stay until pruned: `prune_cache` keeps
the entries the current manifest's shards use (`nlp cache prune`, `execution.cache_keep`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .document import Document
from .files import atomic_write
from .settings import StageSpec, stage_fingerprints

__all__ = ["CacheStore", "PrunedCache", "apply_cache_keep", "current_fingerprints", "prune_cache"]

logger = logging.getLogger(__name__)


class CacheStore:
    """Stage outputs per shard, keyed by fingerprint: `cache/<fp[:2]>/<fp>.json`.

    An entry holds the shard's documents and quarantine records after some stage
    prefix, plus per-stage counts, and a checksum of its payload: a truncated or
    corrupted entry is detected and treated as a miss.
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, fingerprint: str) -> Path:
        """Where the entry for `fingerprint` lives."""
        return self.root / fingerprint[:2] / f"{fingerprint}.json"

    def load(self, fingerprint: str) -> dict[str, Any] | None:
        """Return the entry (`docs`, `quarantined`, `stats`) or `None` when absent or invalid."""
        try:
            raw = self.path(fingerprint).read_bytes()
        except OSError:
            return None
        header, _, payload = raw.partition(b"\n")
        if header.decode("ascii", "replace") != hashlib.sha256(payload).hexdigest():
            return None
        try:
            entry = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return None
        return entry if isinstance(entry, dict) else None

    def save(
        self,
        fingerprint: str,
        docs: list[Document],
        quarantined: list[dict[str, Any]],
        stats: list[dict[str, Any]],
    ) -> None:
        """Store a shard's state after a stage prefix."""
        payload = orjson.dumps(
            {"docs": [doc.to_dict() for doc in docs], "quarantined": quarantined, "stats": stats}
        )
        header = hashlib.sha256(payload).hexdigest().encode("ascii")
        atomic_write(self.path(fingerprint), header + b"\n" + payload)


@dataclass(frozen=True)
class PrunedCache:
    """What pruning did: entries and bytes removed, entries and bytes left."""

    removed: int
    freed_bytes: int
    kept: int
    kept_bytes: int


def current_fingerprints(
    shards: Iterable[Mapping[str, Any]], stages: Iterable[StageSpec]
) -> set[str]:
    """The fingerprint of every stage prefix of every shard in a manifest's `shards` list."""

    stages = tuple(stages)
    keep: set[str] = set()
    for shard in shards:
        keep.update(stage_fingerprints(shard["input_hash"], stages))
    return keep


def prune_cache(
    run_dir: Path, keep_fingerprints: Iterable[str], *, max_bytes: int = 0
) -> PrunedCache:
    """Delete the cache entries of `run_dir` whose fingerprint is not in `keep_fingerprints`.

    With `max_bytes`, the most recently written other entries are kept as long as they
    total at most that many bytes (entries in `keep_fingerprints` are always kept and
    not counted). Returns the counts; a run folder without a cache prunes nothing.
    """
    root = Path(run_dir) / "cache"
    keep = set(keep_fingerprints)
    others: list[tuple[float, int, Path]] = []
    kept = kept_bytes = 0
    for entry in root.glob("??/*.json") if root.is_dir() else ():
        stat = entry.stat()
        if entry.stem in keep:
            kept += 1
            kept_bytes += stat.st_size
        else:
            others.append((stat.st_mtime, stat.st_size, entry))
    removed = freed = budget = 0
    for _, size, entry in sorted(others, key=lambda item: item[0], reverse=True):
        if budget + size <= max_bytes:
            budget += size
            kept += 1
            kept_bytes += size
            continue
        entry.unlink(missing_ok=True)
        removed += 1
        freed += size
    for folder in root.glob("??") if root.is_dir() else ():
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return PrunedCache(removed, freed, kept, kept_bytes)


def apply_cache_keep(
    run_dir: Path,
    shards: Iterable[Mapping[str, Any]],
    stages: Iterable[StageSpec],
    cache_keep: str | int,
) -> PrunedCache | None:
    """Prune a finished run's cache as `execution.cache_keep` says; None when it keeps `all`.

    `current` keeps only the entries of `shards` (the manifest's) under `stages`; a number
    also keeps up to that many bytes of other entries, the most recent first.
    """
    if cache_keep == "all":
        return None
    max_bytes = 0 if cache_keep == "current" else int(cache_keep)
    pruned = prune_cache(run_dir, current_fingerprints(shards, stages), max_bytes=max_bytes)
    logger.info(
        "cache_keep=%s: removed %d cache entries (%.1f MB), kept %d (%.1f MB)",
        cache_keep,
        pruned.removed,
        pruned.freed_bytes / 1e6,
        pruned.kept,
        pruned.kept_bytes / 1e6,
    )
    return pruned
