"""The README's first command: `nlp run` with no config runs the whole bundled news flow.

Run as a real subprocess, exactly as the README's quick start runs it (about 35 s): the 300
Lee articles through every stage, TF-IDF, each analytics task's folder and the report, whose
page names each task's section.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.store import read_documents

ROOT = Path(__file__).resolve().parents[1]
TASKS = {"topics", "summaries", "sentiment", "entities", "keywords", "related"}


@pytest.mark.slow
def test_nlp_run_with_no_config_runs_the_news_flow_and_writes_the_report(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "run"],
        cwd=tmp_path, capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    run_dir = tmp_path / "runs" / "news"
    assert "documents: in 300 = out 300 + quarantined 0" in done.stdout
    assert f"report: {Path('runs/news/report.html')}" in done.stdout

    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["documents"] == {"in": 300, "out": 300, "quarantined": 0}
    assert (run_dir / "config.yaml").is_file() and (run_dir / "quarantine.jsonl").is_file()
    assert list((run_dir / "documents").glob("shard-*.parquet"))
    assert set(manifest["tasks"]) == TASKS and manifest["report"]["path"] == "report.html"
    ids = [doc.id for doc in read_documents(run_dir)]
    for name in TASKS:
        folder = run_dir / "tasks" / name
        lines = (folder / "predictions.jsonl").read_text().splitlines()
        assert [json.loads(line)["id"] for line in lines] == ids, name
        assert json.loads((folder / "report.json").read_text())["blocks"], name
    chosen = json.loads((run_dir / "tasks/topics/metrics.json").read_text())["num_topics"]
    assert chosen in (5, 10, 15, 20)
    # sentiment per topic, each topic named by its top words from the topics task
    topics = json.loads((run_dir / "tasks/topics/topics.json").read_text())
    section = json.loads((run_dir / "tasks/sentiment/report.json").read_text())
    by_topic = next(b for b in section["blocks"] if b.get("title", "").startswith("By topic"))
    named = {f"{t['id']}: {', '.join(t['words'][:3])}" for t in topics}
    assert {row[0] for row in by_topic["rows"]} <= named | {"(none)"}
    page = (run_dir / "report.html").read_text()
    for name in TASKS:
        assert f"tasks/{name}" in page
    assert 'src="http' not in page and 'href="http' not in page  # nothing fetched
