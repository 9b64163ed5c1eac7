"""Tuning a task (`search:`): optuna studies whose trials fit the task on a run's documents.

The run holds 300 real AG News articles (`../shared/data`, skipped when absent) behind a
regex tokenizer; the task is the logistic-regression classifier, each trial scored by its
3-fold cross-validation. The search is called as the engine calls it (`OptunaSearch(...)
.search(...)`), on the run folder, so each test can stop, resume and compare searches.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from components.ml.search import OptunaSearch
from pipeline.config import ConfigError, resolve_config
from pipeline.executors import ProcessExecutor, SerialExecutor
from pipeline.runner import run
from pipeline.tasks import task_component

AG_NEWS = "classification/ag_news_test_first_half.csv"
DOCUMENTS = 150


def _raw_config(shared: Path, out: Path, **task: Any) -> dict[str, Any]:
    return {
        "name": "search",
        "corpus": {
            "reader": "csv",
            "path": str(shared / AG_NEWS),
            "text_column": ["title", "description"],
            "label_column": "label",
            "limit": DOCUMENTS,
        },
        "stages": [{"tokenize": {"backend": "regex"}}],
        "tasks": {"category": {"model": "logreg", "label": "label", **task}} if task else {},
        "execution": {"workers": 2},
        "output": {"dir": str(out)},
    }


@pytest.fixture(scope="module")
def ag_run(shared_data, tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    """A run folder of 300 tokenized AG News articles (no task), and its resolved config."""
    out = tmp_path_factory.mktemp("search-run") / "run"
    config = resolve_config(_raw_config(shared_data, out))
    run(config)
    return out, config


def _search(
    ag_run: tuple[Path, dict[str, Any]],
    name: str,
    search: dict[str, Any],
    executor: Any = None,
    callbacks: tuple[Any, ...] = (),
    **task: Any,
) -> tuple[OptunaSearch, dict[str, Any]]:
    """Resolve `search` as the config does, then run it as the engine does."""
    run_dir, config = ag_run
    entry = resolve_config(
        {**_raw_config(Path("/"), run_dir, search=search, **task), "corpus": config["corpus"]}
    )["tasks"]["category"]
    component, params = task_component(entry)
    tuner = OptunaSearch(**entry["search"])
    with executor or SerialExecutor() as running:
        best = tuner.search(
            name=name,
            component=component,
            params=params,
            run_dir=run_dir,
            languages=None,
            config=config,
            executor=running,
            inputs=["ag-news-300"],
            callbacks=callbacks,
        )
    return tuner, best


def _trials(run_dir: Path, name: str) -> list[dict[str, str]]:
    with (run_dir / "tasks" / name / "search" / "trials.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_random_and_tpe_searches_stay_in_their_ranges_and_are_seeded(ag_run):
    space = {"C": {"log_uniform": [0.01, 1.0]}, "min_df": {"int": [1, 3]}}
    for method in ("random", "tpe"):
        tuner, best = _search(ag_run, method, {"method": method, "trials": 2, "space": space})
        rows = _trials(ag_run[0], method)
        assert [r["state"] for r in rows] == ["complete"] * 2
        assert all(0.01 <= float(r["C"]) <= 1.0 and r["min_df"] in "123" for r in rows)
        assert len({r["C"] for r in rows}) == 2  # two different draws
        scores = [float(r["mean"]) for r in rows]
        assert tuner.best_score_ == max(scores) and best["C"] == tuner.best_values_["C"]
        assert all(0.0 <= float(r["std"]) < 0.3 for r in rows)
        assert (ag_run[0] / "tasks" / method / "search" / "search.png").read_bytes()[:4] == (
            b"\x89PNG"
        )
    # the seed is the first trial's draw: random and TPE (random for its first 10) agree
    assert _trials(ag_run[0], "random")[0]["C"] == _trials(ag_run[0], "tpe")[0]["C"]


@pytest.mark.slow
def test_an_interrupted_search_resumes_with_its_finished_trials_kept(ag_run):
    search = {
        "method": "tpe",
        "trials": 3,
        "workers": 2,
        "space": {"C": {"log_uniform": [0.01, 1.0]}, "sublinear_tf": {"choice": [True, False]}},
    }

    def interrupt_after_trial_0(study: Any, trial: Any) -> None:
        if trial.number == 0:  # trial 1, of the same batch, is asked but not finished
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _search(ag_run, "resumed", search, callbacks=(interrupt_after_trial_0,))
    first = ag_run[0] / "tasks" / "resumed" / "search" / "trials" / "0" / "metrics.json"
    written = first.stat().st_mtime_ns

    tuner, _ = _search(ag_run, "resumed", search)
    rows = _trials(ag_run[0], "resumed")
    assert [r["state"] for r in rows] == ["complete", "interrupted", "complete", "complete"]
    assert (rows[2]["C"], rows[2]["sublinear_tf"]) == (rows[1]["C"], rows[1]["sublinear_tf"])
    assert first.stat().st_mtime_ns == written  # the finished trial was not run again
    assert tuner.summary()["trials"] == 3
    # the kept and the replaced trials are those of a search that never stopped
    _search(ag_run, "uninterrupted", {**search, "trials": 2})
    straight = _trials(ag_run[0], "uninterrupted")
    assert [(r["C"], r["sublinear_tf"]) for r in straight] == [
        (r["C"], r["sublinear_tf"]) for r in rows[:2]
    ]
    assert float(rows[0]["mean"]) == pytest.approx(float(straight[0]["mean"]))
    assert float(rows[2]["mean"]) == pytest.approx(float(straight[1]["mean"]))

    _search(ag_run, "resumed", {**search, "trials": 4})  # more trials: the same study goes on
    assert [r["state"] for r in _trials(ag_run[0], "resumed")][-1] == "complete"
    assert len(_trials(ag_run[0], "resumed")) == 5
    _search(ag_run, "resumed", {**search, "seed": 2, "trials": 1})  # other settings: a new one
    assert len(_trials(ag_run[0], "resumed")) == 1


@pytest.mark.slow
def test_trials_on_the_process_pool_equal_the_serial_ones(ag_run):
    search = {
        "method": "random",
        "trials": 2,
        "workers": 2,
        "space": {"C": {"log_uniform": [0.01, 1.0]}, "ngram_range": {"choice": [[1, 1], [1, 2]]}},
    }
    _search(ag_run, "serial", search)
    _search(ag_run, "pool", search, executor=ProcessExecutor(2, recycle_after=50))
    serial, pool = _trials(ag_run[0], "serial"), _trials(ag_run[0], "pool")
    columns = ("number", "C", "ngram_range", "state")
    assert [[r[c] for c in columns] for r in pool] == [[r[c] for c in columns] for r in serial]
    assert [float(r["mean"]) for r in pool] == pytest.approx([float(r["mean"]) for r in serial])


def test_a_metric_the_task_does_not_write_stops_the_search_after_one_trial(ag_run):
    search = {"method": "random", "trials": 3, "workers": 1, "metric": "validation.f1_macr"}
    search["space"] = {"C": {"choice": [1.0, 10.0]}}
    with pytest.raises(ConfigError) as caught:
        _search(ag_run, "metric", search)
    message = str(caught.value)
    assert message.startswith("tasks.metric.search.metric: 'validation.f1_macr' is not in")
    assert "did you mean 'validation.f1_macro'?" in message and "\n" not in message
    trials = ag_run[0] / "tasks" / "metric" / "search" / "trials"
    assert [p.name for p in trials.iterdir()] == ["0"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        (
            {"space": {"CC": {"choice": [1.0]}}},
            "tasks.category.search.space.CC: 'CC' is not a parameter of the task's component; "
            "did you mean 'C'?",
        ),
        (
            {"space": {"C": {"log_uniform": [0, 10]}}},
            "tasks.category.search.space.C.log_uniform: [0, 10] is invalid: a log range "
            "needs low > 0",
        ),
        (
            {"space": {"min_df": {"int": [3, 1]}}},
            "tasks.category.search.space.min_df.int: [3, 1] is invalid: low must be below high",
        ),
        (
            {"method": "bayes", "space": {"C": {"choice": [1.0]}}},
            "tasks.category.search.method: 'bayes' is not allowed",
        ),
        (
            {"method": "grid", "space": {"C": {"uniform": [0.1, 1.0]}}},
            "tasks.category.search.space.C: uniform is a continuous range, which a grid "
            "search cannot enumerate",
        ),
        (
            {"space": {"class_weight": {"choice": [None, "balance"]}}},
            "tasks.category.search.space.class_weight.choice: 'balance' is not accepted by "
            "the component",
        ),
        (
            {"metric": "acuracy", "space": {"C": {"choice": [1.0]}}},
            "tasks.category.search.metric: 'acuracy' is not a cross-validated score of logreg; "
            "did you mean 'accuracy'?",
        ),
    ],
)
def test_a_wrong_search_setting_is_one_line_naming_its_key(search, expected):
    raw = _raw_config(Path("/data"), Path("/tmp/unused"), search=search)
    raw["corpus"] = {"reader": "text", "path": "/data/*.txt"}
    with pytest.raises(ConfigError) as caught:
        resolve_config(raw)
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_search_settings_are_resolved_with_their_defaults():
    raw = _raw_config(Path("/data"), Path("/tmp/unused"))
    raw["corpus"] = {"reader": "text", "path": "/data/*.txt"}
    grid = {"method": "grid", "space": {"C": {"choice": [0.1, 1]}, "min_df": {"int": [1, 3]}}}
    raw["tasks"] = {
        "grid": {"model": "logreg", "search": grid},
        "loss": {"model": "logreg", "search": {"metric": "log_loss", "space": grid["space"]}},
    }
    tasks = resolve_config(raw)["tasks"]
    assert tasks["grid"]["search"] == {
        "method": "grid",
        "trials": 6,  # the grid's size
        "seed": 1,
        "metric": "accuracy",
        "direction": "maximize",
        "workers": None,
        "space": {"C": {"choice": [0.1, 1]}, "min_df": {"int": [1, 3]}},
    }
    assert tasks["loss"]["search"]["direction"] == "minimize"
    assert tasks["loss"]["search"]["method"] == "tpe" and tasks["loss"]["search"]["trials"] == 20


def test_values_drawn_again_reuse_their_score_without_a_refit(ag_run):
    search = {"method": "random", "trials": 5, "space": {"C": {"choice": [0.1, 1.0]}}}
    tuner, _ = _search(ag_run, "repeats", search)
    rows = _trials(ag_run[0], "repeats")
    fitted = [r for r in rows if not r["repeat_of"]]
    assert len(rows) == 5 and sorted(r["C"] for r in fitted) == ["0.1", "1.0"]
    first = {r["C"]: r for r in fitted}
    for row in rows:
        if row["repeat_of"]:
            assert row["repeat_of"] == first[row["C"]]["number"]
            assert row["mean"] == first[row["C"]]["mean"]
    trials = ag_run[0] / "tasks" / "repeats" / "search" / "trials"
    assert sorted(p.name for p in trials.iterdir()) == sorted(r["number"] for r in fitted)
    assert tuner.summary()["repeats"] == 3
