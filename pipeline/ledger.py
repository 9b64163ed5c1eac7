"""The ledger of an incremental dataset: what was seen, where it was written, what is committed.

`RUN/ledger.sqlite` (SQLite, one transaction per commit) holds:

- `seen`: every item key processed so far (a document id, or a key for a rejected item),
  whether it was written (`doc`) or quarantined, the part holding the document, a hash of
  its content and its first version's `published` date (so an edited story is noticed,
  replaces its stale version and keeps its first date);
- `stale`: document versions superseded by an edited one, still to be dropped from their
  part (kept in the same transaction as the edit's commit, so a killed run finishes it);
- `parts`: the committed part files (documents by partition, quarantine) with SHA-256,
  size and modification time (a part whose size and time are unchanged is not re-hashed);
- `sources`: every source (feed file) each document was seen in, in order; rows not yet
  reflected in the document's part are `applied = 0`;
- `files`: content hashes of input files whose items were all committed by a finished run,
  with how many items each held (so a run that skips an unchanged file still counts them);
- `runs`: one row per run.

Part files are written first and committed afterwards in one transaction, so a killed
run leaves at most uncommitted files, which the next run deletes before it starts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["Ledger", "LEDGER_NAME"]

LEDGER_NAME = "ledger.sqlite"
SCHEMA_VERSION = "3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS info(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs(
    run INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL,
    stages TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen(
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, stem TEXT, run INTEGER NOT NULL,
    content TEXT, published TEXT);
CREATE TABLE IF NOT EXISTS stale(key TEXT NOT NULL, stem TEXT NOT NULL, PRIMARY KEY(key, stem));
CREATE INDEX IF NOT EXISTS seen_stem ON seen(stem);
CREATE TABLE IF NOT EXISTS parts(
    path TEXT PRIMARY KEY, stem TEXT NOT NULL, base TEXT NOT NULL, partition TEXT NOT NULL,
    format TEXT NOT NULL, sha256 TEXT NOT NULL, documents INTEGER NOT NULL, run INTEGER NOT NULL,
    size INTEGER, mtime_ns INTEGER);
CREATE INDEX IF NOT EXISTS parts_stem ON parts(stem);
CREATE TABLE IF NOT EXISTS sources(
    key TEXT NOT NULL, source TEXT NOT NULL, applied INTEGER NOT NULL, PRIMARY KEY(key, source));
CREATE TABLE IF NOT EXISTS files(
    path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, run INTEGER NOT NULL, items INTEGER);
"""

_CHUNK = 500


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _upgrade(connection: sqlite3.Connection, schema: str) -> None:
    """Bring a schema 1 or 2 ledger to the current schema in one transaction.

    Schema 1 kept no item counts (its file rows cannot be skipped); schema 2 kept no content
    hashes, so its documents are never taken for edited ones (an edit needs a hash to differ).
    """
    added = [("seen", "content", "TEXT"), ("seen", "published", "TEXT")]
    if schema == "1":
        added += [("files", "items", "INTEGER"), ("parts", "size", "INTEGER")]
        added += [("parts", "mtime_ns", "INTEGER")]
    with connection:
        connection.execute("BEGIN IMMEDIATE")
        for table, column, kind in added:
            columns = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
            if column not in columns:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        connection.execute("UPDATE info SET value = ? WHERE key = 'schema'", (SCHEMA_VERSION,))


class Ledger:
    """Read and commit the ledger of one run folder. Use as a context manager."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    @classmethod
    def open(cls, run_dir: Path) -> Ledger:
        """Open (creating when absent) the ledger of `run_dir` for writing."""
        connection = sqlite3.connect(run_dir / LEDGER_NAME, isolation_level=None)
        try:
            connection.execute("PRAGMA synchronous = FULL")
            connection.executescript(_SCHEMA)
            connection.execute(
                "INSERT OR IGNORE INTO info(key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,)
            )
            row = connection.execute("SELECT value FROM info WHERE key = 'schema'").fetchone()
            if row[0] in ("1", "2"):
                _upgrade(connection, row[0])
                row = (SCHEMA_VERSION,)
        except BaseException:
            connection.close()
            raise
        if row[0] != SCHEMA_VERSION:
            connection.close()
            raise sqlite3.DatabaseError(
                f"ledger schema {row[0]}, this version reads {SCHEMA_VERSION}"
            )
        return cls(connection)

    @classmethod
    def open_readonly(cls, run_dir: Path) -> Ledger:
        """Open an existing ledger for reading only."""
        uri = (run_dir / LEDGER_NAME).resolve().as_uri() + "?mode=ro"
        return cls(sqlite3.connect(uri, uri=True))

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql, args).fetchall()

    # -- runs ----------------------------------------------------------------------------------

    def begin_run(self, started: str, stages: str) -> int:
        """Record a new run and return its number (1, 2, ...)."""
        with self.connection:
            cursor = self.connection.execute(
                "INSERT INTO runs(started, status, stages) VALUES (?, 'running', ?)",
                (started, stages),
            )
        return int(cursor.lastrowid or 0)

    def stage_configs(self) -> list[str]:
        """The distinct stage configurations of earlier runs that wrote documents, oldest first."""
        rows = self._query(
            "SELECT stages FROM runs WHERE run IN (SELECT DISTINCT run FROM parts) ORDER BY run"
        )
        return list(dict.fromkeys(r[0] for r in rows))

    def finish_run(self, run: int, finished: str, files: Iterable[tuple[str, str, int]]) -> None:
        """Mark a run complete; record each input file it read in full as (path, sha256, items)."""
        with self.connection:
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.executemany(
                "INSERT OR REPLACE INTO files(path, sha256, run, items) VALUES (?, ?, ?, ?)",
                [(path, sha, run, items) for path, sha, items in files],
            )
            self.connection.execute(
                "UPDATE runs SET finished = ?, status = 'complete' WHERE run = ?", (finished, run)
            )

    # -- what was seen -------------------------------------------------------------------------

    def seen_item(self, key: str) -> tuple[str, str | None, str | None] | None:
        """`(kind, content hash, first published date)` of a committed key, else None."""
        row = self._query("SELECT kind, content, published FROM seen WHERE key = ?", (key,))
        return (row[0][0], row[0][1], row[0][2]) if row else None

    def has_source(self, key: str, source: str) -> bool:
        """Whether `source` is already recorded for `key`."""
        return bool(
            self._query("SELECT 1 FROM sources WHERE key = ? AND source = ?", (key, source))
        )

    def read_file(self, path: str) -> tuple[str, int] | None:
        """(sha256, items) of an input file a finished run read in full, or None when unknown."""
        row = self._query("SELECT sha256, items FROM files WHERE path = ?", (path,))
        if not row or row[0][1] is None:
            return None
        return row[0][0], row[0][1]

    # -- commits -------------------------------------------------------------------------------

    def commit_shard(
        self,
        run: int,
        seen: Iterable[tuple[str, str, str | None, str | None, str | None]],
        parts: Iterable[dict[str, Any]],
        sources: Iterable[tuple[str, str, int]],
        updated: Iterable[tuple[str, str, str | None]] = (),
    ) -> None:
        """Commit one processed shard atomically: its part files, seen keys and sources.

        `seen`: (key, kind, stem, content hash, published) of new keys; `parts`: dicts with
        path, stem, base, partition, format, sha256, documents and optionally size, mtime_ns;
        `sources`: (key, source, applied); `updated`: (key, new stem, content hash) of edited
        documents written to this shard's parts: the key moves to its new part, and its
        earlier version becomes stale (dropped from its part by `pipeline.dataset.rewrite_parts`).
        """
        with self.connection:
            self.connection.execute("BEGIN IMMEDIATE")
            self._insert_parts(run, parts)
            self.connection.executemany(
                "INSERT OR IGNORE INTO seen(key, kind, stem, run, content, published)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(key, kind, stem, run, content, date) for key, kind, stem, content, date in seen],
            )
            for key, new_stem, content in updated:
                self.connection.execute(
                    "INSERT OR IGNORE INTO stale(key, stem)"
                    " SELECT key, stem FROM seen WHERE key = ? AND stem IS NOT NULL",
                    (key,),
                )
                self.connection.execute(
                    "UPDATE seen SET stem = ?, content = ?, run = ? WHERE key = ?",
                    (new_stem, content, run, key),
                )
            self.connection.executemany(
                "INSERT OR IGNORE INTO sources(key, source, applied) VALUES (?, ?, ?)", sources
            )

    def add_sources(self, rows: Iterable[tuple[str, str]]) -> None:
        """Record further sources of documents (applied to their parts later)."""
        with self.connection:
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.executemany(
                "INSERT OR IGNORE INTO sources(key, source, applied) VALUES (?, ?, 0)", rows
            )

    def _insert_parts(self, run: int, parts: Iterable[dict[str, Any]]) -> None:
        self.connection.executemany(
            "INSERT OR REPLACE INTO parts"
            "(path, stem, base, partition, format, sha256, documents, run, size, mtime_ns) VALUES"
            " (:path, :stem, :base, :partition, :format, :sha256, :documents, :run, :size, :mtime_ns)",
            [{"size": None, "mtime_ns": None, **part, "run": run} for part in parts],
        )

    def record_part_stat(self, path: str, size: int, mtime_ns: int) -> None:
        """Record the size and time of a committed part whose content was checked against its hash."""
        with self.connection:
            self.connection.execute(
                "UPDATE parts SET size = ?, mtime_ns = ? WHERE path = ?", (size, mtime_ns, path)
            )

    # -- sources not yet in their parts --------------------------------------------------------

    def stems_with_new_sources(self) -> list[str]:
        """Document parts (stems) holding a document with a source not yet written into it."""
        rows = self._query(
            "SELECT DISTINCT seen.stem FROM sources JOIN seen ON seen.key = sources.key"
            " WHERE sources.applied = 0 AND seen.kind = 'doc' ORDER BY seen.stem"
        )
        return [r[0] for r in rows]

    def settle_orphan_sources(self) -> None:
        """Mark sources of quarantined items applied: there is no part to write them into."""
        with self.connection:
            self.connection.execute(
                "UPDATE sources SET applied = 1 WHERE applied = 0 AND key IN"
                " (SELECT key FROM seen WHERE kind = 'quarantined')"
            )

    def sources_of(self, keys: Sequence[str]) -> dict[str, list[str]]:
        """Every recorded source of each key, in the order they were first seen."""
        out: dict[str, list[str]] = {}
        for chunk in _chunks(list(keys)):
            marks = ",".join("?" * len(chunk))
            for key, source in self._query(
                f"SELECT key, source FROM sources WHERE key IN ({marks}) ORDER BY rowid", chunk
            ):
                out.setdefault(key, []).append(source)
        return out

    def part_files(self, stem: str) -> list[dict[str, Any]]:
        """The committed files of one part stem."""
        rows = self._query(
            "SELECT path, stem, base, partition, format, sha256, documents FROM parts WHERE stem = ?"
            " ORDER BY format",
            (stem,),
        )
        names = ("path", "stem", "base", "partition", "format", "sha256", "documents")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def replace_part(self, run: int, old_stem: str, new_parts: list[dict[str, Any]]) -> None:
        """Swap a part for its rewrite in one transaction; its documents' sources become applied."""
        new_stem = new_parts[0]["stem"]
        with self.connection:
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.execute("DELETE FROM parts WHERE stem = ?", (old_stem,))
            self._insert_parts(run, new_parts)
            self.connection.execute(
                "UPDATE sources SET applied = 1 WHERE key IN (SELECT key FROM seen WHERE stem = ?)",
                (old_stem,),
            )
            self.connection.execute("UPDATE seen SET stem = ? WHERE stem = ?", (new_stem, old_stem))
            self.connection.execute("DELETE FROM stale WHERE stem = ?", (old_stem,))

    def drop_part(self, stem: str) -> None:
        """Forget a part whose every document was superseded (its files are deleted by the caller)."""
        with self.connection:
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.execute("DELETE FROM parts WHERE stem = ?", (stem,))
            self.connection.execute("DELETE FROM stale WHERE stem = ?", (stem,))

    def stale_stems(self) -> list[str]:
        """Parts holding a document version superseded by an edit."""
        return [r[0] for r in self._query("SELECT DISTINCT stem FROM stale ORDER BY stem")]

    def stale_keys(self, stem: str) -> set[str]:
        """Keys whose version in part `stem` was superseded by an edit."""
        return {r[0] for r in self._query("SELECT key FROM stale WHERE stem = ?", (stem,))}

    def forget_part(self, stem: str) -> int:
        """Drop a damaged part: its documents count as unseen again (processed anew when read).

        Returns how many documents it held. Input-file hashes are dropped too, so the files
        holding those documents are read again.
        """
        with self.connection:
            self.connection.execute("BEGIN IMMEDIATE")
            keys = [r[0] for r in self._query("SELECT key FROM seen WHERE stem = ?", (stem,))]
            for chunk in _chunks(keys):
                marks = ",".join("?" * len(chunk))
                self.connection.execute(
                    f"UPDATE sources SET applied = 0 WHERE key IN ({marks})", chunk
                )
            self.connection.execute("DELETE FROM seen WHERE stem = ?", (stem,))
            self.connection.execute("DELETE FROM parts WHERE stem = ?", (stem,))
            self.connection.execute("DELETE FROM files")
        return len(keys)

    # -- listings ------------------------------------------------------------------------------

    def all_parts(self) -> list[dict[str, Any]]:
        """Every committed part file (documents and quarantine): path, stem, format, sha256, size, mtime_ns."""
        names = ("path", "stem", "format", "sha256", "size", "mtime_ns")
        rows = self._query(f"SELECT {', '.join(names)} FROM parts ORDER BY base, path")
        return [dict(zip(names, r, strict=True)) for r in rows]

    def committed_paths(self) -> set[str]:
        """Paths (relative to the run folder) of every committed part file."""
        return {r[0] for r in self._query("SELECT path FROM parts")}

    def document_files(self) -> list[str]:
        """Committed document parts of one format (Parquet when there is any), in commit order."""
        formats = {r[0] for r in self._query("SELECT DISTINCT format FROM parts")}
        fmt = "parquet" if "parquet" in formats else "jsonl"
        rows = self._query(
            "SELECT path FROM parts WHERE format = ? ORDER BY base, partition", (fmt,)
        )
        return [r[0] for r in rows]

    def quarantine_files(self) -> list[str]:
        """Committed quarantine files, in commit order."""
        rows = self._query("SELECT path FROM parts WHERE format = 'quarantine' ORDER BY base")
        return [r[0] for r in rows]

    def part_hashes(self) -> list[str]:
        """SHA-256 of every committed document part, in commit order (a fingerprint of the dataset)."""
        return [
            r[0]
            for r in self._query(
                "SELECT sha256 FROM parts WHERE format != 'quarantine' ORDER BY base, partition, format"
            )
        ]

    def totals(self) -> dict[str, int]:
        """Dataset-wide counts: documents, quarantined items, parts, runs."""
        kinds = dict(self._query("SELECT kind, COUNT(*) FROM seen GROUP BY kind"))
        return {
            "documents": int(kinds.get("doc", 0)),
            "quarantined": int(kinds.get("quarantined", 0)),
            "parts": int(
                self._query("SELECT COUNT(DISTINCT stem) FROM parts WHERE format != 'quarantine'")[
                    0
                ][0]
            ),
            "runs": int(self._query("SELECT COUNT(*) FROM runs")[0][0]),
        }
