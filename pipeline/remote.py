"""Runs published to a remote fsspec URL: a local staging folder, pulled before and published after.

A run folder needs atomic renames (every file is written under a temporary name and renamed
into place) and a lock file; object stores offer neither. So a run with `output.dir:
s3://bucket/runs/news` works in a local staging folder (`output.staging`, see
`pipeline.paths.staging_folder`), and `RemoteRun` keeps that folder and the URL in step:

- `pull`, before the run: when the URL holds a published run that this staging folder has not
  published or downloaded itself (a fresh machine, or a run published from elsewhere since),
  the staging folder is made a copy of it, so the run resumes from there: finished shards are
  reused, an incremental ledger goes on.
- `publish`, after a run that ended (complete or stopped): every file changed since the last
  publish is uploaded (`.published.json` in the staging folder records path -> sha256, size and
  mtime of what the URL holds), `ledger.sqlite` after the parts it lists and `manifest.json`
  last, so whoever sees a manifest or a ledger finds the files it lists; files the run folder no
  longer holds (stale shards, rewritten parts) are deleted after that.

`cache/`, hidden files (the lock, temp files, the index) and symbolic links are never
published. Only the staging folder is locked: two machines publishing to the same URL at the
same time are not protected from each other.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .document import Document
from .files import atomic_write, file_mode, sha256_file
from .ledger import Ledger
from .paths import inside, is_safe_relative
from .shard_files import read_shard
from .urls import RemotePath, remote_filesystem

__all__ = ["PublishError", "RemoteRun", "read_published_documents", "remote_run"]

logger = logging.getLogger(__name__)

INDEX_NAME = ".published.json"
MANIFEST_NAME = "manifest.json"
LEDGER_NAME = "ledger.sqlite"
UNPUBLISHED_FOLDERS = frozenset(
    {"cache"}
)  # per-stage cache: large, and rebuilt where it is missing
_CHUNK = 1 << 20


class PublishError(RuntimeError):
    """Downloading or publishing a remote run failed (network, permissions); one line, the run is kept."""


def remote_run(url: str, staging: Path) -> RemoteRun | None:
    """The `RemoteRun` for `output.dir: url` worked on in `staging`; None when `url` is local.

    Raises `ConfigError` naming `output.dir` for an unknown protocol or a missing backend.
    """
    found = remote_filesystem(url, "output.dir")
    if found is None:
        return None
    filesystem, root = found
    return RemoteRun(url=url, staging=staging, filesystem=filesystem, root=root.rstrip("/"))


@dataclass
class RemoteRun:
    """A run folder published at `url` (`root` on the fsspec `filesystem`), staged in `staging`.

    The caller holds the staging folder's lock while it calls `pull`, runs, and `publish`es.
    """

    url: str
    staging: Path
    filesystem: Any
    root: str

    def pull(self) -> int:
        """Copy the published run into the staging folder unless this folder published or fetched it.

        Returns how many files were downloaded (0 when the URL holds no run or the staging
        folder is up to date with it). Files the published run lacks are deleted from the
        staging folder (the cache is kept: it is keyed by content). Raises `PublishError`.
        """
        try:
            self.filesystem.invalidate_cache(self.root)
            published = self._remote_manifest_sha()
            if published is None or published in self._known_manifests():
                return 0
            logger.info("downloading the run published at %s into %s", self.url, self.staging)
            (self.staging / MANIFEST_NAME).unlink(missing_ok=True)  # no half-old, half-new run
            remote = self._remote_files()
            for rel, path in self._local_files().items():
                if rel not in remote:
                    path.unlink()
            index: dict[str, dict[str, Any]] = {}
            for rel in sorted(remote, key=_publish_order):
                target = inside(self.staging, rel)
                if target is not None:
                    index[rel] = self._download(rel, target)
        except OSError as exc:
            raise PublishError(
                f"cannot download the run published at {self.url} into {self.staging}: "
                f"{exc.strerror or exc}; check the URL and credentials, then run again"
            ) from None
        self._save_index(index)
        return len(index)

    def publish(self, manifest: dict[str, Any]) -> dict[str, int]:
        """Upload what changed since the last publish, `manifest.json` last, then delete stale files.

        Adds `output_url` to the staging folder's manifest (and to `manifest`) first. Returns
        counts: uploaded, unchanged, deleted. Raises `PublishError`; the staging folder keeps
        the run, and the next run publishes it.
        """
        manifest["output_url"] = self.url
        manifest_path = self.staging / MANIFEST_NAME
        if manifest_path.is_file():
            written = orjson.loads(manifest_path.read_bytes())
            written["output_url"] = self.url
            atomic_write(manifest_path, orjson.dumps(written, option=orjson.OPT_INDENT_2))
        index = self._load_index()
        local = self._local_files()
        counts = {"uploaded": 0, "unchanged": 0, "deleted": 0}
        try:
            self.filesystem.invalidate_cache(self.root)
            remote = self._remote_files()
            for rel in sorted(local, key=_publish_order):
                if rel in remote and self._is_published(local[rel], index.get(rel), remote[rel]):
                    counts["unchanged"] += 1
                    continue
                entry = _local_entry(local[rel])
                self.filesystem.put_file(str(local[rel]), self._remote_path(rel))
                index[rel] = entry  # recorded once the URL holds it
                counts["uploaded"] += 1
            for rel in [r for r in index if r not in local]:
                if rel in remote and is_safe_relative(rel):
                    self.filesystem.rm_file(self._remote_path(rel))
                    counts["deleted"] += 1
                del index[rel]
        except OSError as exc:
            raise PublishError(
                f"cannot publish {self.staging} to {self.url}: {exc.strerror or exc}; the run is "
                "kept there: fix the URL or credentials, then run again to publish it"
            ) from None
        finally:
            self._save_index(index)
        logger.info("published %s to %s: %s", self.staging, self.url, counts)
        return counts

    # -- the two sides ---------------------------------------------------------------------

    def _remote_path(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    def _remote_files(self) -> dict[str, int | None]:
        """Relative path -> size of every publishable file under the URL."""
        prefix = self.root + "/"
        files: dict[str, int | None] = {}
        for name, info in self.filesystem.find(self.root, detail=True).items():
            if info.get("type") == "directory" or not name.startswith(prefix):
                continue
            rel = name[len(prefix) :]
            if _is_publishable(rel):
                files[rel] = info.get("size")
        return files

    def _remote_manifest_sha(self) -> str | None:
        try:
            data = self.filesystem.cat_file(self._remote_path(MANIFEST_NAME))
        except FileNotFoundError:
            return None
        return hashlib.sha256(data).hexdigest()

    def _known_manifests(self) -> set[str | None]:
        """SHA-256 of the manifests this staging folder published or fetched, and of its own."""
        recorded = self._load_index().get(MANIFEST_NAME, {}).get("sha256")
        return {recorded, sha256_file(self.staging / MANIFEST_NAME)} - {None}

    def _local_files(self) -> dict[str, Path]:
        """Relative path -> path of every publishable file of the staging folder."""
        files: dict[str, Path] = {}
        for folder, dirnames, filenames in os.walk(self.staging):  # symlinked folders not entered
            here = Path(folder)
            base = here.relative_to(self.staging).as_posix()
            dirnames[:] = sorted(
                d
                for d in dirnames
                if _is_publishable(d if base == "." else f"{base}/{d}", folder=True)
            )
            for name in filenames:
                rel = name if base == "." else f"{base}/{name}"
                if _is_publishable(rel) and not (here / name).is_symlink():
                    files[rel] = here / name
        return files

    def _download(self, rel: str, target: Path) -> dict[str, Any]:
        """Copy one remote file to `target` (temp file + rename); return its index entry."""
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.fchmod(fd, file_mode())  # the process umask, not mkstemp's 0600
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as sink, self.filesystem.open(self._remote_path(rel)) as src:
                for chunk in iter(lambda: src.read(_CHUNK), b""):
                    digest.update(chunk)
                    sink.write(chunk)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        stat = target.stat()
        return {"sha256": digest.hexdigest(), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}

    def _is_published(
        self, path: Path, entry: dict[str, Any] | None, remote_size: int | None
    ) -> bool:
        """Whether the URL holds this file as it is now (by stat, else by hash; remote size checked)."""
        if entry is None:
            return False
        stat = path.stat()
        if remote_size is not None and remote_size != stat.st_size:
            return False
        if entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
            return True
        if sha256_file(path) != entry.get("sha256"):
            return False
        entry["mtime_ns"] = stat.st_mtime_ns  # rewritten with the same content: trust this stat
        return True

    def _load_index(self) -> dict[str, dict[str, Any]]:
        try:
            index = orjson.loads((self.staging / INDEX_NAME).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        return index if isinstance(index, dict) else {}

    def _save_index(self, index: dict[str, dict[str, Any]]) -> None:
        data = orjson.dumps(index, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
        atomic_write(self.staging / INDEX_NAME, data)


def _local_entry(path: Path) -> dict[str, Any]:
    stat = path.stat()
    return {"sha256": sha256_file(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _is_publishable(rel: str, *, folder: bool = False) -> bool:
    """Whether a path of the run folder is published: not hidden, not under `cache/`."""
    parts = rel.split("/")
    if any(part.startswith(".") for part in parts):
        return False
    return not (parts[0] in UNPUBLISHED_FOLDERS and (folder or len(parts) > 1))


def _publish_order(rel: str) -> tuple[int, str]:
    """Data files first, then the ledger that lists parts, then the manifest that lists shards."""
    return ({LEDGER_NAME: 1, MANIFEST_NAME: 2}.get(rel, 0), rel)


def read_published_documents(url: str) -> Iterator[Document]:
    """Stream the documents of a run published at a remote `url`, as `store.read_documents` does locally.

    Shards (`documents/shard-*`) are read in corpus order; for an incremental dataset the
    ledger is downloaded to a temporary file to list the committed parts, which are then read
    from the URL. Files are streamed one at a time through fsspec.
    """
    found = remote_filesystem(url, "run_dir")
    if found is None:
        raise ValueError(f"{url!r} is not a remote URL; use pipeline.store.read_documents")
    filesystem, root = found
    root = root.rstrip("/")
    filesystem.invalidate_cache(root)
    if filesystem.exists(f"{root}/{LEDGER_NAME}"):
        relatives = _committed_parts(filesystem, f"{root}/{LEDGER_NAME}")
    else:
        folder = f"{root}/documents"
        names = filesystem.glob(f"{folder}/shard-*.parquet") or filesystem.glob(
            f"{folder}/shard-*.jsonl"
        )
        relatives = [name[len(root) + 1 :] for name in sorted(names)]
    base = RemotePath(url)
    for rel in relatives:
        if is_safe_relative(rel):
            yield from read_shard(base / rel)


def _committed_parts(filesystem: Any, ledger_path: str) -> list[str]:
    """The committed document parts a remote ledger lists, in commit order."""
    with tempfile.TemporaryDirectory(prefix="nlp-ledger-") as tmp:
        filesystem.get_file(ledger_path, os.path.join(tmp, LEDGER_NAME))
        with Ledger.open_readonly(Path(tmp)) as ledger:
            return ledger.document_files()
