"""Reading a run's results: the documents of a run folder, local or published to a URL.

`read_documents` is the one entry point for users (and for the corpus learners): it reads
shards in corpus order or, for an incremental dataset, the committed parts its ledger lists.
Writing lives in `pipeline.files` (atomic writes), `pipeline.shard_files` (document formats)
and `pipeline.stage_cache` (the per-stage cache).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .document import Document
from .paths import output_folder
from .remote import read_published_documents
from .shard_files import document_files, read_shard
from .urls import remote_filesystem

__all__ = ["read_documents"]


def read_documents(run_dir: str | Path) -> Iterator[Document]:
    """Stream every document of a run folder: a path, a local fsspec URL, or a published remote run.

    A run folder holds either shards (`documents/shard-*`, read in corpus order) or, for
    incremental runs, a dataset partitioned by publication date whose committed parts
    are listed in `ledger.sqlite` (read in the order they were committed; parts left by
    a killed run are never read). A remote URL (`s3://bucket/runs/news`) is read the same
    way through fsspec, file by file (see `pipeline.remote`).
    """
    if isinstance(run_dir, str) and remote_filesystem(run_dir, "run_dir") is not None:
        yield from read_published_documents(run_dir)
        return
    root = output_folder(run_dir)
    for rel in document_files(root):
        yield from read_shard(root / rel)
