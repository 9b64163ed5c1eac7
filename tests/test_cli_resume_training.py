"""`nlp run` killed with SIGKILL in the middle of a neural task's training, then run again:
the second run resumes from the task's checkpoint and ends with the same weights and
predictions as a run that was never interrupted."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
AG_NEWS = "classification/ag_news_test_first_half.csv"
TASK = "category"
KILL_AT_EPOCH = 2
EPOCHS = 5


def _command(config: Path, log: Path) -> list[str]:
    """`nlp run config --quiet`, its INFO log (where the trainer says it resumes) in `log`."""
    return [sys.executable, str(ROOT / "cli.py"), "run", str(config), "-q", "--log-file", str(log)]


def _env() -> dict[str, str]:
    """One thread for torch and BLAS in the child (the suite shares two cores; one thread
    also makes the CPU arithmetic, and so the weights, reproducible)."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _write_config(path: Path, csv_path: Path, out: Path) -> Path:
    config = {
        "name": "resume-training",
        "corpus": {
            "reader": "csv",
            "path": str(csv_path),
            "text_column": ["title", "description"],
            "label_column": "label",
        },
        "stages": [{"tokenize": {"backend": "regex"}}],
        "tasks": {
            TASK: {
                "model": "gru",
                "label": "label",
                "embed_dim": 16,
                "hidden": 16,
                "epochs": EPOCHS,
                "batch_size": 8,
                "patience": 0,  # no early stop: every epoch runs, the kill lands mid-training
                "seed": 5,
            }
        },
        "output": {"dir": str(out)},
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _checkpoint_epoch(path: Path) -> int:
    """The epoch saved in `path` (0 when it is absent or being replaced)."""
    import torch

    try:
        return int(torch.load(path, map_location="cpu", weights_only=True)["epoch"])
    except (FileNotFoundError, RuntimeError, EOFError, KeyError):
        return 0


def _run_until_killed(config: Path, checkpoint: Path, timeout: float = 120.0) -> int:
    """Start `nlp run config`, SIGKILL it once `checkpoint` holds epoch >= KILL_AT_EPOCH;
    return that epoch. Fails when the run ends or times out before that."""
    stderr_path = config.with_suffix(".killed.stderr")
    with stderr_path.open("wb") as stderr:  # a file, not a pipe nobody reads while it runs
        process = subprocess.Popen(
            _command(config, config.with_suffix(".killed.log")),
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            epoch = _checkpoint_epoch(checkpoint)
            if epoch >= KILL_AT_EPOCH:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
                return epoch
            if process.poll() is not None:
                pytest.fail(
                    f"the run ended ({process.returncode}) before epoch {KILL_AT_EPOCH}'s "
                    f"checkpoint was seen:\n{stderr_path.read_text()[-2000:]}"
                )
            time.sleep(0.02)
        pytest.fail(f"no checkpoint of epoch {KILL_AT_EPOCH} within {timeout} s")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _weights(model_dir: Path) -> dict:
    import torch

    return torch.load(model_dir / "model" / "weights.pt", map_location="cpu", weights_only=True)


@pytest.mark.slow  # three short runs of the CLI: ~45-55 s on two busy cores
def test_a_killed_training_run_resumes_and_ends_as_an_uninterrupted_one(shared_data, tmp_path):
    import torch

    with (shared_data / AG_NEWS).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))[:400]
    csv_path = tmp_path / "ag400.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["label", "title", "description"])
        writer.writeheader()
        writer.writerows(rows)

    # the uninterrupted run goes on beside the killed one (it waits on no one); its output
    # goes to a file, not a pipe nobody reads while it runs
    straight_run = tmp_path / "straight"
    straight_stderr = tmp_path / "straight.stderr"
    with straight_stderr.open("wb") as stderr:
        straight = subprocess.Popen(
            _command(
                _write_config(tmp_path / "straight.yaml", csv_path, straight_run),
                tmp_path / "straight.log",
            ),
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    killed_run = tmp_path / "killed"
    config = _write_config(tmp_path / "killed.yaml", csv_path, killed_run)
    task_dir = killed_run / "tasks" / TASK
    killed_at = _run_until_killed(config, task_dir / "checkpoint.pt")
    assert killed_at < EPOCHS, "the kill came after the last epoch: make epochs slower"
    assert not (task_dir / "predictions.jsonl").exists()  # killed mid-training

    resumed = subprocess.run(
        _command(config, tmp_path / "resumed.log"),
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    log = (tmp_path / "resumed.log").read_text(encoding="utf-8")
    assert f"resuming after epoch {killed_at}" in log  # not restarted from epoch 1
    history = json.loads((task_dir / "history.json").read_text())
    assert [row["epoch"] for row in history] == list(range(1, EPOCHS + 1))
    assert not (task_dir / "checkpoint.pt").exists()  # training finished: checkpoint gone

    straight.wait(timeout=240)
    assert straight.returncode == 0, straight_stderr.read_text()[-3000:]
    assert "resuming" not in (tmp_path / "straight.log").read_text(encoding="utf-8")
    straight_dir = straight_run / "tasks" / TASK

    resumed_weights, straight_weights = _weights(task_dir), _weights(straight_dir)
    assert resumed_weights.keys() == straight_weights.keys()
    for name, tensor in straight_weights.items():
        assert torch.equal(resumed_weights[name], tensor), name
    assert (task_dir / "predictions.jsonl").read_text() == (
        straight_dir / "predictions.jsonl"
    ).read_text()
    straight_history = json.loads((straight_dir / "history.json").read_text())
    drop = ("seconds",)  # wall time differs; losses and metrics must not
    assert [{k: v for k, v in row.items() if k not in drop} for row in history] == [
        {k: v for k, v in row.items() if k not in drop} for row in straight_history
    ]
