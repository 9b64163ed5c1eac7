"""The stage cache: each shard's documents after every stage prefix, keyed by fingerprint.

A fingerprint chains the input shard's content hash with each stage's registry name,
resolved parameters and version (`pipeline.shards.stage_fingerprints`), so a re-run with a
changed stage resumes from the longest unchanged prefix (decision 3).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson

from .document import Document
from .files import atomic_write

__all__ = ["CacheStore"]


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
