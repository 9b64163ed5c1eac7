"""Shared fixtures: real text from gensim's bundled Lee news corpus and the shared test data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get("NLP_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.fixture(scope="session")
def lee_texts() -> list[str]:
    """The 300 ABC news articles of gensim's `lee_background.cor`, one string each."""
    from gensim.test.utils import datapath

    with open(datapath("lee_background.cor"), encoding="utf-8", errors="strict") as fh:
        return [line.strip() for line in fh if line.strip()]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real test data folder; tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA} (set NLP_SHARED_DATA)")
    return SHARED_DATA
