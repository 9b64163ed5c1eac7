"""What every benchmark script shares: the test corpus, corpus files, timing, the machine's load.

Scripts run as `python benchmarks/bench_X.py`; each puts the repository root on
`sys.path` before importing this module as `benchmarks.common`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import orjson

__all__ = ["ROOT", "SHARED", "lee_texts", "load", "timed", "write_corpus"]

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NLP_SHARED_DATA", ROOT.parent / "shared" / "data"))


def lee_texts() -> list[str]:
    """gensim's 300 Lee background news articles (installed with gensim), one string each."""
    from gensim.test.utils import datapath

    with open(datapath("lee_background.cor"), encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip()]


def write_corpus(path: Path, copies: int) -> Path:
    """A JSONL corpus of `copies` × the Lee articles, streamed to disk (each copy has distinct ids)."""
    texts = lee_texts()
    with open(path, "wb") as fh:
        for c in range(copies):
            for i, text in enumerate(texts):
                fh.write(orjson.dumps({"id": f"{c}-{i}", "text": text}) + b"\n")
    return path


def load() -> str:
    """The machine's load averages, printed next to each figure: on a shared machine they matter."""
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} cores"


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """(seconds, value) of one call of `fn`."""
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value
