"""The `nlp` command, run as a real subprocess, the way users and batch jobs run it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.store import read_documents

ROOT = Path(__file__).resolve().parents[1]


def nlp(*args: str, cwd: Path | None = None, timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_config(path: Path, corpus: dict, out: Path, stages=None, **execution) -> Path:
    import yaml

    config = {
        "name": "cli-test",
        "corpus": corpus,
        "stages": stages
        or [{"normalize": {}}, {"tokenize": {}}, {"sentences": {}}, {"stopwords": {}}],
        "execution": {"shard_size": 50, **execution},
        "output": {"dir": str(out)},
    }
    path.write_text(yaml.safe_dump(config))
    return path


# `nlp run` with no arguments (the bundled news job, tasks and report included): tests/test_default_job.py


def test_progress_and_summary_table_are_shown(tmp_path):
    result = nlp(
        "run", "--output", str(tmp_path / "run"), "--set", "corpus.limit=60", "--set", "tasks={}"
    )
    assert result.returncode == 0, result.stderr
    assert "docs/s" in result.stderr and "words/s" in result.stderr
    for stage in ("read", "normalize", "tokenize", "sentences", "stopwords"):
        assert stage in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--set", "stages.tokenize.backend=spacey"],
            "stages[1].tokenize.backend: 'spacey' is not allowed; did you mean 'spacy'?",
        ),
        (["--set", "execution.workers=-1"], "execution.workers: -1 is invalid"),
        (
            ["--set", "corpus.reader=txt"],
            "corpus.reader: unknown reader 'txt'; did you mean 'text'?",
        ),
        (["--executor", "threads"], "execution.executor: 'threads' is not allowed"),
    ],
)
def test_bad_config_is_one_line_exit_2_no_traceback(tmp_path, args, message):
    result = nlp("run", "--quiet", "--output", str(tmp_path / "run"), *args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_validate_and_missing_input_path(tmp_path):
    config = write_config(
        tmp_path / "c.yaml", {"reader": "text", "path": str(tmp_path / "missing")}, tmp_path / "run"
    )
    result = nlp("validate", str(config))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"corpus.path: '{tmp_path / 'missing'}' does not exist" in result.stderr
    run = nlp("run", "--quiet", str(config))
    assert run.returncode == 2 and "does not exist" in run.stderr and "Traceback" not in run.stderr
    (tmp_path / "missing").mkdir()
    (tmp_path / "missing" / "a.txt").write_text("The council met on Monday.")
    ok = nlp("validate", str(config))
    assert ok.returncode == 0 and "valid" in ok.stdout


def test_validate_reports_every_problem_a_run_would_refuse_one_line_each(tmp_path):
    config = write_config(
        tmp_path / "c.yaml",
        {
            "reader": "csv",
            "path": str(tmp_path / "missing.csv"),
            "encoding": "bogus-enc",
            "delimiter": ";;",
        },
        tmp_path / "run",
        stages=[{"tokenize": {}}, {"stopwords": {"files": [str(tmp_path / "no-list.txt")]}}],
        workers=0,
    )
    result = nlp("validate", str(config))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        "error: corpus.encoding: 'bogus-enc' is not a known encoding "
        "(e.g. utf-8, latin-1, cp1252, or auto to detect it)",
        "error: corpus.delimiter: ';;' is invalid: must be a single character (use '\\t' for TSV)",
        f"error: stages[1].stopwords.files: '{tmp_path / 'no-list.txt'}' does not exist",
        "error: execution.workers: 0 is invalid: input should be greater than or equal to 1",
        f"error: corpus.path: '{tmp_path / 'missing.csv'}' does not exist",
    ], result.stderr


def test_run_refuses_a_bad_encoding_before_reading_data(tmp_path):
    (tmp_path / "news.csv").write_text("id,text\n1,Markets rallied on Friday.\n")
    config = write_config(
        tmp_path / "c.yaml",
        {"reader": "csv", "path": str(tmp_path / "news.csv"), "encoding": "bogus-enc"},
        tmp_path / "run",
    )
    result = nlp("run", "--quiet", str(config))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "corpus.encoding: 'bogus-enc' is not a known encoding" in result.stderr
    assert not (tmp_path / "run").exists()


def test_init_writes_a_config_that_validates_and_runs_as_written(tmp_path):
    result = nlp("init", "starter.yaml", cwd=tmp_path)
    assert result.returncode == 0
    text = (tmp_path / "starter.yaml").read_text()
    assert "# " in text and "reader:" in text
    check = nlp("validate", "starter.yaml", "--show", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert "backend: spacy" in check.stdout and "shard_size: 1000" in check.stdout
    ran = nlp("run", "starter.yaml", "--quiet", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    manifest = json.loads((tmp_path / "runs" / "my-corpus" / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["documents"] == {"in": 300, "out": 300, "quarantined": 0}
    assert nlp("init", "starter.yaml", cwd=tmp_path).returncode == 2  # no silent overwrite


def test_components_lists_stages_with_parameters():
    result = nlp("components")
    assert result.returncode == 0
    for name in ("normalize", "tokenize", "sentences", "stopwords", "lee-news", "feeds"):
        assert name in result.stdout
    one = nlp("components", "tokenize")
    assert one.returncode == 0 and "backend" in one.stdout and "'spacy'" in one.stdout
    missing = nlp("components", "tokenise")
    assert missing.returncode == 2 and "did you mean 'tokenize'" in missing.stderr


@pytest.mark.slow
def test_sigkill_part_way_then_rerun_finishes_with_every_document_once(tmp_path, lee_lines_file):
    corpus = lee_lines_file
    out = tmp_path / "run"
    config = write_config(
        tmp_path / "c.yaml",
        {"reader": "text", "path": str(corpus), "mode": "line"},
        out,
        shard_size=100,
    )
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "run", "--quiet", str(config)], cwd=ROOT
    )
    deadline = time.time() + 120
    shards_done = 0
    while time.time() < deadline and proc.poll() is None:
        try:
            shards_done = len(json.loads((out / "manifest.json").read_text())["shards"])
        except (OSError, ValueError, KeyError):
            shards_done = 0
        if shards_done >= 3:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = json.loads((out / "manifest.json").read_text())
    assert before["status"] == "running" and 0 < len(before["shards"]) < 36

    result = nlp("run", "--quiet", str(config))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["documents"] == {"in": 3600, "out": 3600, "quarantined": 0}
    assert manifest["timings"]["shards_reused"] >= len(before["shards"]) - 1
    ids = [d.id for d in read_documents(out)]
    assert len(ids) == 3600 and len(set(ids)) == 3600
    assert not list(out.rglob(".*.tmp"))


def test_third_party_stage_registers_through_the_entry_point_group(tmp_path):
    """A package exposing `nlp_pipeline.components` is discovered and usable from YAML."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "shout_plugin.py").write_text(
        "from pipeline import Stage, register\n\n"
        "@register('stage', 'shout')\n"
        "class Shout(Stage):\n"
        "    '''Upper-case the norm of every token.'''\n\n"
        "    def __init__(self, *, exclaim: bool = False):\n"
        "        self.exclaim = exclaim\n\n"
        "    def process(self, doc):\n"
        "        doc.tokens.norm = [t.upper() + ('!' if self.exclaim else '') for t in doc.tokens.text]\n"
        "        return doc\n"
    )
    dist = site / "shout_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: shout-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[nlp_pipeline.components]\nshout = shout_plugin\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    listing = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "components", "shout"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert listing.returncode == 0, listing.stderr
    assert "exclaim" in listing.stdout and "Upper-case the norm" in listing.stdout
    (tmp_path / "in.txt").write_text("Rain is expected in Sydney on Sunday.")
    config = write_config(
        tmp_path / "c.yaml",
        {"reader": "text", "path": str(tmp_path / "in.txt")},
        tmp_path / "run",
        stages=[{"tokenize": {}}, {"shout": {"exclaim": True}}],
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "run", "--quiet", str(config)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    doc = next(read_documents(tmp_path / "run"))
    assert doc.tokens.norm[:2] == ["RAIN!", "IS!"]


def test_real_and_malformed_feeds_every_item_accounted_for(tmp_path, shared_data):
    """`nlp run` over the shared real and malformed feeds: counts add up, every reject has a reason."""
    feeds = shared_data / "feeds"
    config = write_config(
        tmp_path / "feeds.yaml",
        {"reader": "feeds", "path": str(feeds / "**" / "*")},
        tmp_path / "run",
        stages=[{"normalize": {}}, {"tokenize": {}}, {"sentences": {}}],
    )
    result = nlp("run", "--quiet", str(config))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    counts = manifest["documents"]
    assert counts["in"] == counts["out"] + counts["quarantined"]
    assert counts["out"] > 400 and counts["quarantined"] > 0
    assert (
        f"documents: in {counts['in']} = out {counts['out']} + quarantined {counts['quarantined']}"
        in result.stdout
    )
    records = [
        json.loads(line)
        for line in (tmp_path / "run" / "quarantine.jsonl").read_text().splitlines()
    ]
    assert len(records) == counts["quarantined"]
    assert all(r["reason"] and r["source"] for r in records)
    assert any("notafeed.html" in r["source"] for r in records)
    docs = list(read_documents(tmp_path / "run"))
    assert all(d.meta.get("source") and d.text.strip() for d in docs)


def test_csv_with_malformed_rows_is_quarantined_row_by_row(tmp_path, lee_texts):
    import csv

    path = tmp_path / "news.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "label", "text"])
        for i, text in enumerate(lee_texts[:10]):
            writer.writerow([f"n{i}", "world" if i % 2 else "business", text])
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(4, "n-bad,only-two-fields")
    lines.insert(7, "n-worse,world,text,and,extra,fields")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = write_config(
        tmp_path / "csv.yaml",
        {
            "reader": "csv",
            "path": str(path),
            "text_column": "text",
            "label_column": "label",
            "id_column": "id",
        },
        tmp_path / "run",
        stages=[{"tokenize": {}}],
    )
    result = nlp("run", "--quiet", str(config))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    counts = manifest["documents"]
    assert counts["out"] == 10 and counts["quarantined"] >= 2
    assert counts["in"] == counts["out"] + counts["quarantined"]
    docs = {d.id: d for d in read_documents(tmp_path / "run")}
    assert docs["n1"].meta["label"] == "world"


def test_evaluate_coref_on_gap_reports_f1_by_gender(tmp_path, shared_data):
    gold = shared_data / "coref" / "gap-development.tsv"
    result = nlp(
        "evaluate",
        "coref",
        "--gold",
        str(gold),
        "--limit",
        "60",
        "--json",
        str(tmp_path / "m.json"),
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["rows"] == 60
    assert 0.4 < metrics["overall"]["f1"] <= 1.0
    assert {"masculine", "feminine", "bias"} <= set(metrics)
    assert "overall.f1" in result.stdout
    bad = nlp("evaluate", "coref", "--gold", str(tmp_path / "missing.tsv"))
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


def test_evaluate_embeddings_on_a_numpy_file_is_one_clear_line(tmp_path):
    import numpy as np

    vectors = tmp_path / "vectors.npy"
    np.save(vectors, np.random.default_rng(1).normal(size=(50, 20)).astype(np.float32))
    result = nlp("evaluate", "embeddings", str(vectors))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "codec" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "not word vectors" in line and "word2vec" in line


def test_the_summary_shows_a_fused_spacy_pass_once(tmp_path):
    stages = [{"tokenize": {}}, {"pos": {}}, {"lemmatize": {}}, {"ner": {}}]
    config = write_config(
        tmp_path / "c.yaml", {"reader": "lee-news", "limit": 20}, tmp_path / "run", stages
    )
    result = nlp("run", str(config))
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "lemmatize" in line or "ner " in line]
    assert len(lines) == 2 and all("(in pos)" in line for line in lines), result.stderr
    pos_line = next(line for line in result.stderr.splitlines() if " pos " in line)
    assert "(in pos)" not in pos_line and any(ch.isdigit() for ch in pos_line.split()[-2])


SHOUT_CODE = '''
from pipeline import Stage, register


@register("stage", "shout")
class Shout(Stage):
    """Upper-case every token's norm."""

    def __init__(self, *, exclaim: bool = False):
        self.exclaim = exclaim

    def process(self, doc):
        doc.tokens.norm = [t.upper() + ("!" if self.exclaim else "") for t in doc.tokens.text]
        return doc
'''


def test_code_registers_a_local_file_of_components_for_the_run_and_its_workers(tmp_path):
    (tmp_path / "my_components.py").write_text(SHOUT_CODE)
    stages = [{"tokenize": {"backend": "regex"}}, {"shout": {"exclaim": True}}]
    config = write_config(
        tmp_path / "c.yaml",
        {"reader": "lee-news", "limit": 40},
        tmp_path / "run",
        stages,
        executor="processes",
        workers=2,
        shard_size=10,
    )
    unknown = nlp("validate", str(config))
    assert unknown.returncode == 2 and "unknown stage 'shout'" in unknown.stderr
    assert nlp("validate", str(config), "--code", "my_components.py", cwd=tmp_path).returncode == 0
    ran = nlp("run", "--quiet", str(config), "--code", "my_components.py", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    from pipeline.store import read_documents

    docs = list(read_documents(tmp_path / "run"))
    assert len(docs) == 40
    assert all(
        norm == text.upper() + "!"
        for d in docs
        for text, norm in zip(d.tokens.text, d.tokens.norm, strict=True)
    )
    missing = nlp("run", str(config), "--code", "nowhere.py", cwd=tmp_path)
    assert (
        missing.returncode == 2 and "--code" in missing.stderr and "no such file" in missing.stderr
    )
    assert "Traceback" not in missing.stderr
