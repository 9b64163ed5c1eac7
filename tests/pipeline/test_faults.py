"""Faults: killed runs, dying workers, damaged files, a second run, unwritable or full disks.

Each test checks what a user relies on: after the fault and one more run, every document
of the corpus is in the output exactly once, and the error said what happened.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import pytest
import yaml

from pipeline.config import resolve_config
from pipeline.executors import ExecutorError
from pipeline.runner import ProgressHook, RunError, run
from pipeline.stage_cache import CacheStore
from pipeline.store import read_documents

ROOT = Path(__file__).resolve().parents[2]
LIGHT_STAGES = [{"normalize": {}}, {"tokenize": {"backend": "regex"}}, {"sentences": {}}]

FAULT_STAGES = '''\
"""Test stages for fault injection, registered through the entry-point group."""

import os
import time

from pipeline import Stage, register


@register("stage", "test-crash-once")
class CrashOnce(Stage):
    """Kill the worker process (os._exit) at the first document containing `trigger`.

    `marker_file` records that it happened, so a retried shard goes through
    (unless `always`).
    """

    def __init__(self, *, trigger: str = "CRASH-HERE", marker_file: str = "", always: bool = False):
        self.trigger = trigger
        self.marker_file = marker_file
        self.always = always

    def process(self, doc):
        if self.trigger in doc.text and (self.always or not os.path.exists(self.marker_file)):
            with open(self.marker_file, "a") as fh:
                fh.write(f"{os.getpid()}\\n")
            os._exit(17)
        return doc


@register("stage", "test-slow")
class Slow(Stage):
    """Sleep `seconds` per document; with `until_file`, first wait (up to a minute) for it to exist."""

    def __init__(self, *, seconds: float = 0.01, until_file: str = ""):
        self.seconds = seconds
        self.until_file = until_file

    def process(self, doc):
        deadline = time.time() + 60
        while self.until_file and not os.path.exists(self.until_file) and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(self.seconds)
        return doc
'''


@pytest.fixture(scope="module")
def fault_plugin(tmp_path_factory):
    """A plugin package on sys.path (inherited by spawned workers) and PYTHONPATH (subprocesses)."""
    site = tmp_path_factory.mktemp("site")
    (site / "fault_stages.py").write_text(FAULT_STAGES)
    dist = site / "fault_stages-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fault-stages\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[nlp_pipeline.components]\nfault = fault_stages\n")
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    importlib.import_module("fault_stages")  # registers here; workers load it by entry point
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    yield env
    sys.path.remove(str(site))


def write_jsonl(
    path: Path, texts: list[str], copies: int = 1, marker_at: int | None = None
) -> Path:
    with path.open("wb") as fh:
        for c in range(copies):
            for i, text in enumerate(texts):
                n = c * len(texts) + i
                body = f"{text} CRASH-HERE" if n == marker_at else text
                fh.write(orjson.dumps({"id": f"doc-{n}", "text": body}) + b"\n")
    return path


def make_config(out: Path, corpus: dict, stages=LIGHT_STAGES, output=None, **execution) -> dict:
    return resolve_config(
        {
            "name": "faults",
            "corpus": corpus,
            "stages": stages,
            "execution": {"shard_size": 20, **execution},
            "output": {"dir": str(out), **(output or {})},
        }
    )


def assert_exactly_once(run_dir: Path, expected: set[str]) -> None:
    ids = [d.id for d in read_documents(run_dir)]
    assert len(ids) == len(set(ids)), "a document was written twice"
    assert set(ids) == expected, f"missing {sorted(expected - set(ids))[:5]}"


# -- SIGKILL at random points ------------------------------------------------------------------


def feed_xml(title: str, items: list[tuple[str, str, str]]) -> str:
    from xml.sax.saxutils import escape

    body = "".join(
        f"<item><title>{escape(text[:70])}</title><guid>{guid}</guid>"
        f"<pubDate>{date}</pubDate><description>{escape(text)}</description></item>"
        for guid, text, date in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>{body}</channel></rss>'


def write_feeds(folder: Path, texts: list[str]) -> dict[str, set[str]]:
    """Three feeds over the Lee articles; 40 stories appear in two feeds. Returns id -> feed files."""
    folder.mkdir(parents=True, exist_ok=True)
    days = [f"{d:02d} Mar 2024 08:00:00 GMT" for d in range(1, 8)]
    plan = {"a.xml": range(0, 120), "b.xml": range(100, 220), "c.xml": range(200, 300)}
    sources: dict[str, set[str]] = {}
    for name, numbers in plan.items():
        items = [(f"story-{i}", texts[i], f"Fri, {days[i % 7]}") for i in numbers]
        (folder / name).write_text(feed_xml(name, items), encoding="utf-8")
        for i in numbers:
            sources.setdefault(f"story-{i}", set()).add(str(folder / name))
    return sources


def shards_recorded(out: Path) -> int:
    try:
        return len(json.loads((out / "manifest.json").read_text())["shards"])
    except (OSError, ValueError, KeyError):
        return -1


@pytest.mark.slow
@pytest.mark.parametrize(
    ("incremental", "seed"), [(False, 1), (False, 2), (False, 3), (True, 4), (True, 5), (True, 6)]
)
def test_sigkill_at_a_random_point_then_rerun_gives_every_document_once(
    tmp_path, lee_texts, fault_plugin, incremental, seed
):
    rng = random.Random(seed)
    out = tmp_path / "run"
    if incremental:
        sources = write_feeds(tmp_path / "feeds", lee_texts)
        corpus = {"reader": "feeds", "path": str(tmp_path / "feeds")}
        n_shards = 300 // 20
    else:
        write_jsonl(tmp_path / "docs.jsonl", lee_texts, copies=3)
        corpus = {"reader": "jsonl", "path": str(tmp_path / "docs.jsonl")}
        n_shards = 900 // 20
    stages = [*LIGHT_STAGES, {"test-slow": {"seconds": 0.002}}]  # >= 40 ms a shard
    config = make_config(out, corpus, stages=stages, output={"incremental": incremental})
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    kill_after = rng.randint(0, n_shards - 3)
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "run", "--quiet", str(tmp_path / "c.yaml")],
        cwd=ROOT,
        env=fault_plugin,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and shards_recorded(out) < kill_after:
        time.sleep(0.005)
    time.sleep(rng.uniform(0, 0.08))
    killed = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert killed, "the run finished before it could be killed"

    result = run(config)

    if incremental:
        assert_exactly_once(out, set(sources))
        docs = {d.id: d for d in read_documents(out)}
        assert all(set(docs[k].meta["sources"]) == v for k, v in sources.items())
        from pipeline.ledger import Ledger

        with Ledger.open_readonly(out) as ledger:
            committed = ledger.committed_paths()
        on_disk = {
            p.relative_to(out).as_posix()
            for folder in ("documents", "quarantine")
            for p in (out / folder).rglob("part-*")
        }
        assert on_disk == committed  # no part left over from the killed run
        again = run(config)
        assert again.counts["out"] == 0 and again.counts["skipped_seen"] == again.counts["in"]
    else:
        assert result.counts == {"in": 900, "out": 900, "quarantined": 0}
        assert_exactly_once(out, {f"doc-{n}" for n in range(900)})
    assert not list(out.rglob(".*.tmp"))


# -- a worker process dying mid-shard ----------------------------------------------------------


def crash_stages(marker: Path, always: bool = False) -> list[dict]:
    return [
        {"tokenize": {"backend": "regex"}},
        {"test-crash-once": {"marker_file": str(marker), "always": always}},
    ]


@pytest.mark.slow
def test_worker_dying_mid_shard_is_retried_in_a_fresh_pool(tmp_path, lee_texts, fault_plugin):
    corpus = write_jsonl(tmp_path / "docs.jsonl", lee_texts[:120], marker_at=45)
    marker = tmp_path / "crashed"
    config = make_config(
        tmp_path / "run",
        {"reader": "jsonl", "path": str(corpus)},
        stages=crash_stages(marker),
        executor="processes",
        workers=2,
    )
    result = run(config)
    assert marker.read_text().count("\n") == 1  # one worker died, once
    assert result.counts == {"in": 120, "out": 120, "quarantined": 0}
    assert_exactly_once(tmp_path / "run", {f"doc-{n}" for n in range(120)})


@pytest.mark.slow
def test_worker_dying_with_no_retries_left_stops_clearly_and_rerun_completes(
    tmp_path, lee_texts, fault_plugin
):
    corpus = write_jsonl(tmp_path / "docs.jsonl", lee_texts[:120], marker_at=85)
    marker = tmp_path / "crashed"
    config = make_config(
        tmp_path / "run",
        {"reader": "jsonl", "path": str(corpus)},
        stages=crash_stages(marker),
        executor="processes",
        workers=2,
        retries=0,
    )
    with pytest.raises(
        ExecutorError,
        match=r"worker process died .* shards [0-9, ]*4[0-9, ]* \(attempt 1 of 1\); giving up",
    ):
        run(config)
    result = run(config)  # the marker file exists now: the stage no longer crashes
    assert result.counts == {"in": 120, "out": 120, "quarantined": 0}
    assert_exactly_once(tmp_path / "run", {f"doc-{n}" for n in range(120)})


@pytest.mark.slow
def test_a_stage_that_always_kills_its_worker_stops_after_the_retries(
    tmp_path, lee_texts, fault_plugin
):
    corpus = write_jsonl(tmp_path / "docs.jsonl", lee_texts[:40], marker_at=5)
    marker = tmp_path / "crashed"
    config = make_config(
        tmp_path / "run",
        {"reader": "jsonl", "path": str(corpus)},
        stages=crash_stages(marker, always=True),
        executor="processes",
        workers=1,
        retries=1,
    )
    with pytest.raises(
        ExecutorError,
        match=r"processing shards 0, 1 \(attempt 2 of 2\); giving up \(execution.retries: 1\)",
    ):
        run(config)
    assert marker.read_text().count("\n") == 2


@pytest.mark.slow
def test_dask_worker_dying_mid_shard_is_rescheduled(tmp_path, lee_texts, fault_plugin):
    corpus = write_jsonl(tmp_path / "docs.jsonl", lee_texts[:80], marker_at=30)
    marker = tmp_path / "crashed"
    config = make_config(
        tmp_path / "run",
        {"reader": "jsonl", "path": str(corpus)},
        stages=crash_stages(marker),
        executor="dask",
        workers=2,
    )
    result = run(config)
    assert marker.read_text().count("\n") == 1
    assert result.counts == {"in": 80, "out": 80, "quarantined": 0}
    assert_exactly_once(tmp_path / "run", {f"doc-{n}" for n in range(80)})


@pytest.mark.slow
def test_dask_workers_dying_past_the_retries_stop_the_run_clearly(
    tmp_path, lee_texts, fault_plugin
):
    corpus = write_jsonl(tmp_path / "docs.jsonl", lee_texts[:40], marker_at=25)
    config = make_config(
        tmp_path / "run",
        {"reader": "jsonl", "path": str(corpus)},
        stages=crash_stages(tmp_path / "crashed", always=True),
        executor="dask",
        workers=2,
        retries=0,
    )
    with pytest.raises(
        ExecutorError,
        match=r"Dask workers died .* processing shard 1, on all 1 attempts \(execution.retries: 0\)",
    ):
        run(config)


# -- damaged shard or cache entry --------------------------------------------------------------


def test_damaged_cache_entries_are_misses_never_wrong_answers(tmp_path, lee_texts):
    corpus = write_jsonl(tmp_path / "docs.jsonl", lee_texts[:60])
    config = make_config(tmp_path / "run", {"reader": "jsonl", "path": str(corpus)})
    first = run(config)
    expected = [d.to_dict() for d in read_documents(first.run_dir)]
    shard = first.manifest["shards"][1]
    cache = CacheStore(first.run_dir / "cache")
    fingerprints = [s["fingerprint"] for s in first.manifest["shards"]]
    assert fingerprints[1] == shard["fingerprint"]
    # fingerprints after normalize, tokenize, sentences for shard 1
    from pipeline.settings import RunSettings
    from pipeline.shards import stage_fingerprints

    after = stage_fingerprints(shard["input_hash"], RunSettings.from_config(config).stages)
    last = cache.path(after[2])
    last.write_bytes(last.read_bytes()[:-50])  # truncated
    middle = cache.path(after[1])
    blob = bytearray(middle.read_bytes())
    blob[len(blob) // 2] ^= 0x20  # one flipped bit, same size
    middle.write_bytes(bytes(blob))
    (first.run_dir / shard["files"]["parquet"]["path"]).unlink()  # force the shard to be redone

    again = run(config)

    assert again.manifest["timings"]["shards_computed"] == 1
    redone = again.manifest["shards"][1]["stages"]
    assert [bool(s.get("cached")) for s in redone] == [True, False, False]  # only normalize reused
    assert [d.to_dict() for d in read_documents(again.run_dir)] == expected


def test_shard_with_one_flipped_bit_is_detected_and_recomputed(tmp_path, lee_texts):
    corpus = write_jsonl(tmp_path / "docs.jsonl", lee_texts[:60])
    config = make_config(tmp_path / "run", {"reader": "jsonl", "path": str(corpus)}, cache=False)
    first = run(config)
    expected = [d.to_dict() for d in read_documents(first.run_dir)]
    path = first.run_dir / first.manifest["shards"][2]["files"]["parquet"]["path"]
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 3] ^= 0x01
    path.write_bytes(bytes(blob))
    again = run(config)
    assert again.manifest["timings"]["shards_computed"] == 1
    assert [d.to_dict() for d in read_documents(again.run_dir)] == expected


def _truncate(blob: bytes) -> bytes:
    return blob[:200]


def _flip_one_bit(blob: bytes) -> bytes:
    data = bytearray(blob)
    data[len(data) // 2] ^= 0x20
    return bytes(data)


@pytest.mark.parametrize("damage", [_truncate, _flip_one_bit])
def test_damaged_part_of_an_incremental_dataset_is_dropped_and_its_items_redone(
    tmp_path, lee_texts, damage
):
    corpus = write_jsonl(tmp_path / "docs.jsonl", lee_texts[:60])
    config = make_config(
        tmp_path / "run", {"reader": "jsonl", "path": str(corpus)}, output={"incremental": True}
    )
    first = run(config)
    expected = sorted(d.id for d in read_documents(first.run_dir))
    part = sorted((first.run_dir / "documents").rglob("part-*.parquet"))[1]
    part.write_bytes(damage(part.read_bytes()))
    again = run(config)
    dropped = again.manifest["dataset"]["damaged_parts_dropped"]
    assert len(dropped) == 1 and dropped[0]["documents"] == again.counts["out"] > 0
    assert sorted(d.id for d in read_documents(again.run_dir)) == expected


# -- two runs on one output folder -------------------------------------------------------------


@pytest.mark.slow
def test_second_run_on_the_same_folder_stops_with_a_clear_message(
    tmp_path, lee_texts, fault_plugin
):
    corpus = write_jsonl(tmp_path / "docs.jsonl", lee_texts[:60])
    out = tmp_path / "run"
    release = tmp_path / "release"
    config = make_config(
        out,
        {"reader": "jsonl", "path": str(corpus)},
        stages=[{"tokenize": {"backend": "regex"}}, {"test-slow": {"until_file": str(release)}}],
    )
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    command = [sys.executable, str(ROOT / "cli.py"), "run", "--quiet", str(tmp_path / "c.yaml")]
    first = subprocess.Popen(
        command,
        cwd=ROOT,
        env=fault_plugin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not (out / "config.yaml").exists():
            time.sleep(0.02)  # config.yaml is written once the first run holds the lock
        assert first.poll() is None, "the first run ended early"
        with pytest.raises(RunError, match=f"another run is writing to {out}"):
            run(config)  # in this process
        second = subprocess.run(
            command, cwd=ROOT, env=fault_plugin, capture_output=True, text=True, timeout=60
        )
        assert first.poll() is None, "the first run ended early"
    finally:
        release.touch()
        stdout, stderr = first.communicate(timeout=120)
    assert second.returncode == 1
    lines = [line for line in second.stderr.splitlines() if line.strip()]
    assert lines == [f"error: another run is writing to {out} (lock {out / '.lock'}); wait for it "
                     "to finish or choose another --output"]  # fmt: skip
    assert first.returncode == 0, stderr
    assert "in 60 = out 60" in stdout
    assert_exactly_once(out, {f"doc-{n}" for n in range(60)})


# -- unwritable output, full disk --------------------------------------------------------------


def test_output_folder_under_a_file_is_a_clear_error(tmp_path, lee_texts):
    corpus = write_jsonl(tmp_path / "docs.jsonl", lee_texts[:5])
    (tmp_path / "blocker").write_text("a file, not a folder")
    config = make_config(tmp_path / "blocker" / "run", {"reader": "jsonl", "path": str(corpus)})
    with pytest.raises(
        RunError, match=r"cannot write to the output folder .*blocker/run: Not a directory"
    ):
        run(config)


class RevokeWriteAfter(ProgressHook):
    """Makes `documents/` read-only after `shards` shards, as a disk remounted read-only would."""

    def __init__(self, folder: Path, shards: int):
        self.folder = folder
        self.shards = shards
        self.done = 0

    def advance(self, documents: int, words: int, reused: bool) -> None:
        self.done += 1
        if self.done == self.shards:
            os.chmod(self.folder, 0o555)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user (seteuid)")
def test_output_folder_becoming_unwritable_stops_cleanly_and_the_next_run_resumes(lee_texts):
    # as 'nobody' (root ignores permissions), in a world-writable folder of our own
    base = Path(tempfile.mkdtemp(prefix="faults-perm-"))
    os.chmod(base, 0o777)
    corpus = write_jsonl(base / "docs.jsonl", lee_texts[:100])
    os.chmod(corpus, 0o644)
    out = base / "run"
    config = make_config(out, {"reader": "jsonl", "path": str(corpus)})
    run(make_config(base / "warm", {"reader": "jsonl", "path": str(corpus)}))  # imports, as root
    os.seteuid(65534)
    try:
        with pytest.raises(RunError) as error:
            run(config, progress=RevokeWriteAfter(out / "documents", shards=2))
        before = json.loads((out / "manifest.json").read_text())
        os.chmod(out / "documents", 0o755)
        result = run(config)
    finally:
        os.seteuid(0)
        subprocess.run(["rm", "-rf", str(base)], check=False)
    message = str(error.value)
    assert "cannot write" in message and "Permission denied" in message
    assert "finished shards are kept" in message and "run again to resume" in message
    assert len(before["shards"]) == 2 and before["status"] == "failed"
    assert result.manifest["timings"]["shards_reused"] == 2
    assert result.counts == {"in": 100, "out": 100, "quarantined": 0}


@pytest.fixture
def small_disk(tmp_path):
    """A 512 KiB tmpfs mounted in tmp_path (needs root with CAP_SYS_ADMIN; skipped otherwise)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("incremental", [False, True])
def test_full_disk_stops_cleanly_and_the_next_run_resumes(
    tmp_path, lee_texts, small_disk, incremental
):
    corpus = write_jsonl(tmp_path / "docs.jsonl", lee_texts, copies=2)
    out = small_disk / "run"
    config = make_config(
        out,
        {"reader": "jsonl", "path": str(corpus)},
        output={"incremental": incremental, "formats": ["parquet", "jsonl"]},
        cache=False,
    )
    with pytest.raises(RunError, match="the disk is full|cannot update") as error:
        run(config)
    assert "run again to resume" in str(error.value)
    if not incremental:
        before = json.loads((out / "manifest.json").read_text())
        assert 0 < len(before["shards"]) < 30
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    result = run(config)
    if incremental:
        assert result.counts["out"] + result.counts["skipped_seen"] == 600
        assert result.counts["skipped_seen"] > 0  # the parts committed before the disk filled
    else:
        assert result.manifest["timings"]["shards_reused"] == len(before["shards"])
        assert result.counts == {"in": 600, "out": 600, "quarantined": 0}
    assert_exactly_once(out, {f"doc-{n}" for n in range(600)})
