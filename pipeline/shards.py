"""Shards: the corpus stream cut into fixed-size pieces, hashed, and processed stage by stage.

`make_shards` runs in the main process: it checks each item (empty, oversized,
invalid Unicode go to quarantine) and groups items into `ShardTask`s carrying
plain dicts. `process_shard` runs wherever the executor puts it (this process,
a spawned worker, a Dask worker): it rebuilds the stages from their specs (names and parameters),
resumes from the longest cached stage prefix, sets each document's `meta["language"]`
(`pipeline.language`), runs the rest with per-document error isolation (counting, per
stage and language, the documents a stage skipped for their language) and writes the
shard's files atomically.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from . import registry
from .document import Document, Rejected
from .files import atomic_write
from .language import set_languages, skipped_languages
from .pipeline import build_stage
from .plan import Step, plan_stages
from .settings import RunSettings, StageSpec, stage_fingerprints
from .shard_files import DatasetPart, shard_name, write_documents, write_parts
from .stage import Stage, StageError
from .stage_cache import CacheStore

__all__ = [
    "ShardTask",
    "ShardResult",
    "PartitionedShardResult",
    "ReadTimer",
    "make_shards",
    "timed_shards",
    "process_shard",
    "stage_fingerprints",
]


@dataclass
class ShardTask:
    """Everything a worker needs to process one shard; plain data, cheap to pickle.

    Workers rebuild the stages from `stages` (registry names and parameters), never from
    pickled stage objects.
    """

    index: int
    items: list[tuple[str, dict[str, Any]]]  # ("doc", document dict) | ("rejected", record)
    input_hash: str
    fingerprints: list[str]  # one per stage: fingerprint after that stage
    stages: tuple[StageSpec, ...]
    run_dir: str
    cache: bool
    formats: tuple[str, ...]
    batch_size: int
    part_prefix: str | None = None  # incremental runs: write partitioned parts with this name

    @classmethod
    def for_run(
        cls,
        settings: RunSettings,
        shard: tuple[int, list[tuple[str, dict[str, Any]]], str],
        *,
        cache: bool,
        part_prefix: str | None = None,
    ) -> ShardTask:
        """The task for one `(index, items, input_hash)` shard of a run with `settings`."""
        index, items, input_hash = shard
        return cls(
            index=index,
            items=items,
            input_hash=input_hash,
            fingerprints=stage_fingerprints(input_hash, settings.stages),
            stages=settings.stages,
            run_dir=str(settings.output.run_dir),
            cache=cache,
            formats=settings.output.formats,
            batch_size=settings.execution.batch_size,
            part_prefix=part_prefix,
        )

    @property
    def fingerprint(self) -> str:
        """The fingerprint of the shard's final output."""
        return self.fingerprints[-1] if self.fingerprints else self.input_hash


@dataclass
class ShardResult:
    """What processing one shard produced: counts, per-stage stats, written files."""

    index: int
    fingerprint: str
    input_hash: str
    documents_in: int
    documents_out: int
    quarantined: int
    words: int
    stages: list[dict[str, Any]]  # per stage: in, out, quarantined, seconds
    files: dict[str, dict[str, str]]  # format -> {"path", "sha256"}; "quarantine" too
    cached_stages: int = 0
    seconds: float = 0.0
    reused: bool = False

    def to_manifest(self) -> dict[str, Any]:
        """The shard's manifest entry."""
        return {
            "index": self.index,
            "input_hash": self.input_hash,
            "fingerprint": self.fingerprint,
            "in": self.documents_in,
            "out": self.documents_out,
            "quarantined": self.quarantined,
            "words": self.words,
            "stages": self.stages,
            "files": self.files,
        }

    @classmethod
    def from_manifest(cls, entry: Mapping[str, Any]) -> ShardResult:
        """Rebuild a result from a manifest entry (for shards reused from an earlier run)."""
        return cls(
            index=entry["index"],
            fingerprint=entry["fingerprint"],
            input_hash=entry["input_hash"],
            documents_in=entry["in"],
            documents_out=entry["out"],
            quarantined=entry["quarantined"],
            words=entry.get("words", 0),
            stages=entry.get("stages", []),
            files=entry["files"],
            reused=True,
        )


@dataclass
class PartitionedShardResult(ShardResult):
    """A shard of an incremental run: its documents went to date-partitioned dataset parts
    named `prefix` (`files` then holds only its quarantine file, when it has one)."""

    prefix: str = ""
    parts: list[DatasetPart] = field(default_factory=list)

    def to_manifest(self) -> dict[str, Any]:
        """The shard's manifest entry, with the stems of the parts it wrote."""
        return {**super().to_manifest(), "parts": [part.stem for part in self.parts]}


# ---------------------------------------------------------------------------------------------
# main process: cutting the stream


@dataclass
class ReadTimer:
    """Seconds the main process spent reading and checking the corpus."""

    read_seconds: float = 0.0


def check_item(
    item: Document | Rejected, position: int, max_chars: int
) -> tuple[str, dict[str, Any], bytes]:
    """Turn a reader item into ("doc" | "rejected", dict, canonical bytes), quarantining bad documents."""
    if isinstance(item, Rejected):
        record = item.to_dict()
        record["stage"] = "read"
        return "rejected", record, orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    source = item.meta.get("source", "")
    reason = None
    if not item.text or not item.text.strip():
        reason = "empty document"
    elif len(item.text) > max_chars:
        reason = f"oversized document: {len(item.text):,} characters > limit {max_chars:,} (corpus.max_chars)"
    if reason is None:
        data = item.to_dict()
        try:
            blob = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        except (orjson.JSONEncodeError, TypeError) as exc:
            reason = f"document cannot be serialized (invalid Unicode or metadata): {exc}"
        else:
            return "doc", data, blob
    excerpt = item.text[:80].encode("utf-8", "replace").decode("utf-8")
    record = Rejected(
        str(source), item.meta.get("position", position), reason, item.id, excerpt
    ).to_dict()
    record["stage"] = "read"
    return "rejected", record, orjson.dumps(record, option=orjson.OPT_SORT_KEYS, default=str)


def timed_shards(
    items: Iterable[Document | Rejected],
    settings: RunSettings,
    *,
    limit: int | None,
    timer: ReadTimer,
) -> Iterator[tuple[int, list[tuple[str, dict[str, Any]]], str]]:
    """`make_shards` with the run's shard size and corpus limits, adding the seconds spent
    reading (and checking) each shard to `timer`."""
    shards = make_shards(
        items,
        shard_size=settings.execution.shard_size,
        max_chars=settings.corpus.max_chars,
        limit=limit,
        engine_key=settings.corpus.engine_key,
    )
    while True:
        t0 = time.perf_counter()
        shard = next(shards, None)
        timer.read_seconds += time.perf_counter() - t0
        if shard is None:
            return
        yield shard


def make_shards(
    items: Iterable[Document | Rejected],
    *,
    shard_size: int,
    max_chars: int,
    limit: int | None,
    engine_key: str,
) -> Iterator[tuple[int, list[tuple[str, dict[str, Any]]], str]]:
    """Yield `(index, items, input_hash)` for consecutive shards of the stream."""
    batch: list[tuple[str, dict[str, Any]]] = []
    digest = hashlib.sha256(engine_key.encode())
    index = 0
    for position, item in enumerate(items):
        if limit is not None and position >= limit:
            break
        kind, data, blob = check_item(item, position, max_chars)
        batch.append((kind, data))
        digest.update(blob)
        digest.update(b"\n")
        if len(batch) >= shard_size:
            yield index, batch, digest.hexdigest()
            index += 1
            batch = []
            digest = hashlib.sha256(engine_key.encode())
    if batch:
        yield index, batch, digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# worker side: processing one shard

_STEPS: dict[str, list[Step]] = {}


def _steps_for(stages: tuple[StageSpec, ...]) -> list[Step]:
    """Build (once per process) the planned steps of a run's stages."""
    blob = orjson.dumps([[s.name, s.params] for s in stages], option=orjson.OPT_SORT_KEYS)
    key = hashlib.sha256(blob).hexdigest()
    steps = _STEPS.get(key)
    if steps is None:
        registry.load_plugins()
        steps = plan_stages([build_stage(spec.name, spec.params) for spec in stages])
        _STEPS.clear()
        _STEPS[key] = steps
    return steps


def _quarantine_record(doc: Document, stage: str, exc: BaseException) -> dict[str, Any]:
    message = str(exc).splitlines()[0] if str(exc) else ""
    return {
        "source": str(doc.meta.get("source", "")),
        "position": doc.meta.get("position"),
        "reason": f"stage {stage!r} failed: {type(exc).__name__}: {message}"[:500],
        "id": doc.id,
        "excerpt": doc.text[:80],
        "stage": stage,
    }


def run_stage(
    stage: Stage, docs: list[Document], batch_size: int
) -> tuple[list[Document], list[dict[str, Any]]]:
    """Run one stage over a shard; a document that makes it fail is quarantined, the rest go on.

    `StageError` (the stage cannot run at all: missing model, bad resource) is not a
    document problem and propagates.
    """
    try:
        return list(stage.pipe(docs, batch_size=batch_size)), []
    except StageError:
        raise
    except Exception:  # noqa: BLE001 - isolate the failing document below
        pass
    kept: list[Document] = []
    quarantined: list[dict[str, Any]] = []
    for doc in docs:
        try:
            kept.extend(stage.pipe([doc], batch_size=1))
        except StageError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bad document must not stop the batch
            quarantined.append(_quarantine_record(doc, stage.name, exc))
    return kept, quarantined


def process_shard(task: ShardTask) -> ShardResult:
    """Process one shard: resume from the cache, run the remaining stages, write the outputs."""
    started = time.perf_counter()
    run_dir = Path(task.run_dir)
    steps = _steps_for(task.stages)
    n_stages = sum(len(step.indices) for step in steps)
    names = [spec.name for spec in task.stages]
    cache = CacheStore(run_dir / "cache") if task.cache else None

    start = 0
    docs: list[Document] = []
    quarantined: list[dict[str, Any]] = []
    stats: list[dict[str, Any]] = []
    if cache is not None:
        for k in range(n_stages, 0, -1):
            entry = cache.load(task.fingerprints[k - 1])
            if entry is not None:
                docs = [Document.from_dict(d) for d in entry["docs"]]
                quarantined = list(entry["quarantined"])
                stats = [{**s, "cached": True, "seconds": 0.0} for s in entry["stats"]]
                start = k
                break
    if start == 0:
        for kind, data in task.items:
            if kind == "doc":
                docs.append(Document.from_dict(data))
            else:
                quarantined.append(data)
    # every document carries its language, whatever stages run: the English-model stages
    # pass the others through, and users filter on it (a no-op for cached documents)
    set_languages(docs)

    for step in steps:
        if step.indices[-1] < start:
            continue  # restored from the cache
        t0 = time.perf_counter()
        n_in = len(docs)
        docs, failed = run_stage(step.stage, docs, task.batch_size)
        quarantined.extend(failed)
        elapsed = time.perf_counter() - t0
        for position, k in enumerate(step.indices):
            first = position == 0
            stat = {
                "name": names[k],
                "in": n_in if first else len(docs),
                "out": len(docs),
                "quarantined": len(failed) if first else 0,
                "seconds": elapsed if first else 0.0,  # a fused step's time, counted once
            }
            if len(step.indices) > 1:
                stat["fused"] = [names[i] for i in step.indices]
            skipped = skipped_languages(docs, names[k])
            if skipped:
                stat["skipped_languages"] = skipped
            stats.append(stat)
        if cache is not None:
            cache.save(task.fingerprints[step.indices[-1]], docs, quarantined, stats)

    files: dict[str, dict[str, str]] = {}
    parts: list[DatasetPart] = []
    if task.part_prefix is not None:
        stem = task.part_prefix
        parts = write_parts(run_dir, stem, docs, task.formats)
    else:
        stem = shard_name(task.index)
        for fmt in task.formats:
            rel = f"documents/{stem}.{fmt}"
            files[fmt] = {"path": rel, "sha256": write_documents(run_dir / rel, docs, fmt)}
    if quarantined or task.part_prefix is None:  # incremental parts: no empty files
        rel = f"quarantine/{stem}.jsonl"
        blob = b"".join(orjson.dumps(r, default=str) + b"\n" for r in quarantined)
        files["quarantine"] = {"path": rel, "sha256": atomic_write(run_dir / rel, blob)}

    result = ShardResult(
        index=task.index,
        fingerprint=task.fingerprint,
        input_hash=task.input_hash,
        documents_in=len(task.items),
        documents_out=len(docs),
        quarantined=len(quarantined),
        words=sum(doc.words for doc in docs),
        stages=stats,
        files=files,
        cached_stages=start,
        seconds=time.perf_counter() - started,
    )
    if task.part_prefix is None:
        return result
    return PartitionedShardResult(**vars(result), prefix=task.part_prefix, parts=parts)
