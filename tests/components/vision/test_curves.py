"""`curves:` on the image-cnn task: learning and validation curves of the CNN on real digits."""

from __future__ import annotations

import json

import numpy as np
import pytest

from components.vision.curves import CURVE_PARAMS, ImageCnnEstimator
from components.vision.task import ImageCnnTask
from pipeline.config import ConfigError
from pipeline.registry import parameters
from tests.components.vision.conftest import digits_documents

SMALL = {"blocks": ({"filters": 6},), "dense": (16,), "lr": 0.005, "baseline": False}
KINDS = {"high bias", "high variance", "fine"}


def test_curves_are_written_with_a_verdict_each(tmp_path):
    folder = tmp_path / "run" / "tasks" / "digits"
    folder.mkdir(parents=True)
    curves = {
        "folds": 2,
        "learning": {"sizes": [0.5, 1.0]},
        "validation": {"param": "epochs", "values": [1, 2]},
    }
    docs = digits_documents({0, 1, 2, 3, 4}, limit=200)
    ImageCnnTask(**SMALL, epochs=2, curves=curves).fit(docs, folder)
    result = json.loads((folder / "metrics.json").read_text())["curves"]
    train_part = json.loads((folder / "metrics.json").read_text())["split"]["sizes"]["train"]
    assert result["folds"] == 2 and result["documents"] == train_part
    assert result["learning"]["verdict"]["kind"] in KINDS
    assert result["learning"]["sizes"][0] < result["learning"]["sizes"][1]
    assert result["validation"]["param"] == "epochs"
    assert {v["kind"] for v in result["validation"]["verdicts"]} <= KINDS
    for name in ("curves.json", "learning_curve_by_size.png", "validation_curve.png"):
        assert (folder / name).is_file(), name
    report = json.dumps(json.loads((folder / "report.json").read_text()))
    assert "learning_curve_by_size.png" in report and "validation_curve.png" in report


def test_the_estimator_clones_and_refuses_unknown_parameters():
    from sklearn.base import clone

    estimator = ImageCnnEstimator(ImageCnnTask, epochs=1, dense=(8,), blocks=({"filters": 4},))
    copy = clone(estimator).set_params(epochs=3)
    assert copy.get_params()["epochs"] == 3 and estimator.get_params()["epochs"] == 1
    with pytest.raises(ValueError, match="'pixels' is not a training parameter"):
        copy.set_params(pixels={"shape": [8, 8]})
    assert set(CURVE_PARAMS) < set(parameters(ImageCnnTask))
    docs = digits_documents({0, 1}, limit=60)
    X = np.stack([np.asarray(list(d.meta["row"].values()), np.float32) for d in docs]) / 16
    y = [d.meta["label"] for d in docs]
    fitted = copy.fit(X.reshape(-1, 1, 8, 8), y)
    assert fitted.predict(X.reshape(-1, 1, 8, 8)[:5]).shape == (5,)
    assert 0.0 <= fitted.score(X.reshape(-1, 1, 8, 8), y) <= 1.0


def test_a_parameter_the_network_lacks_is_a_config_error(tmp_path):
    folder = tmp_path / "run" / "tasks" / "t"
    folder.mkdir(parents=True)
    bad = {"validation": {"param": "epoch", "values": [1, 2]}}
    with pytest.raises(
        ConfigError, match=r"tasks\.t\.curves\.validation\.param: 'epoch' .*did you mean 'epochs'"
    ):
        ImageCnnTask(**SMALL, curves=bad).fit(digits_documents({0, 1}, limit=40), folder)
    assert list(folder.iterdir()) == []
