"""`search:` through the engine: a task entry with a search is tuned on the run's executor,
refitted with the best values, and the `best.yaml` it writes runs as is.

Real text: 300 AG News articles (`../shared/data`, skipped when absent); the task is the
logistic-regression classifier, whose inverse regularization `C` is searched between a
value that cannot fit anything (1e-4: every document gets the majority class) and one
that fits (10).
"""

from __future__ import annotations

import csv

import orjson
import pytest

from pipeline.config import load_config, resolve_config
from pipeline.runner import run

AG_NEWS = "classification/ag_news_test_first_half.csv"


@pytest.mark.slow
def test_a_search_picks_the_better_setting_and_its_best_yaml_runs(shared_data, tmp_path):
    raw = {
        "name": "tuned",
        "corpus": {
            "reader": "csv",
            "path": str(shared_data / AG_NEWS),
            "text_column": ["title", "description"],
            "label_column": "label",
            "limit": 300,
        },
        "stages": [{"tokenize": {"backend": "regex"}}],
        "tasks": {
            "category": {
                "model": "logreg",
                "label": "label",
                "search": {"method": "grid", "space": {"C": {"choice": [0.0001, 10.0]}}},
            }
        },
        "execution": {"workers": 2},
        "output": {"dir": str(tmp_path / "run")},
    }
    result = run(resolve_config(raw))
    folder = result.run_dir / "tasks" / "category"

    with (folder / "search" / "trials.csv").open(encoding="utf-8") as fh:
        trials = {float(row["C"]): row for row in csv.DictReader(fh)}
    assert set(trials) == {0.0001, 10.0}
    assert {row["state"] for row in trials.values()} == {"complete"}
    weak, strong = float(trials[0.0001]["mean"]), float(trials[10.0]["mean"])
    assert strong > weak + 0.2  # 3-fold cv accuracy: four balanced classes, 0.25 by chance

    metrics = orjson.loads((folder / "metrics.json").read_bytes())
    assert metrics["search"]["best_params"] == {"C": 10.0}
    assert metrics["search"]["best_score"] == strong and metrics["search"]["trials"] == 2
    assert metrics["search"]["trial_cv_folds"] == 3  # the task has no cv: of its own
    refit = orjson.loads((folder / "pipeline.json").read_bytes())["params"]
    assert refit["C"] == 10.0 and refit["cv"] is None  # the task itself is fitted as asked
    section = orjson.loads((folder / "report.json").read_bytes())
    titles = [block.get("title") for block in section["blocks"] if block.get("search")]
    assert titles == [None, "Best values", "Best trials", "Score per trial"]
    assert (folder / "search" / "search.png").read_bytes()[:4] == b"\x89PNG"

    again = run(resolve_config(raw))  # unchanged: the tuned task is kept
    assert again.manifest["tasks"]["category"]["reused"] is True

    best = load_config(folder / "search" / "best.yaml")
    assert "search" not in best["tasks"]["category"] and best["tasks"]["category"]["C"] == 10.0
    rerun = run(resolve_config(best))
    assert rerun.manifest["tasks"]["category"]["reused"] is False
    refitted = orjson.loads((folder / "metrics.json").read_bytes())
    assert refitted["test"]["accuracy"] == metrics["test"]["accuracy"]
    assert "search" not in refitted
