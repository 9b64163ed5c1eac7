"""Document files of a run folder: shards (Parquet, JSONL) and date-partitioned parts.

Writers return each file's SHA-256 for the manifest or the ledger; readers stream the
documents of one file at a time, local or behind an fsspec URL.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .document import Document
from .files import atomic_write
from .ledger import Ledger
from .paths import inside, published_partition
from .urls import RemotePath

__all__ = [
    "DatasetPart",
    "shard_name",
    "write_documents",
    "write_parts",
    "read_shard",
    "document_files",
]

TOKEN_PREFIX = "tokens."
TOKEN_TEXT = TOKEN_PREFIX + "text"
INT_TOKEN_COLUMNS = ("start", "end", "head")


def shard_name(index: int) -> str:
    """File stem of shard `index`: `shard-00042`."""
    return f"shard-{index:05d}"


def _jsonl_bytes(docs: Iterable[Document]) -> bytes:
    return b"".join(orjson.dumps(doc.to_dict()) + b"\n" for doc in docs)


def _layer_types() -> dict[str, Any]:
    """Arrow types of the span layers: nested lists and structs that DuckDB and pandas reach."""
    import pyarrow as pa

    span = pa.struct([("start", pa.int64()), ("end", pa.int64())])
    return {
        "sentences": pa.list_(pa.list_(pa.int64())),  # [start, end] per sentence
        "entities": pa.list_(
            pa.struct([("start", pa.int64()), ("end", pa.int64()), ("label", pa.string())])
        ),
        "coref": pa.list_(pa.list_(span)),  # clusters of mentions
        "alignment": pa.list_(pa.list_(pa.int64())),  # (norm_start, norm_end, orig_start, orig_end)
        "vectors": pa.map_(pa.string(), pa.list_(pa.float64())),
    }


def _nested_layers(d: dict[str, Any]) -> dict[str, Any]:
    """A document dict's span layers in the shapes of `_layer_types` (None when absent)."""
    entities = d.get("entities")
    coref = d.get("coref")
    vectors = d.get("vectors")
    return {
        "sentences": d.get("sentences"),
        "entities": None
        if entities is None
        else [{"start": s, "end": e, "label": label} for s, e, label in entities],
        "coref": None
        if coref is None
        else [[{"start": s, "end": e} for s, e in cluster] for cluster in coref],
        "alignment": d.get("alignment"),
        "vectors": None if vectors is None else list(vectors.items()),
    }


def _parquet_bytes(docs: list[Document]) -> bytes:
    """One Parquet file: a row per document, token attributes as `tokens.*` list columns.

    Span layers are nested types (`entities`: list<struct<start, end, label>>, and so on),
    so SQL and pandas reach them without parsing; `meta` stays a JSON string (its keys
    differ from reader to reader). `tokens.text` holds each token's text, sliced from the
    document's text, for readers that want strings without slicing: dictionary encoding
    makes it cheap, and `read_shard` ignores it (token text is always derived).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    dicts = [doc.to_dict() for doc in docs]
    token_columns: list[str] = []
    for d in dicts:
        for name in d.get("tokens", {}):
            if name not in token_columns:
                token_columns.append(name)
    layers = [_nested_layers(d) for d in dicts]
    arrays: dict[str, Any] = {
        "id": pa.array([d["id"] for d in dicts], pa.string()),
        "text": pa.array([d["text"] for d in dicts], pa.string()),
        "meta": pa.array([orjson.dumps(d["meta"]).decode() for d in dicts], pa.string()),
        "normalized": pa.array([d.get("normalized") for d in dicts], pa.string()),
    }
    for layer, arrow_type in _layer_types().items():
        arrays[layer] = pa.array([values[layer] for values in layers], arrow_type)
    if token_columns:
        arrays[TOKEN_TEXT] = pa.array(
            [None if doc.tokens is None else doc.tokens.text for doc in docs],
            pa.list_(pa.string()),
        )
    for name in token_columns:
        values = [d["tokens"].get(name) if "tokens" in d else None for d in dicts]
        if name in INT_TOKEN_COLUMNS:
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


@dataclass(frozen=True)
class DatasetPart:
    """One shard's documents of one publication date, written as a part of an incremental dataset.

    `stem` is the part's path without suffix (`documents/published=2024-05-01/part-000003-00000`),
    `ids` its documents' ids in order, `files` format -> {"path", "sha256"}.
    """

    stem: str
    partition: str
    ids: list[str]
    files: dict[str, dict[str, str]]


def write_parts(
    run_dir: Path, prefix: str, docs: list[Document], formats: Iterable[str]
) -> list[DatasetPart]:
    """Write documents as parts of a dataset partitioned by publication date.

    Each group goes to `documents/published=YYYY-MM-DD/PREFIX.FORMAT` (`published=unknown`
    without a valid date); one `DatasetPart` per partition, in partition order.
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
        parts.append(DatasetPart(stem, partition, [d.id for d in group], files))
    return parts


def _row_to_dict(row: dict[str, Any]) -> dict[str, Any]:
    """A Parquet row back to `Document.to_dict()` form (also reads the JSON-string layers
    of files written before the layers were nested)."""
    out: dict[str, Any] = {"id": row["id"], "text": row["text"], "meta": orjson.loads(row["meta"])}
    tokens = {
        k[len(TOKEN_PREFIX) :]: v
        for k, v in row.items()
        if k.startswith(TOKEN_PREFIX) and k != TOKEN_TEXT and v is not None
    }
    if tokens:
        out["tokens"] = tokens
    if row.get("sentences") is not None:
        out["sentences"] = row["sentences"]
    if row.get("normalized") is not None:
        out["normalized"] = row["normalized"]
    layers = {
        name: orjson.loads(value) if isinstance(value, str) else value
        for name in ("entities", "coref", "alignment", "vectors")
        if (value := row.get(name)) is not None
    }
    if "entities" in layers:
        out["entities"] = [
            [e["start"], e["end"], e["label"]] if isinstance(e, dict) else e
            for e in layers["entities"]
        ]
    if "alignment" in layers:
        out["alignment"] = layers["alignment"]
    if "coref" in layers:
        out["coref"] = [
            [[m["start"], m["end"]] if isinstance(m, dict) else m for m in cluster]
            for cluster in layers["coref"]
        ]
    if "vectors" in layers:
        out["vectors"] = dict(layers["vectors"])
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


def document_files(run_dir: Path) -> list[str]:
    """The document files of a local run folder, relative to it, in the order `read_documents` reads them.

    Shards (`documents/shard-*`, Parquet when there is any) or, for an incremental dataset,
    the committed parts its ledger lists (paths leaving the folder are left out).
    """
    root = Path(run_dir)
    if (root / "ledger.sqlite").is_file():
        with Ledger.open_readonly(root) as ledger:
            paths = ledger.document_files()
        return [rel for rel in paths if inside(root, rel) is not None]
    folder = root / "documents"
    shards = sorted(folder.glob("shard-*.parquet")) or sorted(folder.glob("shard-*.jsonl"))
    return [shard.relative_to(root).as_posix() for shard in shards]
