"""Workers die with their run: once `nlp run` is killed with SIGKILL (as the out-of-memory
killer does), every process it started (workers, fork server, resource tracker, Dask
workers) exits within 5 s instead of holding its memory until someone kills it by hand.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GRACE_SECONDS = 5.0
# spaCy tagging and parsing on 5-document shards: the run lasts well after its first shard,
# and the workers are busy in spaCy when the run is killed.
STAGES = [{"tokenize": {"backend": "spacy"}}, {"pos": {"parse": True}}]

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="SIGKILL, the way the out-of-memory killer ends a run, is POSIX"
)


def start_run(tmp_path: Path, executor: str) -> tuple[subprocess.Popen, str]:
    """Start `nlp run` on the Lee news articles; returns the process and its environment mark."""
    config = {
        "name": "worker-death",
        "corpus": {"reader": "lee-news"},
        "stages": STAGES,
        "execution": {"executor": executor, "workers": 2, "shard_size": 5},
        "output": {"dir": str(tmp_path / "run")},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    mark = uuid.uuid4().hex  # inherited by every process the run starts, however it starts it
    with (tmp_path / "stderr.txt").open("wb") as stderr:
        run = subprocess.Popen(
            [sys.executable, str(ROOT / "cli.py"), "run", "--quiet", str(tmp_path / "config.yaml")],
            cwd=ROOT,
            env={**os.environ, "NLP_TEST_RUN_MARK": mark},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    return run, mark


def wait_for_first_shard(run: subprocess.Popen, tmp_path: Path) -> None:
    deadline = time.monotonic() + 180
    while not list((tmp_path / "run").rglob("*.parquet")):
        stderr = (tmp_path / "stderr.txt").read_text(errors="replace")
        assert run.poll() is None, f"the run ended before writing a shard:\n{stderr}"
        assert time.monotonic() < deadline, f"no shard written after 180 s:\n{stderr}"
        time.sleep(0.02)


def marked_processes(mark: str) -> list[psutil.Process]:
    """Every process whose environment carries `mark` (orphans included, wherever they went)."""
    found = []
    for process in psutil.process_iter(["environ"]):
        if (process.info["environ"] or {}).get("NLP_TEST_RUN_MARK") == mark:
            found.append(process)
    return found


def still_running(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Those not ended; a zombie has ended (it holds no memory), only its exit status is left."""
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


def kill_run_and_watch(run: subprocess.Popen, mark: str) -> list[str]:
    """SIGKILL the run; return the command lines of its processes still running 5 s later."""
    started = psutil.Process(run.pid).children(recursive=True)
    assert run.poll() is None, "the run finished before it could be killed"
    killed_at = time.monotonic()
    run.send_signal(signal.SIGKILL)
    run.wait()
    watched = {p.pid: p for p in [*started, *marked_processes(mark)]}
    assert len(watched) >= 2, f"expected at least the run's 2 workers, found {list(watched)}"
    survivors = still_running(list(watched.values()))
    while survivors and time.monotonic() - killed_at < GRACE_SECONDS:
        time.sleep(0.05)
        survivors = still_running(survivors)
    report = []
    for process in survivors:  # leave the machine as we found it
        try:
            report.append(f"{process.pid}: {' '.join(process.cmdline())[:160]}")
            process.kill()
        except psutil.NoSuchProcess:
            pass
    return report


@pytest.mark.parametrize("executor", ["processes", pytest.param("dask", marks=pytest.mark.slow)])
def test_a_killed_run_takes_every_process_it_started_with_it(tmp_path, executor):
    if executor == "dask":
        pytest.importorskip("distributed")
    run, mark = start_run(tmp_path, executor)
    try:
        wait_for_first_shard(run, tmp_path)
        survivors = kill_run_and_watch(run, mark)
    finally:
        run.kill()
    assert survivors == [], f"still running {GRACE_SECONDS:.0f} s after the run was killed"


def test_the_fork_server_preloads_what_the_configured_stages_import():
    from pipeline.pipeline import build_stage
    from pipeline.workers import preload_modules

    def preload(stages: list[tuple[str, dict]]) -> list[str]:
        return preload_modules(build_stage(name, params) for name, params in stages)

    # the bundled news job: spaCy's tokenizer and stop list
    news = yaml.safe_load((ROOT / "examples" / "news.yaml").read_text())
    assert preload([(next(iter(s)), next(iter(s.values()))) for s in news["stages"]]) == [
        "sklearn",
        "spacy",
    ]
    # regex tokens, rule sentences: nothing heavy to import
    light = [("normalize", {}), ("tokenize", {"backend": "regex"}), ("sentences", {})]
    assert preload(light) == []
    # NLTK's tokenizer and stemmer, a spaCy parse
    assert preload([("tokenize", {"backend": "nltk-treebank"}), ("stem", {})]) == ["nltk"]
    assert preload([("tokenize", {"backend": "regex"}), ("pos", {})]) == ["spacy"]
