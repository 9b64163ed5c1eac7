"""`nlp run` failing visibly, as cron and CI see it: exit codes, one-line errors, the log file."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[1]
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"


def nlp(*args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_config(path: Path, corpus: dict, out: Path, **execution) -> Path:
    import yaml

    config = {
        "name": "cli-failures",
        "corpus": corpus,
        "stages": [{"normalize": {}}, {"tokenize": {}}, {"sentences": {}}],
        "execution": {"shard_size": 50, **execution},
        "output": {"dir": str(out)},
    }
    path.write_text(yaml.safe_dump(config))
    return path


def write_jsonl(path: Path, texts: list[str]) -> Path:
    with path.open("wb") as fh:
        for n, text in enumerate(texts):
            fh.write(orjson.dumps({"id": f"doc-{n}", "text": text}) + b"\n")
    return path


def test_log_file_has_the_summary_and_warnings_with_times(tmp_path, lee_texts, write_feed):
    date = "Tue, 01 Dec 2026 08:00:00 GMT"
    write_feed(
        tmp_path / "feeds" / "a.xml", [(f"a-{n}", t, date) for n, t in enumerate(lee_texts[:40])]
    )
    corpus = {"reader": "feeds", "path": str(tmp_path / "feeds")}
    out = tmp_path / "dataset"
    config = write_config(tmp_path / "c.yaml", corpus, out)
    log = tmp_path / "run.log"
    first = nlp(
        "run", "--quiet", "--log-file", str(log), str(config), "--set", "output.incremental=true"
    )
    assert first.returncode == 0, first.stderr
    lines = log.read_text().splitlines()
    assert any(
        re.match(rf"^{STAMP} INFO nlp: documents: in 40 = out 40 \+ quarantined 0", line)
        for line in lines
    )
    assert any(
        re.match(rf"^{STAMP} INFO nlp: .* docs/s, .* words/s; shards computed", line)
        for line in lines
    )
    # changing a stage of an incremental dataset is a warning: it reaches the file, timed
    changed = nlp(
        "run", "--quiet", "--log-file", str(log), str(config),
        "--set", "output.incremental=true", "--set", "stages.tokenize.backend=regex",
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    warnings = [line for line in log.read_text().splitlines() if " WARNING " in line]
    assert warnings and all(re.match(rf"^{STAMP} WARNING ", line) for line in warnings)
    assert any("the stages changed since the last run" in line for line in warnings)


@pytest.mark.parametrize("quiet", [True, False])
def test_empty_folder_fails_in_one_line_also_in_the_log(tmp_path, quiet):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    out = tmp_path / "run"
    config = write_config(tmp_path / "c.yaml", {"reader": "text", "path": str(inbox)}, out)
    log = tmp_path / "run.log"
    result = nlp("run", *(["--quiet"] if quiet else []), "--log-file", str(log), str(config))
    assert result.returncode == 4
    assert "documents:" not in result.stdout  # no summary line: the run did not complete
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    error = result.stderr.strip()
    assert error.startswith("error: corpus.path ") and "has no input" in error
    assert "corpus.allow_empty: true" in error
    logged = [line for line in log.read_text().splitlines() if " ERROR " in line]
    assert len(logged) == 1
    assert re.match(rf"^{STAMP} ERROR nlp: ", logged[0])
    assert logged[0].endswith(error.removeprefix("error: "))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["reason"] == error.removeprefix("error: ")

    allowed = nlp("run", "--quiet", str(config), "--set", "corpus.allow_empty=true")
    assert allowed.returncode == 0, allowed.stderr
    assert "documents: in 0 = out 0 + quarantined 0" in allowed.stdout


def test_config_error_reaches_the_log_file(tmp_path):
    log = tmp_path / "run.log"
    result = nlp("run", "--quiet", "--log-file", str(log), "--set", "execution.max_quarantined=2")
    assert result.returncode == 2
    assert "execution.max_quarantined" in result.stderr
    assert re.match(rf"^{STAMP} ERROR nlp: .*execution\.max_quarantined", log.read_text())


def test_mostly_quarantined_run_exits_3_after_writing_everything(tmp_path, lee_texts):
    longest = sorted(lee_texts, key=len)
    corpus = write_jsonl(tmp_path / "lee.jsonl", longest[-70:] + longest[:30])
    max_chars = len(longest[-71])  # the 70 longest articles are quarantined as too long
    out = tmp_path / "run"
    config = write_config(
        tmp_path / "c.yaml", {"reader": "jsonl", "path": str(corpus), "max_chars": max_chars}, out
    )
    log = tmp_path / "run.log"
    result = nlp("run", "--quiet", "--log-file", str(log), str(config))
    assert result.returncode == 3, result.stderr
    assert "documents: in 100 = out 30 + quarantined 70" in result.stdout
    error = result.stderr.strip()
    assert error == (
        "error: quarantined 70 of 100 inputs (70%), above execution.max_quarantined 0.5; "
        f"everything is written: see {out / 'quarantine.jsonl'} for the reasons"
    )
    assert error.removeprefix("error: ") in log.read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["quarantine_check"]["exceeded"]
    assert len((out / "quarantine.jsonl").read_text().splitlines()) == 70
    assert list((out / "documents").glob("shard-*.parquet"))

    relaxed = nlp("run", "--quiet", str(config), "--set", "execution.max_quarantined=0.8")
    assert relaxed.returncode == 0, relaxed.stderr


def test_run_help_documents_the_exit_codes():
    result = nlp("run", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for fragment in (
        "Exit codes",
        "3 done, but the quarantined share",
        "max_quarantined",
        "4 the corpus has no item",
        "143",
    ):
        assert fragment in text


@pytest.mark.slow
def test_sigterm_part_way_leaves_an_interrupted_manifest_and_exits_143(tmp_path, lee_lines_file):
    corpus = lee_lines_file
    out = tmp_path / "run"
    config = write_config(
        tmp_path / "c.yaml",
        {"reader": "text", "path": str(corpus), "mode": "line"},
        out,
        shard_size=100,
    )
    log = tmp_path / "run.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "cli.py"),
            "run",
            "--quiet",
            "--log-file",
            str(log),
            str(config),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        try:
            if len(json.loads((out / "manifest.json").read_text())["shards"]) >= 2:
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.01)
    assert proc.poll() is None, "the run finished before it could be stopped"
    os.kill(proc.pid, signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM
    assert stderr.strip().startswith("error: interrupted by SIGTERM")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert manifest["reason"].startswith("interrupted by SIGTERM")
    assert "interrupted by SIGTERM" in log.read_text()
    assert nlp("run", "--quiet", str(config)).returncode == 0
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
