"""Scaling out: the Dask executor (LocalCluster or a running scheduler) and output URLs."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import yaml

from pipeline.config import resolve_config
from pipeline.runner import run
from pipeline.store import read_documents

ROOT = Path(__file__).resolve().parents[2]
# Light stages: each Dask worker builds them itself, and cold imports (spaCy, scikit-learn)
# would dominate the test's time.
STAGES = [{"normalize": {}}, {"tokenize": {"backend": "regex"}}, {"sentences": {}}]


def make_config(out, corpus, output=None, **execution):
    return resolve_config(
        {
            "name": "dask",
            "corpus": corpus,
            "stages": STAGES,
            "execution": {"shard_size": 30, **execution},
            "output": {"dir": str(out), **(output or {})},
        }
    )


def documents(run_dir: Path) -> list[dict]:
    return [d.to_dict() for d in read_documents(run_dir)]


@pytest.mark.slow
def test_local_cluster_gives_the_same_outputs_as_serial(tmp_path):
    corpus = {"reader": "lee-news", "limit": 150}
    serial = run(make_config(tmp_path / "serial", corpus))
    dask = run(make_config(tmp_path / "dask", corpus, executor="dask", workers=2))
    assert dask.counts == serial.counts == {"in": 150, "out": 150, "quarantined": 0}
    assert documents(dask.run_dir) == documents(serial.run_dir)
    fingerprints = [[s["fingerprint"] for s in r.manifest["shards"]] for r in (serial, dask)]
    assert fingerprints[0] == fingerprints[1]
    assert len(fingerprints[0]) == 5  # one Dask task per shard of 30 documents


@pytest.mark.slow
def test_joining_a_running_scheduler_incremental_run_matches_serial(tmp_path, lee_texts):
    from dask.distributed import LocalCluster

    path = tmp_path / "docs.jsonl"
    with path.open("wb") as fh:
        for i, text in enumerate(lee_texts[:90]):
            day = f"2024-05-{1 + i % 3:02d}T09:00:00+00:00"
            fh.write(orjson.dumps({"id": f"n{i}", "text": text, "published": day}) + b"\n")
    corpus = {"reader": "jsonl", "path": str(path)}
    serial = run(make_config(tmp_path / "serial", corpus, output={"incremental": True}))
    with LocalCluster(
        n_workers=2,
        processes=False,
        dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"},
        silence_logs=logging.ERROR,
    ) as cluster:
        config = make_config(
            tmp_path / "dask",
            corpus,
            output={"incremental": True},
            executor="dask",
            address=cluster.scheduler_address,
        )
        joined = run(config)
        assert len(cluster.scheduler_info["workers"]) == 2  # the run left the cluster running
    assert (
        joined.counts
        == serial.counts
        == {"in": 90, "out": 90, "updated": 0, "quarantined": 0, "skipped_seen": 0}
    )
    assert documents(joined.run_dir) == documents(serial.run_dir)
    parts = [
        sorted(p.relative_to(r.run_dir).as_posix() for p in r.run_dir.rglob("part-*"))
        for r in (serial, joined)
    ]
    assert parts[0] == parts[1]
    assert {p.split("/")[1] for p in parts[0]} == {
        "published=2024-05-01",
        "published=2024-05-02",
        "published=2024-05-03",
    }


@pytest.mark.slow
def test_cli_dask_run_shuts_down_quietly(tmp_path):
    config = make_config(tmp_path / "run", {"reader": "lee-news", "limit": 90})
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    busy = socket.socket()  # Dask's default port taken, as by another cluster on the machine
    try:
        busy.bind(("", 8787))
        busy.listen()
    except OSError:
        pass  # taken already
    with busy:
        result = subprocess.run(
            [sys.executable, str(ROOT / "cli.py"), "run", str(tmp_path / "c.yaml")]
            + ["--executor", "dask", "--workers", "2"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=240,
        )
    assert result.returncode == 0, result.stderr
    assert "documents: in 90 = out 90 + quarantined 0" in result.stdout
    noise = ("Traceback", "still alive", "WARNING", "Warning", "distributed", "Exception", "Error")
    noisy = [line for line in result.stderr.splitlines() if any(n in line for n in noise)]
    assert noisy == []


def test_output_folder_as_a_local_fsspec_url(tmp_path):
    url = (tmp_path / "run").as_uri()  # file:///...
    result = run(make_config(url, {"reader": "lee-news", "limit": 20}))
    assert result.run_dir == tmp_path / "run"
    assert len(list(read_documents(url))) == 20
