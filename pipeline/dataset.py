"""Upkeep of an incremental dataset: commits, leftovers of killed runs, damaged parts, late sources.

Works on the part files under `documents/published=*/` and `quarantine/` and on the
ledger (`pipeline.ledger`) that says which of them are committed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import sha256_file
from .ledger import Ledger
from .paths import inside, is_safe_relative
from .shard_files import read_shard, write_documents
from .shards import PartitionedShardResult

__all__ = ["NewItem", "collect_garbage", "commit_shard", "rewrite_parts", "verify_parts"]

logger = logging.getLogger(__name__)


def collect_garbage(run_dir: Path, ledger: Ledger) -> int:
    """Delete part files no commit lists (left by a killed run); return how many."""
    committed = ledger.committed_paths()
    removed = 0
    for folder in ("documents", "quarantine"):
        for path in (run_dir / folder).rglob("part-*"):
            if path.is_file() and path.relative_to(run_dir).as_posix() not in committed:
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def file_stat(path: Path) -> dict[str, int | None]:
    """`size` and `mtime_ns` of a part file as recorded at commit (None when it cannot be read).

    The link itself is looked at, never its target: a part replaced by a symbolic link
    does not match its recorded stat, so it is checked in full.
    """
    try:
        stat = os.lstat(path)
    except OSError:
        return {"size": None, "mtime_ns": None}
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _stat_inside(run_dir: Path, relative: str) -> dict[str, int | None]:
    path = inside(run_dir, relative)
    return file_stat(path) if path is not None else {"size": None, "mtime_ns": None}


def verify_parts(run_dir: Path, ledger: Ledger) -> list[dict[str, Any]]:
    """Check the committed parts; forget damaged ones (their items are processed again).

    A part whose size and modification time are those recorded at its commit is taken
    as intact; any other is hashed and compared with its recorded SHA-256. So a run
    costs a `stat` per part, not a read of the whole dataset, and a part written to
    (truncated, patched, replaced) since its commit is always hashed.
    """
    damaged: dict[str, int] = {}
    for part in ledger.all_parts():
        if part["stem"] in damaged:
            continue
        relative = Path(part["path"])
        if not is_safe_relative(relative):
            damaged[part["stem"]] = 0
            continue
        recorded = {"size": part["size"], "mtime_ns": part["mtime_ns"]}
        current = file_stat(run_dir / relative)
        if recorded["size"] is not None and current == recorded:
            continue
        path = inside(run_dir, relative)  # resolves links: only for the parts read in full
        if path is None or sha256_file(path) != part["sha256"]:
            damaged[part["stem"]] = 0
        elif current["size"] is not None and current["mtime_ns"] is not None:
            # intact (a copied folder, a restored backup, an older ledger): trust this stat from now on
            ledger.record_part_stat(part["path"], current["size"], current["mtime_ns"])
    report = []
    for stem in damaged:
        files = [p["path"] for p in ledger.all_parts() if p["stem"] == stem]
        documents = ledger.forget_part(stem)
        for rel in files:
            path = inside(run_dir, rel)
            if path is not None:
                path.unlink(missing_ok=True)
        logger.warning(
            "%s failed its checksum: its %d items will be processed again when their input is read",
            stem,
            documents,
        )
        report.append({"stem": stem, "documents": documents})
    return report


def rewrite_parts(run_dir: Path, ledger: Ledger, run: int, counter: Iterator[int]) -> int:
    """Rewrite each part holding a document seen in a further source (its `meta["sources"]`
    updated) or a version superseded by an edit (dropped); return how many parts changed.

    A part left with no document is deleted.
    """
    ledger.settle_orphan_sources()
    rewritten = 0
    for stem in sorted({*ledger.stems_with_new_sources(), *ledger.stale_stems()}):
        files = {f["format"]: f for f in ledger.part_files(stem)}
        source_file = files.get("parquet") or files.get("jsonl")
        path = inside(run_dir, source_file["path"]) if source_file else None
        if source_file is None or path is None:
            ledger.drop_part(stem)  # forgotten as damaged: nothing left to rewrite
            continue
        stale = ledger.stale_keys(stem)
        docs = [doc for doc in read_shard(path) if doc.id not in stale]
        if not docs:
            ledger.drop_part(stem)
            _delete_files(run_dir, files.values())
            rewritten += 1
            continue
        sources = ledger.sources_of([d.id for d in docs])
        for doc in docs:
            doc.meta["sources"] = sources.get(doc.id, doc.meta.get("sources", []))
        base, partition = source_file["base"], source_file["partition"]
        new_stem = f"{stem.rsplit('/', 1)[0]}/{base}-r{run:06d}-{next(counter)}"
        new_parts = []
        for fmt in files:
            rel = f"{new_stem}.{fmt}"
            target = inside(run_dir, rel)
            if target is None:
                continue
            new_parts.append(
                {
                    "path": rel,
                    "stem": new_stem,
                    "base": base,
                    "partition": partition,
                    "format": fmt,
                    "sha256": write_documents(target, docs, fmt),
                    "documents": len(docs),
                    **file_stat(target),
                }
            )
        ledger.replace_part(run, stem, new_parts)
        _delete_files(run_dir, files.values())
        rewritten += 1
    return rewritten


def _delete_files(run_dir: Path, files: Iterable[Mapping[str, Any]]) -> None:
    for info in files:
        old = inside(run_dir, info["path"])
        if old is not None:
            old.unlink(missing_ok=True)


@dataclass(frozen=True)
class NewItem:
    """An item an incremental run processes: its ledger key, whether it is a document, a hash
    of its content and its `published` date (for a document), and whether it is an edited
    version of a document an earlier run committed."""

    key: str
    is_document: bool
    content: str | None = None
    published: str | None = None
    updated: bool = False


def commit_shard(
    run_dir: Path,
    ledger: Ledger,
    run: int,
    result: PartitionedShardResult,
    items: list[NewItem],
    sources: Mapping[str, str],
) -> tuple[int, int]:
    """Commit a finished shard's parts and keys; return (documents added, documents updated).

    An edited document that a stage quarantined leaves its earlier version in place.
    """
    prefix = result.prefix
    stem_of: dict[str, str] = {}
    parts: list[dict[str, Any]] = []
    for part in result.parts:
        for doc_id in part.ids:
            stem_of[doc_id] = part.stem
        for fmt, info in part.files.items():
            parts.append(
                {
                    "path": info["path"],
                    "stem": part.stem,
                    "base": prefix,
                    "partition": part.partition,
                    "format": fmt,
                    "sha256": info["sha256"],
                    "documents": len(part.ids),
                    **_stat_inside(run_dir, info["path"]),
                }
            )
    quarantine = result.files.get("quarantine")
    if quarantine:
        parts.append(
            {
                "path": quarantine["path"],
                "stem": quarantine["path"].rsplit(".", 1)[0],
                "base": prefix,
                "partition": "",
                "format": "quarantine",
                "sha256": quarantine["sha256"],
                "documents": result.quarantined,
                **_stat_inside(run_dir, quarantine["path"]),
            }
        )
    seen = []
    updated = []
    source_rows = []
    for item in items:
        stem = stem_of.get(item.key) if item.is_document else None
        if item.updated:
            if stem:
                updated.append((item.key, stem, item.content))
        else:
            kind = "doc" if stem else "quarantined"
            seen.append((item.key, kind, stem, item.content, item.published))
        if stem and sources.get(item.key):
            source_rows.append((item.key, sources[item.key], 1))
    ledger.commit_shard(run, seen, parts, source_rows, updated)
    return len(stem_of) - len(updated), len(updated)
