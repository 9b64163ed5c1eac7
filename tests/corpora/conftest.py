"""Fixtures for the corpus reader tests: the shared real feeds and small helpers."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

import corpora  # noqa: F401 - registers the readers
from pipeline.document import Document, Rejected

SAMPLES = Path(corpora.__file__).parent / "samples"


@pytest.fixture(scope="session")
def shared_feeds(shared_data: Path) -> Path:
    """`shared/data/feeds` (real and malformed feeds); tests using it skip when it is absent."""
    feeds = shared_data / "feeds"
    if not feeds.is_dir():
        pytest.skip(f"shared feed data not found at {feeds}")
    return feeds


def _split(items: Iterable[Document | Rejected]) -> tuple[list[Document], list[Rejected]]:
    docs: list[Document] = []
    rejected: list[Rejected] = []
    for item in items:
        if isinstance(item, Document):
            docs.append(item)
        elif isinstance(item, Rejected):
            rejected.append(item)
        else:
            raise AssertionError(f"reader yielded {type(item).__name__}, not Document or Rejected")
    return docs, rejected


@pytest.fixture(scope="session")
def split():
    """Separate a reader's output into (documents, rejections), failing on anything else."""
    return _split


@pytest.fixture(scope="session")
def samples() -> Path:
    """The hand-written sample files shipped in `corpora/samples`."""
    return SAMPLES
