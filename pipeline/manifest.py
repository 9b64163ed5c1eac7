"""The run manifest: its version, what it records per shard and per stage, and the quarantine file.

`manifest.json` says what a run did: status, counts (`in = out + quarantined`, plus
`skipped_seen` for incremental runs), one row per stage, library versions, timings and,
per shard, its fingerprint and the SHA-256 of each file it wrote.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import orjson

from .files import atomic_write, sha256_file
from .paths import inside
from .settings import StageSpec

__all__ = [
    "run_timings",
    "MANIFEST_VERSION",
    "load_manifest",
    "package_versions",
    "quarantine_check",
    "shard_is_verified",
    "stage_table",
    "write_quarantine",
]

MANIFEST_VERSION = 1
VERSIONED_PACKAGES = (
    "nlp-pipeline",
    "spacy",
    "nltk",
    "gensim",
    "scikit-learn",
    "torch",
    "pyarrow",
    "pydantic",
)


def package_versions() -> dict[str, str]:
    """Versions of Python and the libraries whose behaviour shapes the outputs."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = package_version(name)
        except PackageNotFoundError:
            continue
    return versions


def load_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest at `path`, or None when it is missing, unreadable or of another version."""
    try:
        manifest = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return (
        manifest
        if isinstance(manifest, dict) and manifest.get("manifest_version") == MANIFEST_VERSION
        else None
    )


def shard_is_verified(
    entry: Mapping[str, Any] | None, fingerprint: str, formats: Iterable[str], run_dir: Path
) -> bool:
    """A recorded shard is reusable when its fingerprint matches and every file checks out."""
    if not entry or entry.get("fingerprint") != fingerprint:
        return False
    files = entry.get("files", {})
    for fmt in [*formats, "quarantine"]:
        info = files.get(fmt)
        path = inside(run_dir, info["path"]) if info else None
        if path is None or sha256_file(path) != info["sha256"]:
            return False
    return True


def stage_table(
    entries: list[dict[str, Any]],
    stages: Iterable[StageSpec],
    seconds: Mapping[str, float],
) -> list[dict[str, Any]]:
    """The manifest's per-stage rows (read first): in, out, quarantined, seconds, and
    `skipped_languages` ({"de": 12}) for stages that passed documents through unannotated
    because of their language. Stages fused into one pass have `fused` (their names) and
    the pass's seconds on the first of them only."""
    read = {"name": "read", "in": 0, "out": 0, "quarantined": 0}
    table: list[dict[str, Any]] = [
        {
            "name": spec.name,
            "params": spec.params,
            "version": spec.version,
            "in": 0,
            "out": 0,
            "quarantined": 0,
            "seconds": round(seconds.get(spec.name, 0.0), 4),
        }
        for spec in stages
    ]
    for entry in entries:
        stats = entry.get("stages", [])
        read["in"] += entry["in"]
        first_in = stats[0]["in"] if stats else entry["out"]
        read["out"] += first_in
        read["quarantined"] += entry["in"] - first_in
        for row, stat in zip(table, stats, strict=False):
            row["in"] += stat["in"]
            row["out"] += stat["out"]
            row["quarantined"] += stat["quarantined"]
            fused = stat.get("fused")
            if fused:  # one spaCy pass ran these stages: its time is on the first one's row
                row["fused"] = fused
            for language, count in stat.get("skipped_languages", {}).items():
                skipped = row.setdefault("skipped_languages", {})
                skipped[language] = skipped.get(language, 0) + count
    return [read, *table]


def write_quarantine(run_dir: Path, paths: Iterable[str]) -> None:
    """Concatenate per-shard quarantine files (relative paths) into `quarantine.jsonl`, atomically."""
    blobs = []
    for rel in paths:
        path = inside(run_dir, rel)
        if path is not None:
            try:
                blobs.append(path.read_bytes())
            except FileNotFoundError:
                continue
    atomic_write(run_dir / "quarantine.jsonl", b"".join(blobs))


def run_timings(
    elapsed: float,
    *,
    read_seconds: float,
    words: int,
    stage_seconds: Mapping[str, float],
    documents: int,
    computed: int,
    reused: int,
) -> dict[str, Any]:
    """The manifest's `timings`: totals, reading and per-stage seconds, throughput, shard counts."""
    return {
        "total_seconds": round(elapsed, 4),
        "read_seconds": round(read_seconds, 4),
        "stage_seconds": {k: round(v, 4) for k, v in stage_seconds.items()},
        "documents_per_second": round(documents / elapsed, 2) if elapsed else None,
        "words_per_second": round(words / elapsed, 2) if elapsed else None,
        "shards_computed": computed,
        "shards_reused": reused,
    }


def quarantine_check(documents: Mapping[str, int], max_quarantined: float) -> dict[str, Any]:
    """The manifest's `quarantine_check`: the quarantined share of the input, the limit, and
    whether the share is above it (then the CLI exits with its own code)."""
    share = documents["quarantined"] / documents["in"] if documents["in"] else 0.0
    return {
        "share": round(share, 4),
        "max_quarantined": max_quarantined,
        "exceeded": share > max_quarantined,
    }
