"""The Trainer: history, early stopping with the best weights, checkpoints, kill-and-resume, CUDA."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from components.models.networks import RNNClassifier
from components.models.training import (
    CHECKPOINT_FILE,
    TRAINED_FILE,
    BucketBatcher,
    Trainer,
    TrainingError,
    load_checkpoint,
    plot_gradient_norms,
    plot_learning_curve,
)
from components.models.vocab import Vocabulary
from tests.components.models.training_fixtures import one_torch_thread, words  # noqa: F401

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def lee_task(lee_texts):
    """Lee articles split into halves of the corpus as two classes: (vocab, train, val)."""
    tokens = [words(t) for t in lee_texts]
    labels = [0 if i < 150 else 1 for i in range(len(tokens))]
    vocab = Vocabulary.build(tokens, min_count=2)
    ids = [vocab.encode(t) for t in tokens]
    train = [i for i in range(300) if i % 4]
    val = [i for i in range(300) if not i % 4]
    return (
        vocab,
        ([ids[i] for i in train], [labels[i] for i in train]),
        ([ids[i] for i in val], [labels[i] for i in val]),
    )


def _model(vocab, seed=0):
    torch.manual_seed(seed)
    return RNNClassifier(len(vocab), 16, hidden=16, cell="gru", num_classes=2, dropout=0.2)


def _batches(split, shuffle=True):
    return BucketBatcher(split[0], split[1], batch_size=16, max_length=60, shuffle=shuffle, seed=1)


def test_history_rows_files_and_log(lee_task, tmp_path):
    vocab, train, val = lee_task
    rows = []
    trainer = Trainer(epochs=3, lr=5e-3, patience=0, seed=0, monitor="val_macro_f1")
    history = trainer.fit(
        _model(vocab),
        _batches(train),
        _batches(val, False),
        workdir=tmp_path,
        log_epoch=rows.append,
    )
    assert [h["epoch"] for h in history] == [1, 2, 3]
    for row in history:
        assert {"train_loss", "val_loss", "val_accuracy", "val_macro_f1", "lr", "seconds"} <= set(
            row
        )
        assert set(row["grad_norms"]) == {"embedding", "encoder", "output"}
        assert all(v > 0 for v in row["grad_norms"].values())
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert json.loads((tmp_path / "history.json").read_text()) == json.loads(json.dumps(history))
    assert not (tmp_path / CHECKPOINT_FILE).exists()  # deleted when training ends
    assert (tmp_path / TRAINED_FILE).is_file()
    curve = plot_learning_curve(history, tmp_path / "curve.png", monitor="val_macro_f1")
    norms = plot_gradient_norms(history, tmp_path / "norms.png")
    assert curve.read_bytes()[:8] == norms.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_early_stopping_stops_and_restores_the_best_epoch(lee_task, tmp_path):
    vocab, train, val = lee_task
    snapshots = {}
    model = _model(vocab)

    def keep(row):
        snapshots[row["epoch"]] = {k: v.clone() for k, v in model.state_dict().items()}

    # a large learning rate overfits fast: validation loss turns up, patience 2 stops
    trainer = Trainer(epochs=30, lr=0.05, patience=2, seed=0)
    history = trainer.fit(model, _batches(train), _batches(val, False), log_epoch=keep)
    assert len(history) < 30
    best = min(history, key=lambda h: h["val_loss"])["epoch"]
    assert trainer.best_epoch_ == best and best < history[-1]["epoch"]
    assert history[-1]["epoch"] - best == 2
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, snapshots[best][name]), name


def test_without_validation_training_loss_is_monitored(lee_task):
    vocab, train, _ = lee_task
    trainer = Trainer(epochs=2, patience=1, seed=0)
    history = trainer.fit(_model(vocab), _batches(train))
    assert "val_loss" not in history[0]
    assert trainer.best_epoch_ == min(history, key=lambda h: h["train_loss"])["epoch"]


def test_a_checkpoint_under_another_key_is_ignored(lee_task, tmp_path):
    vocab, train, val = lee_task
    trainer = Trainer(epochs=2, seed=0, patience=0)
    trainer.fit(_model(vocab), _batches(train), _batches(val, False), workdir=tmp_path, key="a")
    assert load_checkpoint(tmp_path / TRAINED_FILE, "a") is not None
    assert load_checkpoint(tmp_path / TRAINED_FILE, "b") is None
    again = trainer.fit(
        _model(vocab), _batches(train), _batches(val, False), workdir=tmp_path, key="b"
    )
    assert len(again) == 2
    assert load_checkpoint(tmp_path / TRAINED_FILE, "b") is not None


def test_asking_for_cuda_without_one_is_a_clear_error(lee_task):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    vocab, train, _ = lee_task
    with pytest.raises(TrainingError, match="use 'auto' or 'cpu'"):
        Trainer(device="cuda").fit(_model(vocab), _batches(train))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_trains_a_tiny_model_on_cuda(lee_task):
    vocab, train, val = lee_task
    model = _model(vocab)
    trainer = Trainer(epochs=3, lr=5e-3, seed=0, device="auto", patience=0)
    history = trainer.fit(model, _batches(train), _batches(val, False))
    assert trainer.device_.type == "cuda"
    assert next(model.parameters()).is_cuda
    assert history[-1]["train_loss"] < history[0]["train_loss"]


@pytest.mark.slow
def test_sigkill_after_epoch_two_then_resume_gives_the_uninterrupted_weights(tmp_path):
    script = [sys.executable, str(Path(__file__).with_name("resume_script.py"))]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(workdir, out, kill_after):
        return subprocess.run(
            [*script, str(workdir), str(out), str(kill_after)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )

    straight = run(tmp_path / "w1", tmp_path / "m1", 0)
    assert straight.returncode == 0, straight.stderr
    killed = run(tmp_path / "w2", tmp_path / "m2", 2)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    state = torch.load(tmp_path / "w2" / CHECKPOINT_FILE, weights_only=True)
    assert state["epoch"] == 2 and len(state["history"]) == 2
    resumed = run(tmp_path / "w2", tmp_path / "m2", 0)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming after epoch 2" in resumed.stderr
    a = torch.load(tmp_path / "m1" / "weights.pt", weights_only=True)
    b = torch.load(tmp_path / "m2" / "weights.pt", weights_only=True)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    h1 = json.loads((tmp_path / "w1" / "history.json").read_text())
    h2 = json.loads((tmp_path / "w2" / "history.json").read_text())
    assert [h["val_loss"] for h in h1] == [h["val_loss"] for h in h2]
    assert not (tmp_path / "w2" / CHECKPOINT_FILE).exists()
