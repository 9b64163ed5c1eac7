"""Every registered task through the same checks, as scikit-learn's `check_estimator`.

The checks are the `pipeline.interfaces.Task` contract and our conventions: keyword-only
parameters with resolvable types whose config defaults equal the constructor's, a
constructor that only stores them, cheap `check_params`, and on real labelled text
(gensim's mini newsgroups): `fit` leaves `metrics.json` and one prediction per document
in corpus order, `save` / `load` predict identically, `evaluate` scores, and the folder
alone (`components.models.load`) predicts raw text in input order.
"""

from __future__ import annotations

import inspect
import json
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import components  # noqa: F401 - registers the tasks
from pipeline import registry
from pipeline.config import component_model
from pipeline.interfaces import Task

from .conftest import STAGES

ROOT = Path(__file__).resolve().parents[3]

#: settings that make each model small enough for a test (a parameter a task lacks is ignored)
SMALL = {
    "epochs": 2,
    "batch_size": 32,
    "embed_dim": 16,
    "hidden": 16,
    "max_length": 64,
    "num_filters": 8,
    "filter_sizes": [2, 3],
    "heads": 2,
    "layers": 1,
    "feedforward": 32,
    "max_vocab": 3000,
    "device": "cpu",
    "target": "label",  # seq2seq: the post's newsgroup name, a real short target
    "max_source": 60,
    "max_target": 6,
    "hidden_size": 16,
}
MLP_SMALL = {"hidden": [32]}
NEURAL = {"lstm", "bilstm", "gru", "rnn", "textcnn", "transformer", "mlp"}


def _project_tasks() -> list[str]:
    """Registered task names whose classes live in the project (not in a test module)."""
    names = []
    for name in registry.names("task"):
        path = Path(inspect.getfile(registry.lookup("task", name))).resolve()
        if ROOT / "tests" not in path.parents:
            names.append(name)
    return names


TASKS = _project_tasks()
#: the trained models; the analytics tasks (no labels) have their own contract test
#: (tests/components/analytics/test_analytics_contract.py)
#: the tasks over table rows (tabular features, image pixels) have their own fit tests
#: (tests/components/models/test_tabular_task.py, tests/components/vision/)
ROWS = {"tabular", "image-cnn"}
MODELS = [
    name
    for name in TASKS
    if not registry.lookup("task", name).__module__.startswith("components.analytics")
    and name not in ROWS
]


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):  # e.g. the image CNN's blocks: settings models
        return [_plain(item) for item in value]
    return json.loads(json.dumps(value))


def _small(name: str) -> dict[str, Any]:
    params = registry.parameters(registry.lookup("task", name))
    settings = {**SMALL, **(MLP_SMALL if name == "mlp" else {})}
    return {k: v for k, v in settings.items() if k in params}


def test_the_classification_tasks_are_all_registered():
    assert {"logreg", "linear-svm", "naive-bayes"} | NEURAL <= set(TASKS)


@pytest.mark.parametrize("name", TASKS)
def test_parameters_are_keyword_only_typed_and_their_config_defaults_match(name):
    cls = registry.lookup("task", name)
    params = registry.parameters(cls)
    assert params and all(p.kind is p.KEYWORD_ONLY for p in params.values())
    hints = typing.get_type_hints(cls.__init__, include_extras=True)
    assert set(params) <= set(hints)
    defaults = component_model("task", name).model_validate({}).model_dump(mode="json")
    task = cls()
    assert defaults == {k: _plain(getattr(task, k)) for k in params}
    assert set(vars(task)) == set(params)  # the constructor only stores its parameters


@pytest.mark.parametrize("name", TASKS)
def test_the_task_protocol_docs_and_cheap_checks(name):
    cls = registry.lookup("task", name)
    assert isinstance(cls(), Task)
    summary = registry.summary(cls)
    assert 20 < len(summary) < 120 and summary.endswith(".")
    defaults = component_model("task", name).model_validate({}).model_dump(mode="json")
    assert registry.param_problems(cls, defaults) == []


def _fit(name: str, docs: list[Any], folder: Path) -> Any:
    cls = registry.lookup("task", name)
    params = component_model("task", name).model_validate(_small(name)).model_dump(mode="json")
    folder.mkdir(parents=True)
    record = {
        "name": folder.name,
        "component": name,
        "params": params,
        "stages": STAGES,
        "corpus": {"reader": "newsgroups-mini"},
    }
    (folder / "pipeline.json").write_text(json.dumps(record))
    task = cls(**params).fit(docs, folder)
    task.save(folder)
    return task


@pytest.mark.parametrize("name", MODELS)
def test_fit_save_load_predict_evaluate_on_real_text(
    name, newsgroups_docs, tmp_path, torch_one_thread
):
    from components.models import load

    folder = tmp_path / "run" / "tasks" / "topic"
    task = _fit(name, newsgroups_docs, folder)

    metrics = json.loads((folder / "metrics.json").read_text())
    assert isinstance(metrics, dict) and metrics
    rows = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]
    assert [row["id"] for row in rows] == [doc.id for doc in newsgroups_docs]

    sample = newsgroups_docs[::10]
    predicted = list(task.predict(sample))
    assert len(predicted) == len(sample) and list(task.predict([])) == []
    loaded = type(task).load(folder)
    assert list(loaded.predict(sample)) == predicted
    scores = loaded.evaluate(sample)
    assert isinstance(scores, dict) and 0.0 <= scores.get("accuracy", 0.0) <= 1.0

    predictor = load(folder)
    texts = [doc.text for doc in sample[:5]]
    _same(predictor.predict(texts[::-1]), [predictor.predict([t])[0] for t in texts[::-1]])
    _same(predictor.predict(texts), predicted[:5])


def _same(first: list[dict[str, Any]], second: list[dict[str, Any]]) -> None:
    """Equal predictions, up to float rounding (a network batches padded sequences)."""
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        assert a.keys() == b.keys()
        if "probabilities" in a:
            assert a["probabilities"] == pytest.approx(b["probabilities"], abs=1e-6)
        assert {k: v for k, v in a.items() if k != "probabilities"} == {
            k: v for k, v in b.items() if k != "probabilities"
        }
