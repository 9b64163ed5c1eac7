"""Shared fixtures: real text from gensim's bundled Lee news corpus and the shared test data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get("NLP_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than there are cores. Many tests wait on a process they
    started (`nlp run`, a killed run, a server) while it computes; the extra worker keeps the
    cores busy meanwhile (on 2 cores: 7 min 48 s with 3 workers against 9 min 37 s with 2)."""
    return (os.cpu_count() or 1) + 1


@pytest.fixture(scope="session")
def lee_texts() -> list[str]:
    """The 300 ABC news articles of gensim's `lee_background.cor`, one string each."""
    from gensim.test.utils import datapath

    with open(datapath("lee_background.cor"), encoding="utf-8", errors="strict") as fh:
        return [line.strip() for line in fh if line.strip()]


@pytest.fixture(scope="session")
def lee_lines_file(tmp_path_factory, lee_texts) -> Path:
    """The Lee articles 12 times over, one per line with a distinct prefix (3,600 lines): a run
    over it with the `text` reader in line mode lasts long enough to be killed part way."""
    path = tmp_path_factory.mktemp("lee-lines") / "corpus.txt"
    with path.open("w", encoding="utf-8") as fh:
        for copy in range(12):
            for i, text in enumerate(lee_texts):
                fh.write(f"[{copy}-{i}] {text}\n")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real test data folder; tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA} (set NLP_SHARED_DATA)")
    return SHARED_DATA


def _write_rss(path: Path, items: list[tuple[str, str, str | None]]) -> Path:
    """An RSS 2.0 file; each item is (guid, text, RFC 822 date or None)."""
    from xml.sax.saxutils import escape

    body = "".join(
        f"<item><title>{escape(text[:70])}</title><guid>{guid}</guid>"
        + (f"<pubDate>{date}</pubDate>" if date else "")
        + f"<description>{escape(text)}</description></item>"
        for guid, text, date in items
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{path.stem}</title>'
        f"{body}</channel></rss>",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="session")
def write_feed():
    """`write_feed(path, [(guid, text, RFC 822 date or None), ...])` writes an RSS 2.0 file."""
    return _write_rss
