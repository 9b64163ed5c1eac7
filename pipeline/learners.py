"""Corpus learners (`represent:`): fitted on the processed documents of a run, after the stages.

Each learner reads the run's document shards as a restartable stream (it may make several
passes; the corpus is never loaded as a list), then saves itself and exports its corpus-level
artifacts into `RUN/represent/NAME/`. A learner whose input shards and parameters are
unchanged since the last run is skipped.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from . import registry
from .document import Document
from .store import atomic_write, read_documents

__all__ = ["RunCorpus", "fit_learners"]

logger = logging.getLogger(__name__)


class RunCorpus:
    """A restartable iterable over the documents of a run folder, in corpus order."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)

    def __iter__(self) -> Iterator[Document]:
        return read_documents(self.run_dir)


def fit_learners(
    config: Mapping[str, Any], run_dir: Path, shard_fingerprints: list[str]
) -> dict[str, Any]:
    """Fit, save and export every learner in `config["represent"]`; return per-learner manifest rows."""
    rows: dict[str, Any] = {}
    corpus = RunCorpus(run_dir)
    for name, params in (config.get("represent") or {}).items():
        cls = registry.lookup("represent", name)
        key_blob = orjson.dumps(
            [shard_fingerprints, name, params, getattr(cls, "version", "1")],
            option=orjson.OPT_SORT_KEYS,
        )
        key = hashlib.sha256(key_blob).hexdigest()
        out_dir = run_dir / "represent" / name
        stamp = out_dir / ".fingerprint"
        if stamp.is_file() and stamp.read_text().strip() == key:
            rows[name] = {"path": str(out_dir.relative_to(run_dir)), "reused": True, "seconds": 0.0}
            continue
        t0 = time.perf_counter()
        learner = cls(**params)
        learner.fit(corpus)
        out_dir.mkdir(parents=True, exist_ok=True)
        learner.save(out_dir)
        export = getattr(learner, "export", None)
        if export is not None:
            export(corpus, out_dir)
        atomic_write(stamp, key.encode())
        rows[name] = {
            "path": str(out_dir.relative_to(run_dir)),
            "reused": False,
            "seconds": round(time.perf_counter() - t0, 4),
        }
        logger.info("fitted %s in %.2f s", name, rows[name]["seconds"])
    return rows
