"""Helpers of the training-core and neural-classifier tests: real AG News text, one torch thread.

Import the fixtures into a test module (`from tests.components.models.training_fixtures
import ...`); the AG News ones skip when the shared data is absent.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

AG_NEWS = "classification/ag_news_test_first_half.csv"


def words(text: str) -> list[str]:
    """Lowercase word tokens (letters, digits, apostrophes) of a text."""
    return re.findall(r"[a-z0-9']+", text.lower())


def read_ag_news(shared: Path, classes: tuple[str, ...] = ("1", "4")) -> tuple[list, list]:
    """(token lists, labels) of the AG News rows of `classes`, in file order (title + description)."""
    texts, labels = [], []
    with open(shared / AG_NEWS, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["label"] in classes:
                texts.append(words(f"{row['title']} {row['description']}"))
                labels.append(row["label"])
    return texts, labels


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Torch trains on one thread in these tests (the suite shares two cores)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def world_vs_scitech(shared_data):
    """AG News World (1) vs Sci/Tech (4): 800 training and 200 test documents, tokenized."""
    texts, labels = read_ag_news(shared_data)
    return (texts[:800], labels[:800]), (texts[800:1000], labels[800:1000])
