"""On-disk formats of a run folder: document shards (Parquet, JSONL), cache entries, atomic writes.

Every file is written to a temporary name in the same folder and renamed into
place, so a killed run never leaves a half-written file under a final name. The
SHA-256 of each written file is returned so the manifest can verify it later.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from .document import Document
from .paths import inside, published_partition
from .urls import RemotePath, remote_filesystem

__all__ = [
    "atomic_write",
    "sha256_file",
    "write_documents",
    "write_parts",
    "read_documents",
    "read_shard",
    "CacheStore",
    "shard_name",
]

TOKEN_PREFIX = "tokens."
JSON_LAYERS = ("entities", "coref", "vectors", "alignment")


def shard_name(index: int) -> str:
    """File stem of shard `index`: `shard-00042`."""
    return f"shard-{index:05d}"


def atomic_write(path: Path, data: bytes) -> str:
    """Write `data` to `path` via a temp file + rename; return its SHA-256 hex digest."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):  # name the file meant, not the temp file (a full disk)
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path | RemotePath) -> str | None:
    """SHA-256 hex digest of a file, or `None` when it cannot be read.

    A `RemotePath` (a corpus file behind an fsspec URL) is streamed through fsspec.
    """
    digest = hashlib.sha256()
    try:
        with path.open() if isinstance(path, RemotePath) else open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def remove_stale_temps(folder: Path) -> int:
    """Delete temp files left by a killed run; return how many were removed."""
    removed = 0
    if folder.is_dir():
        for tmp in folder.rglob(".*.tmp"):
            try:
                tmp.unlink()
                removed += 1
            except OSError:
                pass
    return removed


# ---------------------------------------------------------------------------------------------
# documents


def _jsonl_bytes(docs: Iterable[Document]) -> bytes:
    return b"".join(orjson.dumps(doc.to_dict()) + b"\n" for doc in docs)


def _parquet_bytes(docs: list[Document]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    dicts = [doc.to_dict() for doc in docs]
    token_columns: list[str] = []
    for d in dicts:
        for name in d.get("tokens", {}):
            if name not in token_columns:
                token_columns.append(name)
    arrays: dict[str, Any] = {
        "id": pa.array([d["id"] for d in dicts], pa.string()),
        "text": pa.array([d["text"] for d in dicts], pa.string()),
        "meta": pa.array([orjson.dumps(d["meta"]).decode() for d in dicts], pa.string()),
        "normalized": pa.array([d.get("normalized") for d in dicts], pa.string()),
        "sentences": pa.array([d.get("sentences") for d in dicts], pa.list_(pa.list_(pa.int64()))),
    }
    for layer in JSON_LAYERS:
        values = [d.get(layer) for d in dicts]
        arrays[layer] = pa.array(
            [None if v is None else orjson.dumps(v).decode() for v in values], pa.string()
        )
    for name in token_columns:
        values = [d["tokens"].get(name) if "tokens" in d else None for d in dicts]
        if name in ("start", "end", "head"):
            arrays[TOKEN_PREFIX + name] = pa.array(values, pa.list_(pa.int64()))
        else:
            arrays[TOKEN_PREFIX + name] = pa.array(values)
    table = pa.table(arrays)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def write_documents(path: Path, docs: list[Document], fmt: str) -> str:
    """Write a shard of documents as `parquet` or `jsonl`; return the file's SHA-256."""
    if fmt == "parquet":
        return atomic_write(path, _parquet_bytes(docs))
    if fmt == "jsonl":
        return atomic_write(path, _jsonl_bytes(docs))
    raise ValueError(f"unknown output format {fmt!r}; expected parquet or jsonl")


def write_parts(
    run_dir: Path, prefix: str, docs: list[Document], formats: list[str]
) -> list[dict[str, Any]]:
    """Write documents as parts of a dataset partitioned by publication date.

    Each group goes to `documents/published=YYYY-MM-DD/PREFIX.FORMAT` (`published=unknown`
    without a valid date). Returns one entry per partition: `stem`, `partition`, `ids`
    and `files` (format -> {"path", "sha256"}).
    """
    groups: dict[str, list[Document]] = {}
    for doc in docs:
        groups.setdefault(published_partition(doc.meta), []).append(doc)
    parts = []
    for partition in sorted(groups):
        group = groups[partition]
        stem = f"documents/published={partition}/{prefix}"
        files = {}
        for fmt in formats:
            rel = f"{stem}.{fmt}"
            path = inside(run_dir, rel)
            if path is None:  # unreachable with a sanitized partition; kept as a guard
                raise ValueError(f"refusing to write {rel!r} outside the run folder {run_dir}")
            files[fmt] = {"path": rel, "sha256": write_documents(path, group, fmt)}
        parts.append(
            {"stem": stem, "partition": partition, "ids": [d.id for d in group], "files": files}
        )
    return parts


def _row_to_dict(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row["id"], "text": row["text"], "meta": orjson.loads(row["meta"])}
    tokens = {
        k[len(TOKEN_PREFIX) :]: v
        for k, v in row.items()
        if k.startswith(TOKEN_PREFIX) and v is not None
    }
    if tokens:
        out["tokens"] = tokens
    if row.get("sentences") is not None:
        out["sentences"] = row["sentences"]
    if row.get("normalized") is not None:
        out["normalized"] = row["normalized"]
    for layer in JSON_LAYERS:
        if row.get(layer) is not None:
            out[layer] = orjson.loads(row[layer])
    return out


def read_shard(path: Path | RemotePath) -> Iterator[Document]:
    """Stream the documents of one Parquet or JSONL shard (a local path or a `RemotePath`)."""
    if isinstance(path, RemotePath):
        with path.open() as stream:
            yield from _shard_documents(stream, path.suffix)
        return
    path = Path(path)
    if path.suffix == ".jsonl":
        with open(path, "rb") as fh:
            yield from _shard_documents(fh, path.suffix)
        return
    yield from _shard_documents(path, path.suffix)


def _shard_documents(source: Any, suffix: str) -> Iterator[Document]:
    """Documents of a shard from an open binary file (either format) or a local Parquet path."""
    if suffix == ".jsonl":
        for line in source:
            if line.strip():
                yield Document.from_dict(orjson.loads(line))
        return
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(source)
    for batch in parquet.iter_batches(batch_size=256):
        for row in batch.to_pylist():
            yield Document.from_dict(_row_to_dict(row))


def read_documents(run_dir: str | Path) -> Iterator[Document]:
    """Stream every document of a run folder: a path, a local fsspec URL, or a published remote run.

    A run folder holds either shards (`documents/shard-*`, read in corpus order) or, for
    incremental runs, a dataset partitioned by publication date whose committed parts
    are listed in `ledger.sqlite` (read in the order they were committed; parts left by
    a killed run are never read). A remote URL (`s3://bucket/runs/news`) is read the same
    way through fsspec, file by file (see `pipeline.remote`).
    """
    from .paths import output_folder

    if isinstance(run_dir, str) and remote_filesystem(run_dir, "run_dir") is not None:
        from .remote import read_published_documents

        yield from read_published_documents(run_dir)
        return
    root = output_folder(run_dir)
    for rel in document_files(root):
        yield from read_shard(root / rel)


# ---------------------------------------------------------------------------------------------
# cache


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


def document_files(run_dir: Path) -> list[str]:
    """The document files of a local run folder, relative to it, in the order `read_documents` reads them.

    Shards (`documents/shard-*`, Parquet when there is any) or, for an incremental dataset,
    the committed parts its ledger lists (paths leaving the folder are left out).
    """
    root = Path(run_dir)
    if (root / "ledger.sqlite").is_file():
        from .ledger import Ledger

        with Ledger.open_readonly(root) as ledger:
            paths = ledger.document_files()
        return [rel for rel in paths if inside(root, rel) is not None]
    folder = root / "documents"
    shards = sorted(folder.glob("shard-*.parquet")) or sorted(folder.glob("shard-*.jsonl"))
    return [shard.relative_to(root).as_posix() for shard in shards]
