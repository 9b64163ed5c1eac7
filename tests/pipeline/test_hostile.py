"""Hostile input: data-derived names, tampered run folders, pickled cache entries, XML monsters."""

from __future__ import annotations

import json
import pickle
import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from pipeline.config import resolve_config
from pipeline.runner import run
from pipeline.stage_cache import CacheStore
from pipeline.store import read_documents

ROOT = Path(__file__).resolve().parents[2]
STAGES = [{"normalize": {}}, {"tokenize": {"backend": "regex"}}]


def make_config(out: Path, corpus: dict, incremental: bool = False, **execution) -> dict:
    return resolve_config(
        {
            "name": "hostile",
            "corpus": corpus,
            "stages": STAGES,
            "execution": {"shard_size": 10, **execution},
            "output": {"dir": str(out), "incremental": incremental},
        }
    )


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def test_names_made_from_data_cannot_leave_the_run_folder(tmp_path, lee_texts):
    hostile = [
        "../../../../outside",
        "/etc/cron.d/x",
        "2024-01-05/../../../outside",
        "2024-02-30",
        "2024-13-01",
        "..",
        12345,
        {"$ne": 1},
        None,
        "2024-01-05T10:00:00Z",
        "2024-01-06 ../../x",
    ]
    path = tmp_path / "in" / "docs.jsonl"
    path.parent.mkdir()
    lines = []
    for i, published in enumerate(hostile):
        doc_id = f"../../../id-{i}" if i % 2 else f"/abs/{i}"
        lines.append(orjson.dumps({"id": doc_id, "text": lee_texts[i], "published": published}))
    path.write_bytes(b"\n".join(lines) + b"\n")
    before = files_under(tmp_path)
    result = run(make_config(tmp_path / "a" / "run", {"reader": "jsonl", "path": str(path)}, True))
    created = files_under(tmp_path) - before
    assert all(name.startswith("a/run") or name == "a" for name in created), created
    partitions = sorted(p.name for p in (result.run_dir / "documents").iterdir())
    assert partitions == ["published=2024-01-05", "published=2024-01-06", "published=unknown"]
    assert len(list(read_documents(result.run_dir))) == len(hostile)


def test_a_tampered_manifest_cannot_make_a_run_read_or_delete_outside_files(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    config = make_config(tmp_path / "run", {"reader": "lee-news", "limit": 40})
    first = run(config)
    manifest_path = first.run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["shards"][0]["files"]["parquet"]["path"] = "../victim.txt"
    escaped = {**manifest["shards"][1], "index": 99}  # beyond the corpus: its files get deleted
    escaped["files"] = {"parquet": {"path": "../victim.txt", "sha256": "0" * 64}}
    manifest["shards"].append(escaped)
    manifest_path.write_text(json.dumps(manifest))

    again = run(config)

    assert victim.read_text() == "precious"
    assert again.manifest["timings"]["shards_computed"] == 1  # shard 0 redone, inside the folder
    assert len(list(read_documents(again.run_dir))) == 40


def test_a_tampered_ledger_cannot_make_a_run_read_or_delete_outside_files(tmp_path, lee_texts):
    victim = tmp_path / "victim.parquet"
    victim.write_bytes(b"precious")
    path = tmp_path / "docs.jsonl"
    path.write_bytes(
        b"".join(
            orjson.dumps({"id": f"d{i}", "text": t}) + b"\n" for i, t in enumerate(lee_texts[:30])
        )
    )
    config = make_config(tmp_path / "run", {"reader": "jsonl", "path": str(path)}, True)
    run(config)
    with sqlite3.connect(tmp_path / "run" / "ledger.sqlite") as db:
        (stem,) = db.execute("SELECT stem FROM parts ORDER BY path LIMIT 1").fetchone()
        db.execute("UPDATE parts SET path = '../victim.parquet' WHERE stem = ?", (stem,))
    assert len(list(read_documents(tmp_path / "run"))) == 20  # the escaping entry is not read
    again = run(config)
    assert victim.read_bytes() == b"precious"
    assert again.counts["out"] == 10  # the damaged part's documents were processed again
    assert sorted(d.id for d in read_documents(tmp_path / "run")) == sorted(
        f"d{i}" for i in range(30)
    )


class _Payload:
    """Unpickling this creates a file: proof that a pickle was loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickle_planted_as_a_cache_entry_is_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"
    config = make_config(tmp_path / "run", {"reader": "lee-news", "limit": 20})
    first = run(config)
    expected = [d.to_dict() for d in read_documents(first.run_dir)]
    cache = CacheStore(first.run_dir / "cache")
    entries = sorted(cache.root.rglob("*.json"))
    assert len(entries) == 4  # 2 shards x 2 stages
    payload = pickle.dumps(_Payload(marker))
    import hashlib

    for n, entry in enumerate(entries):
        if n % 2:  # a pickle with a valid checksum header: still not JSON
            entry.write_bytes(hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
        else:
            entry.write_bytes(payload)
    for shard in first.manifest["shards"]:
        (first.run_dir / shard["files"]["parquet"]["path"]).unlink()

    again = run(config)

    assert not marker.exists()
    assert again.manifest["timings"]["shards_computed"] == 2
    assert all(not s.get("cached") for shard in again.manifest["shards"] for s in shard["stages"])
    assert [d.to_dict() for d in read_documents(again.run_dir)] == expected


MONSTERS = r"""
import gzip, json, os, resource, sys, time
import corpora
from corpora.feeds import FeedReader

folder, case = sys.argv[1], sys.argv[2]
head = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
tail = "</channel></rss>"
n = 100_000
if case == "deep-xml":
    data = head + "<item><title>Deep</title><description>x</description>" + "<a>" * n + "y" + "</a>" * n + "</item>" + tail
elif case == "deep-html":
    data = head + "<item><title>Deep</title><description>" + "&lt;div&gt;" * n + "y" + "&lt;/div&gt;" * n + "</description></item>" + tail
elif case == "many-items":
    data = head + "".join(f"<item><title>T{i}</title><guid>g{i}</guid></item>" for i in range(n // 5)) + tail
elif case == "gzip-bomb":
    data = None
    with gzip.open(os.path.join(folder, "feed.xml.gz"), "wb", compresslevel=9) as fh:
        fh.write(head.encode())
        block = b" " * (1 << 20)
        for _ in range(200):  # 200 MB of whitespace, about 200 KB compressed
            fh.write(block)
if data is not None:
    with open(os.path.join(folder, "feed.xml"), "w") as fh:
        fh.write(data)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
kinds = {}
for item in FeedReader(path=folder, max_file_bytes=20_000_000).read():
    kinds[type(item).__name__] = kinds.get(type(item).__name__, 0) + 1
seconds = time.perf_counter() - started
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
print(json.dumps({"seconds": seconds, "grown_mb": grown, "kinds": kinds}))
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("deep-xml", {"Document": 1}),  # 100,000 nested elements in an item
        ("deep-html", {"Document": 1}),  # 100,000 nested tags in escaped HTML
        ("many-items", {"Document": 20_000}),
        ("gzip-bomb", {"Rejected": 1}),  # 200 MB of whitespace in a 200 KB .gz
    ],
)
def test_gigantic_or_deeply_nested_feeds_take_bounded_time_and_memory(tmp_path, case, expected):
    done = subprocess.run(
        [sys.executable, "-c", MONSTERS, str(tmp_path), case],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["kinds"] == expected
    assert report["seconds"] < 60, report
    assert report["grown_mb"] < 250, report
