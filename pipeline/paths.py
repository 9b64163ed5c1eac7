"""Paths of a run folder: where `output.dir` points, and names derived from data kept inside it.

`output.dir` may be a local path or an fsspec URL whose filesystem is local (`file://...`).
Every file the engine writes, reads back or deletes lives under the run folder: names made
from data (a publication date, an id) are reduced to a safe form, and paths read from a
manifest or ledger are checked with `inside` before they are touched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from .config import ConfigError

__all__ = ["UNKNOWN_PARTITION", "inside", "output_folder", "published_partition"]

UNKNOWN_PARTITION = "unknown"
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def output_folder(url: str | Path) -> Path:
    """The local folder named by `output.dir`: a path, `~/...`, or a local fsspec URL.

    Raises `ConfigError` for a URL on a remote filesystem (s3://, gs://, ...): the run
    folder needs atomic renames and a lock file, which object stores do not offer.
    """
    text = str(url)
    if "://" not in text:
        return Path(text).expanduser()
    import fsspec
    from fsspec.core import split_protocol
    from fsspec.implementations.local import LocalFileSystem

    protocol, _ = split_protocol(text)
    try:
        filesystem = fsspec.get_filesystem_class(protocol)
    except (ImportError, ValueError):  # s3fs/gcsfs not installed, unknown protocol
        filesystem = None
    if filesystem is None or not issubclass(filesystem, LocalFileSystem):
        raise ConfigError(
            f"output.dir: {text!r} is on a remote filesystem ({protocol}); runs write to a "
            "local folder (atomic renames, a lock file): run locally, then copy the folder "
            "(e.g. `aws s3 sync RUN s3://bucket/RUN`), from where Dask, Spark or DuckDB read its Parquet"
        )
    return Path(filesystem._strip_protocol(text))


def inside(root: Path, relative: str | Path) -> Path | None:
    """`root / relative` when that path stays inside `root`, else None (`..`, absolute paths)."""
    candidate = Path(relative)
    if candidate.is_absolute() or ".." in candidate.parts:
        return None
    path = root / candidate
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:  # a symbolic link leading out of the run folder
        return None
    return path


def published_partition(meta: Mapping[str, Any]) -> str:
    """The `published=` partition of a document: `YYYY-MM-DD` of `meta["published"]`, else 'unknown'.

    Only a real calendar date is used, so a value such as `../../etc` or `2024-99-99`
    can never become part of a path.
    """
    value = meta.get("published")
    if isinstance(value, str):
        match = _ISO_DATE.match(value.strip())
        if match:
            try:
                return date(*(int(g) for g in match.groups())).isoformat()
            except ValueError:
                pass
    return UNKNOWN_PARTITION
