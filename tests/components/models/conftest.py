"""Fixtures for the classification-task tests: real labelled text and small real runs.

AG News rows come from the shared data (tests using them skip when it is absent);
gensim's 200 `mini_newsgroup` posts (reader `newsgroups-mini`, two classes) are always
there. Runs go through the engine (`pipeline.runner.run`) with the regex tokenizer.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline import Pipeline
from pipeline.config import resolve_config
from pipeline.runner import RunResult, run

STAGES = [{"tokenize": {"backend": "regex"}}]
AG_NEWS = "classification/ag_news_test_first_half.csv"
AG_CORPUS = {"reader": "csv", "text_column": ["title", "description"], "label_column": "label"}


@pytest.fixture
def torch_one_thread():
    """Torch trains on one thread (the suite shares two cores)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def ag_rows(shared_data) -> list[dict[str, str]]:
    """The AG News rows of the shared data (label 1-4, title, description)."""
    with (shared_data / AG_NEWS).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write_ag_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    """Write AG News rows as a CSV file the `csv` reader takes."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["label", "title", "description"])
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def ag_csv(tmp_path_factory, ag_rows) -> Path:
    """The first 800 AG News rows as a CSV file."""
    return write_ag_csv(tmp_path_factory.mktemp("ag") / "ag800.csv", ag_rows[:800])


@pytest.fixture(scope="session")
def newsgroups_docs() -> list[Any]:
    """gensim's 200 mini_newsgroup posts (alt.atheism / sci.space), tokenized."""
    from corpora.newsgroups import MiniNewsgroupsReader

    return list(Pipeline.from_config({"stages": STAGES}).pipe(MiniNewsgroupsReader().read()))


def run_config(out: Path, corpus: dict[str, Any], tasks: dict[str, Any]) -> dict[str, Any]:
    """A resolved config: `corpus`, the regex tokenizer, `tasks`, output into `out`."""
    return resolve_config(
        {
            "name": "classify",
            "corpus": corpus,
            "stages": STAGES,
            "tasks": tasks,
            "execution": {"shard_size": 250},
            "output": {"dir": str(out)},
        }
    )


@pytest.fixture(scope="session")
def run_tasks() -> Callable[..., RunResult]:
    """`run_tasks(out, corpus, tasks)`: a real run of `tasks` over `corpus`."""

    def run_tasks(out: Path, corpus: dict[str, Any], tasks: dict[str, Any]) -> RunResult:
        return run(run_config(out, corpus, tasks))

    return run_tasks


@pytest.fixture(scope="session")
def newsgroups_run(tmp_path_factory, run_tasks) -> RunResult:
    """A run over the 200 newsgroup posts fitting a `logreg` task named `topic`, with
    3-fold cross-validation."""
    out = tmp_path_factory.mktemp("newsgroups") / "run"
    return run_tasks(
        out, {"reader": "newsgroups-mini"}, {"topic": {"model": "logreg", "cv": {"folds": 3}}}
    )


@pytest.fixture(scope="session")
def ag_run(tmp_path_factory, run_tasks, ag_csv) -> RunResult:
    """A run over 800 AG News rows fitting a `logreg` task named `category`."""
    out = tmp_path_factory.mktemp("ag-run") / "run"
    return run_tasks(out, {**AG_CORPUS, "path": str(ag_csv)}, {"category": {"model": "logreg"}})
