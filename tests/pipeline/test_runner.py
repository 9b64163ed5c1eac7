"""The streaming runner on real news text: outputs, counts, cache, resume, executors, quarantine."""

from __future__ import annotations

import orjson
import pytest
import yaml

from pipeline import Document, Pipeline, register
from pipeline.config import apply_overrides, load_config, resolve_config
from pipeline.runner import run
from pipeline.stage import Stage
from pipeline.store import read_documents

STAGES = [
    {"normalize": {}},
    {"tokenize": {"backend": "spacy"}},
    {"sentences": {}},
    {"stopwords": {"lists": ["spacy"]}},
]


def make_config(tmp_path, corpus, *, stages=STAGES, overrides=(), **execution):
    raw = {
        "name": "test",
        "corpus": corpus,
        "stages": stages,
        "execution": {"shard_size": 40, **execution},
        "output": {"dir": str(tmp_path / "run")},
    }
    return resolve_config(apply_overrides(load_config(raw), list(overrides)))


def test_run_writes_documents_manifest_and_resolved_config(tmp_path, lee_texts):
    config = make_config(tmp_path, {"reader": "lee-news"})
    result = run(config)
    manifest = result.manifest
    assert manifest["documents"] == {"in": 300, "out": 300, "quarantined": 0}
    assert manifest["status"] == "complete"
    assert [s["name"] for s in manifest["stages"]] == [
        "read",
        "normalize",
        "tokenize",
        "sentences",
        "stopwords",
    ]
    assert {"python", "spacy", "pyarrow"} <= set(manifest["versions"])
    assert len(manifest["shards"]) == 8  # 300 documents / 40 per shard
    written = yaml.safe_load((result.run_dir / "config.yaml").read_text())
    assert written == config  # every default visible
    docs = list(read_documents(result.run_dir))
    assert [d.text for d in docs] == lee_texts
    # the same stages in memory give the same documents
    nlp = Pipeline.from_config({"stages": STAGES})
    expected = list(nlp.pipe(Document(id=d.id, text=d.text, meta=d.meta) for d in docs))
    assert [d.to_dict() for d in docs] == [d.to_dict() for d in expected]
    assert all(d.text[t.start : t.end] == t.text for d in docs for t in d.tokens)


def test_rerun_does_no_stage_work_and_changed_stage_recomputes_from_there(tmp_path):
    config = make_config(tmp_path, {"reader": "lee-news"})
    first = run(config)
    assert first.manifest["timings"]["shards_computed"] == 8
    again = run(config)
    assert again.manifest["timings"]["shards_computed"] == 0
    assert again.manifest["timings"]["shards_reused"] == 8
    assert again.manifest["documents"] == first.manifest["documents"]

    changed = make_config(
        tmp_path, {"reader": "lee-news"}, overrides=["stages.stopwords.lists=[sklearn]"]
    )
    third = run(changed)
    assert third.manifest["timings"]["shards_computed"] == 8
    for shard in third.manifest["shards"]:
        cached = [bool(s.get("cached")) for s in shard["stages"]]
        assert cached == [True, True, True, False]  # normalize, tokenize, sentences reused
    docs = list(read_documents(third.run_dir))
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    flagged = {t.norm_.lower() for d in docs for t in d.tokens if t.is_stop}
    assert flagged and flagged <= set(ENGLISH_STOP_WORDS)


def test_processes_executor_gives_identical_outputs(tmp_path):
    serial = run(make_config(tmp_path / "a", {"reader": "lee-news"}))
    parallel = run(
        make_config(tmp_path / "b", {"reader": "lee-news"}, executor="processes", workers=2)
    )
    assert parallel.manifest["documents"] == serial.manifest["documents"]
    a = [d.to_dict() for d in read_documents(serial.run_dir)]
    b = [d.to_dict() for d in read_documents(parallel.run_dir)]
    assert a == b
    assert [s["fingerprint"] for s in serial.manifest["shards"]] == [
        s["fingerprint"] for s in parallel.manifest["shards"]
    ]


def test_bad_documents_are_quarantined_with_reasons_and_counted(tmp_path, lee_texts):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, text in enumerate(lee_texts[:5]):
        (corpus / f"good-{i}.txt").write_text(text, encoding="utf-8")
    (corpus / "empty.txt").write_text("   \n", encoding="utf-8")
    (corpus / "latin1.txt").write_bytes(
        "Café owners in Montréal said prices rose.".encode("latin-1")
    )
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (corpus / "huge.txt").write_text("word " * 5000, encoding="utf-8")
    config = make_config(tmp_path, {"reader": "text", "path": str(corpus), "max_chars": 10_000})
    result = run(config)
    counts = result.manifest["documents"]
    assert counts == {"in": 9, "out": 5, "quarantined": 4}
    records = [
        orjson.loads(line)
        for line in (result.run_dir / "quarantine.jsonl").read_text().splitlines()
    ]
    reasons = {r["source"].rsplit("/", 1)[-1]: r["reason"] for r in records}
    assert set(reasons) == {"empty.txt", "latin1.txt", "binary.txt", "huge.txt"}
    assert "empty" in reasons["empty.txt"]
    assert "oversized" in reasons["huge.txt"] and "max_chars" in reasons["huge.txt"]
    assert "utf-8" in reasons["latin1.txt"].lower()
    assert "binary" in reasons["binary.txt"].lower()


@register("stage", "test-fails-on-marker")
class FailsOnMarker(Stage):
    """Test stage: raises on documents containing a marker, like a buggy third-party stage."""

    def __init__(self, *, marker: str = "EXPLODE"):
        self.marker = marker

    def process(self, doc):
        if self.marker in doc.text:
            raise ValueError(f"cannot handle {self.marker}")
        return doc


def test_a_stage_failing_on_one_document_quarantines_only_that_document(tmp_path, lee_texts):
    path = tmp_path / "docs.jsonl"
    lines = [{"id": f"d{i}", "text": t} for i, t in enumerate(lee_texts[:20])]
    lines[7]["text"] += " EXPLODE"
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    stages = [{"tokenize": {}}, {"test-fails-on-marker": {}}, {"stopwords": {}}]
    result = run(make_config(tmp_path, {"reader": "jsonl", "path": str(path)}, stages=stages))
    assert result.manifest["documents"] == {"in": 20, "out": 19, "quarantined": 1}
    record = orjson.loads((result.run_dir / "quarantine.jsonl").read_text().splitlines()[0])
    assert record["id"] == "d7" and record["stage"] == "test-fails-on-marker"
    assert "cannot handle EXPLODE" in record["reason"]
    stage_rows = {s["name"]: s for s in result.manifest["stages"]}
    assert stage_rows["test-fails-on-marker"]["quarantined"] == 1
    assert sorted(d.id for d in read_documents(result.run_dir)) == sorted(
        f"d{i}" for i in range(20) if i != 7
    )


def test_corrupted_shard_is_detected_and_recomputed(tmp_path):
    config = make_config(tmp_path, {"reader": "lee-news"})
    first = run(config)
    shard = first.run_dir / first.manifest["shards"][2]["files"]["parquet"]["path"]
    shard.write_bytes(shard.read_bytes()[:100])  # truncated
    again = run(config)
    assert again.manifest["timings"]["shards_computed"] == 1
    assert len(list(read_documents(again.run_dir))) == 300


def test_smaller_corpus_on_rerun_leaves_no_stale_shards(tmp_path):
    run(make_config(tmp_path, {"reader": "lee-news"}))
    result = run(make_config(tmp_path, {"reader": "lee-news", "limit": 50}))
    assert result.manifest["documents"]["in"] == 50
    assert len(list((result.run_dir / "documents").glob("shard-*"))) == 2
    assert len(list(read_documents(result.run_dir))) == 50


def test_limit_and_missing_path(tmp_path):
    from pipeline.config import ConfigError

    with pytest.raises(ConfigError, match=r"corpus.path: '.*nowhere' does not exist"):
        run(make_config(tmp_path, {"reader": "text", "path": str(tmp_path / "nowhere")}))
