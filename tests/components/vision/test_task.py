"""The image-cnn task on real digits: outputs, save/load, bad rows, config checks, transfer."""

from __future__ import annotations

import json
import typing

import pytest
import torch

from components.models.training import OPTIMIZERS, SCHEDULES
from components.vision import task as task_module
from components.vision.task import ImageCnnTask
from pipeline.config import ConfigError, resolve_config
from pipeline.document import Document
from tests.components.vision.conftest import digits_documents

SMALL = {
    "blocks": ({"filters": 6}, {"filters": 8}),
    "dense": (16,),
    "epochs": 4,
    "batch_size": 32,
    "lr": 0.005,
    "baseline": False,
}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A small CNN fitted on digits 0-4 (with two unusable documents), saved."""
    docs = digits_documents({0, 1, 2, 3, 4})
    docs.append(Document(id="no-row", text="a text without pixels"))
    broken = dict(docs[0].meta["row"], pixel_3_3=None)
    docs.append(Document(id="gap", text="", meta={"row": broken, "label": "0"}))
    folder = tmp_path_factory.mktemp("run") / "tasks" / "small"
    folder.mkdir(parents=True)
    task = ImageCnnTask(**SMALL).fit(docs, folder)
    task.save(folder)
    return task, folder, docs


def test_writes_metrics_predictions_plots_and_report(fitted):
    _, folder, docs = fitted
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["accuracy"] == metrics["test"]["accuracy"] > 0.75  # 5 classes, 4 epochs
    assert set(metrics["test"]["per_class"]) == {"0", "1", "2", "3", "4"}
    assert metrics["skipped"] == {
        "no meta['row'] (read the corpus with the table reader)": 1,
        "missing or non-numeric pixel": 1,
    }
    sizes = metrics["split"]["sizes"]
    assert sum(sizes.values()) == metrics["images"] == len(docs) - 2
    assert [r["layer"] for r in metrics["summary"]][:3] == [
        "input",
        "blocks[0].conv+relu",
        "blocks[0].maxpool",
    ]
    lines = (folder / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == metrics["images"]
    assert {json.loads(line)["split"] for line in lines} == {"train", "validation", "test"}
    for png in ("confusion_matrix.png", "learning_curve.png"):
        assert (folder / png).read_bytes()[:4] == b"\x89PNG"
    report = json.loads((folder / "report.json").read_text())
    assert {b["kind"] for b in report["blocks"]} >= {"metrics", "table", "image"}


def test_load_predicts_as_the_fitted_task_and_skips_documents_without_pixels(fitted):
    task, folder, docs = fitted
    loaded = ImageCnnTask.load(folder)
    sample = [*docs[:20], docs[-2]]
    first = list(task.predict(sample))
    again = list(loaded.predict(sample))
    assert first == again
    assert again[-1]["label"] is None and "meta['row']" in again[-1]["skipped"]
    assert loaded.evaluate(docs[:100])["accuracy"] > 0.8
    state = torch.load(folder / "weights.pt", weights_only=True)
    assert any(k.startswith("features.0.conv.") for k in state)


def test_transfer_copies_the_conv_blocks_exactly_and_freezes_them(fitted, tmp_path):
    _, source, _ = fitted
    source_state = torch.load(source / "weights.pt", weights_only=True)
    folder = tmp_path / "tasks" / "upper"
    folder.mkdir(parents=True)
    task = ImageCnnTask(
        **{**SMALL, "epochs": 2},
        transfer={"from": str(source), "freeze": True},
        augment={"shift": 1, "rotate": 10, "noise": 0.05},
    )
    task.fit(digits_documents({5, 6, 7, 8, 9}), folder)
    assert task.classes_ == ["5", "6", "7", "8", "9"]
    for name, tensor in task.network_.features.state_dict().items():
        assert torch.equal(tensor.cpu(), source_state[f"features.{name}"])  # trained, unchanged
    assert not any(p.requires_grad for p in task.network_.features.parameters())
    assert all(p.requires_grad for p in task.network_.output.parameters())
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["transfer"]["freeze"] is True
    assert metrics["augment"] == {"shift": 1, "rotate": 10.0, "noise": 0.05}
    assert metrics["trainable_parameters"] < metrics["parameters"]


def test_transfer_refuses_conv_blocks_of_another_shape(fitted, tmp_path):
    _, source, _ = fitted
    folder = tmp_path / "tasks" / "wide"
    folder.mkdir(parents=True)
    task = ImageCnnTask(
        **{**SMALL, "blocks": ({"filters": 6}, {"filters": 12})}, transfer={"from": str(source)}
    )
    with pytest.raises(
        ConfigError,
        match=r"tasks\.wide\.transfer\.from: .*blocks\[1\] conv\.weight: source \[8, 6, 3, 3\] vs here \[12",
    ):
        task.fit(digits_documents({5, 6}, limit=60), folder)


def _config(**task):
    return {
        "name": "t",
        "corpus": {"reader": "table", "dataset": "sklearn:digits", "label_column": "target"},
        "tasks": {"digits": {"model": "image-cnn", **task}},
    }


def test_config_checks_name_the_key():
    with pytest.raises(ConfigError) as err:
        resolve_config(
            _config(
                blocks=[{"filters": 8, "kernel": 4}, {"filters": 0}],
                dropout=1.5,
                pixels={"columns": ["a", "b"], "shape": [8, 8]},
                augment={"rotate": 400},
            )
        )
    text = str(err.value)
    for key in ("blocks[0].padding", "blocks[1].filters", "dropout", "pixels.columns", "augment"):
        assert f"tasks.digits.{key}" in text
    with pytest.raises(ConfigError, match=r"tasks\.digits\.blocks\.0\.pool: 'min' is not allowed"):
        resolve_config(_config(blocks=[{"pool": "min"}]))
    resolved = resolve_config(_config(transfer={"from": "runs/x/tasks/digits"}))
    assert resolved["tasks"]["digits"]["transfer"] == {
        "from": "runs/x/tasks/digits",
        "freeze": True,
    }


def test_pixel_columns_that_do_not_match_the_shape_are_a_config_error(tmp_path):
    folder = tmp_path / "tasks" / "digits"
    folder.mkdir(parents=True)
    task = ImageCnnTask(**SMALL, pixels={"columns": "pixel_*", "shape": [8, 7]})
    with pytest.raises(ConfigError, match=r"tasks\.digits\.pixels\.columns: 64 columns match"):
        task.fit(digits_documents(limit=20), folder)


def test_choices_match_the_training_core():
    from components.models.training import MONITORS

    assert typing.get_args(task_module.Optimizer) == OPTIMIZERS
    assert typing.get_args(task_module.Schedule) == SCHEDULES
    assert set(typing.get_args(task_module.Monitor)) <= set(MONITORS)


def test_without_a_test_part_the_task_still_fits_and_reports(tmp_path):
    folder = tmp_path / "tasks" / "all"
    folder.mkdir(parents=True)
    params = {**SMALL, "epochs": 1, "split": {"test": 0.0, "validation": 0.2, "seed": 1}}
    ImageCnnTask(**params).fit(digits_documents({0, 1}, limit=80), folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["accuracy"] is None and metrics["validation"]["documents"] == 16
    assert not (folder / "confusion_matrix.png").exists()
    assert json.loads((folder / "report.json").read_text())["blocks"]
