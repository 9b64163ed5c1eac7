"""Paths of a run folder: where `output.dir` points, and names derived from data kept inside it.

`output.dir` may be a local path, an fsspec URL whose filesystem is local (`file://...`), or
a remote fsspec URL (`s3://...`): a run then works in a local staging folder that
`pipeline.remote` publishes to the URL. Every file the engine writes, reads back or deletes
lives under the run folder: names made from data (a publication date, an id) are reduced to a
safe form, and paths read from a manifest or ledger are checked with `inside` before they are
touched.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from .urls import local_path, remote_filesystem

__all__ = [
    "STAGING_ENV",
    "UNKNOWN_PARTITION",
    "inside",
    "is_safe_relative",
    "output_folder",
    "published_partition",
    "staging_folder",
]

UNKNOWN_PARTITION = "unknown"
STAGING_ENV = "NLP_PIPELINE_STAGING"
DEFAULT_STAGING_ROOT = Path("~/.cache/nlp-pipeline/staging")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def output_folder(url: str | Path, staging: str | None = None) -> Path:
    """The local folder a run with `output.dir: url` writes: a path, `~/...`, a local fsspec URL.

    For a remote URL (s3://, gs://, ...) this is its staging folder (see `staging_folder`).
    Raises `ConfigError` naming `output.dir` for an unknown protocol or a backend package that
    is not installed (s3fs, gcsfs, ...).
    """
    text = str(url)
    if remote_filesystem(text, "output.dir") is not None:
        return staging_folder(text, staging)
    return local_path(text)


def staging_folder(url: str, staging: str | None = None) -> Path:
    """Where a run publishing to the remote `url` works: `staging` when given, else
    `$NLP_PIPELINE_STAGING` (default `~/.cache/nlp-pipeline/staging`) / the first 16 hex
    digits of the URL's SHA-256, so each URL has its own folder."""
    if staging:
        return Path(staging).expanduser()
    root = Path(os.environ.get(STAGING_ENV) or DEFAULT_STAGING_ROOT).expanduser()
    return root / hashlib.sha256(url.rstrip("/").encode("utf-8")).hexdigest()[:16]


def is_safe_relative(relative: str | Path) -> bool:
    """Whether `relative` is a relative path without `..`: joined to a folder, it stays inside by name."""
    candidate = Path(relative)
    return not candidate.is_absolute() and ".." not in candidate.parts


def inside(root: Path, relative: str | Path) -> Path | None:
    """`root / relative` when that path stays inside `root`, else None (`..`, absolute paths)."""
    if not is_safe_relative(relative):
        return None
    path = root / relative
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
