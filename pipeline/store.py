"""Reading a run's results: the documents of a run folder, local or published to a URL.

`read_documents` is the one entry point for users (and for the corpus learners): it reads
shards in corpus order or, for an incremental dataset, the committed parts its ledger lists.
It reads only a run whose manifest says `complete` (for an incremental dataset: whose last
run completed), unless asked for a partial read.
Writing lives in `pipeline.files` (atomic writes), `pipeline.shard_files` (document formats)
and `pipeline.stage_cache` (the per-stage cache).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from .document import Document
from .manifest import load_manifest
from .paths import output_folder
from .remote import read_published_documents
from .shard_files import document_files, read_shard
from .urls import remote_filesystem

__all__ = ["IncompleteRunError", "read_documents"]


class IncompleteRunError(RuntimeError):
    """`read_documents` on a run folder whose run did not complete (failed, interrupted,
    stopped, still running, or no manifest); one line naming the status and what to do."""

    def __init__(self, where: str | Path, status: str | None, reason: str | None = None):
        self.status = status
        state = f"status {status!r}" if status else "no readable manifest.json"
        why = f" ({reason})" if reason else ""
        super().__init__(
            f"{where}: the run did not complete ({state}{why}); run it again to complete it, "
            "or pass allow_partial=True to read the documents it wrote so far"
        )


def read_documents(run_dir: str | Path, *, allow_partial: bool = False) -> Iterator[Document]:
    """Stream every document of a run folder: a path, a local fsspec URL, or a published remote run.

    A run folder holds either shards (`documents/shard-*`, read in corpus order) or, for
    incremental runs, a dataset partitioned by publication date whose committed parts
    are listed in `ledger.sqlite` (read in the order they were committed; parts left by
    a killed run are never read). A remote URL (`s3://bucket/runs/news`) is read the same
    way through fsspec, file by file (see `pipeline.remote`). Raises `IncompleteRunError`
    at once when the manifest's status is not `complete`, unless `allow_partial`.
    """
    if isinstance(run_dir, str) and remote_filesystem(run_dir, "run_dir") is not None:
        if not allow_partial:
            _check_complete(run_dir, _remote_manifest(run_dir))
        return read_published_documents(run_dir)
    root = output_folder(run_dir)
    if not allow_partial:
        _check_complete(root, load_manifest(root / "manifest.json"))
    return _read_local(root)


def _read_local(root: Path) -> Iterator[Document]:
    for rel in document_files(root):
        yield from read_shard(root / rel)


def _check_complete(where: str | Path, manifest: dict | None) -> None:
    if manifest is None:
        raise IncompleteRunError(where, None)
    status = manifest.get("status")
    if status != "complete":
        raise IncompleteRunError(where, str(status), manifest.get("reason"))


def _remote_manifest(url: str) -> dict | None:
    found = remote_filesystem(url, "run_dir")
    assert found is not None
    filesystem, root = found
    try:
        manifest = orjson.loads(filesystem.cat_file(f"{root.rstrip('/')}/manifest.json"))
    except (OSError, orjson.JSONDecodeError):
        return None
    return manifest if isinstance(manifest, dict) else None
