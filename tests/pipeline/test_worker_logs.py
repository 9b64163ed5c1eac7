"""What stages log inside worker processes reaches `nlp run --log-file`, with timestamps."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

WARNING_CODE = '''
import logging
import multiprocessing

from pipeline import Stage, register

logger = logging.getLogger("my_components")


@register("stage", "complain")
class Complain(Stage):
    """Log a warning for every document, saying whether this is a worker process."""

    def process(self, doc):
        worker = multiprocessing.parent_process() is not None
        logger.warning("odd document %s (in a worker: %s)", doc.id, worker)
        return doc
'''

LINE_RE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING my_components: "
    r"odd document (\S+) \(in a worker: (True|False)\)$",
    re.MULTILINE,
)


def _run(tmp_path: Path, execution: dict) -> tuple[subprocess.CompletedProcess, str]:
    import yaml

    (tmp_path / "my_components.py").write_text(WARNING_CODE)
    config = tmp_path / "c.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "worker-logs",
                "corpus": {"reader": "lee-news", "limit": 20},
                "stages": [{"complain": {}}],
                "execution": {"shard_size": 10, **execution},
                "output": {"dir": str(tmp_path / "run"), "formats": ["jsonl"]},
            }
        )
    )
    log = tmp_path / "run.log"
    args = ["run", "--quiet", "--log-file", str(log), str(config), "--code", "my_components.py"]
    result = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    return result, log.read_text(encoding="utf-8") if log.exists() else ""


def test_process_workers_warnings_reach_the_log_file_with_times(tmp_path):
    result, log = _run(tmp_path, {"executor": "processes", "workers": 2})
    assert result.returncode == 0, result.stderr
    found = LINE_RE.findall(log)
    # every document's warning, each logged in a worker process, none lost or doubled
    assert len(found) == 20, log
    assert len({doc_id for doc_id, _ in found}) == 20
    assert {worker for _, worker in found} == {"True"}
    assert "documents" in log  # the run summary is still there
    assert "odd document" not in result.stderr  # --quiet: nothing on the terminal


@pytest.mark.slow
def test_dask_workers_warnings_reach_the_log_file(tmp_path):
    pytest.importorskip("distributed")
    result, log = _run(tmp_path, {"executor": "dask", "workers": 1})
    assert result.returncode == 0, result.stderr
    found = LINE_RE.findall(log)
    assert len(found) == 20, log
    assert {worker for _, worker in found} == {"True"}
