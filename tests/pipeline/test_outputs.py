"""Outputs others can read: file modes, nested Parquet layers, a bounded cache, no stray temp files."""

from __future__ import annotations

import os
import stat

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pipeline import Document
from pipeline.config import resolve_config
from pipeline.files import file_mode, remove_stale_temps
from pipeline.runner import run
from pipeline.settings import RunSettings
from pipeline.shard_files import read_shard, write_documents
from pipeline.stage_cache import apply_cache_keep, current_fingerprints, prune_cache
from pipeline.store import read_documents


def lee_config(tmp_path, stages, **execution):
    return resolve_config(
        {
            "name": "outputs",
            "corpus": {"reader": "lee-news", "limit": 60},
            "stages": stages,
            "execution": {"shard_size": 20, **execution},
            "output": {"dir": str(tmp_path / "run"), "formats": ["parquet", "jsonl"]},
        }
    )


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    file_mode.cache_clear()
    yield
    os.umask(old)
    file_mode.cache_clear()


def test_run_files_follow_the_process_umask(tmp_path, umask_022):
    result = run(lee_config(tmp_path, [{"tokenize": {}}]))
    files = [p for p in result.run_dir.rglob("*") if p.is_file() and p.name != ".lock"]
    assert any(p.suffix == ".parquet" for p in files) and any("cache" in p.parts for p in files)
    modes = {
        p.relative_to(result.run_dir).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in files
    }
    assert {m for m in modes.values()} == {0o644}, modes


def annotated_documents() -> list[Document]:
    first = Document.from_text(
        "Angela Merkel met Emmanuel Macron in Berlin. She said he was late.", id="a"
    )
    first.set_tokens([0, 7, 14, 18], [6, 13, 17, 26])
    first.tokens.pos = ["PROPN", "PROPN", "VERB", "PROPN"]
    first.sentences = [first.span(0, 44), first.span(45, 66)]
    first.entities = [
        first.span(0, 13, "PERSON"),
        first.span(18, 33, "PERSON"),
        first.span(37, 43, "GPE"),
    ]
    first.coref = [
        [first.span(0, 13), first.span(45, 48)],
        [first.span(18, 33), first.span(54, 56)],
    ]
    first.vectors = {"mean": [0.25, -1.5, 3.0e-7]}
    second = Document.from_text("No layers here at all.", id="b", meta={"source": "x.txt"})
    second.normalized = "no layers here at all."
    return [first, second]


def test_parquet_layers_are_nested_types_and_round_trip(tmp_path):
    docs = annotated_documents()
    path = tmp_path / "shard.parquet"
    write_documents(path, docs, "parquet")
    table = pq.read_table(path)
    schema = table.schema
    span = pa.struct([("start", pa.int64()), ("end", pa.int64())])
    assert schema.field("entities").type == pa.list_(
        pa.struct([("start", pa.int64()), ("end", pa.int64()), ("label", pa.string())])
    )
    assert schema.field("sentences").type == pa.list_(pa.list_(pa.int64()))
    assert schema.field("coref").type == pa.list_(pa.list_(span))
    # a reader reaches the labels and the token strings without parsing JSON or slicing
    labels = pc.struct_field(pc.list_flatten(table["entities"]), "label").to_pylist()
    assert labels == ["PERSON", "PERSON", "GPE"]
    assert table["tokens.text"].to_pylist() == [["Angela", "Merkel", "met", "Emmanuel"], None]
    assert table["entities"].to_pylist()[1] is None
    back = list(read_shard(path))
    assert [d.to_dict() for d in back] == [d.to_dict() for d in docs]
    assert back[0].entities[2].text == "Berlin" and back[0].coref[1][1].text == "he"


def test_parquet_written_with_json_string_layers_still_reads(tmp_path):
    doc = annotated_documents()[0]
    d = doc.to_dict()
    old = pa.table(
        {
            "id": [d["id"]],
            "text": [d["text"]],
            "meta": [orjson.dumps(d["meta"]).decode()],
            "normalized": pa.array([None], pa.string()),
            "sentences": [d["sentences"]],
            **{k: [orjson.dumps(d[k]).decode()] for k in ("entities", "coref", "vectors")},
            "alignment": pa.array([None], pa.string()),
            "tokens.start": [d["tokens"]["start"]],
            "tokens.end": [d["tokens"]["end"]],
            "tokens.pos": [d["tokens"]["pos"]],
        }
    )
    pq.write_table(old, tmp_path / "old.parquet")
    assert [x.to_dict() for x in read_shard(tmp_path / "old.parquet")] == [d]


def test_run_documents_round_trip_through_parquet_and_jsonl(tmp_path):
    config = lee_config(tmp_path, [{"normalize": {}}, {"tokenize": {}}, {"sentences": {}}])
    run_dir = run(config).run_dir
    parquet = [d.to_dict() for d in read_documents(run_dir)]
    jsonl = [
        d.to_dict()
        for shard in sorted(run_dir.glob("documents/*.jsonl"))
        for d in read_shard(shard)
    ]
    assert parquet == jsonl and len(parquet) == 60


def cache_entries(run_dir):
    return {p.stem for p in (run_dir / "cache").glob("??/*.json")}


def test_cache_prune_keeps_only_the_current_chains(tmp_path):
    first = run(lee_config(tmp_path, [{"tokenize": {}}, {"stopwords": {}}]))
    before = cache_entries(first.run_dir)
    assert len(before) == 6  # 3 shards x 2 stages
    second_config = lee_config(tmp_path, [{"tokenize": {}}, {"stopwords": {"lists": ["sklearn"]}}])
    second = run(second_config)
    assert len(cache_entries(second.run_dir)) == 9  # the old stopwords entries linger

    runner = CliRunner()
    from cli import app

    outcome = runner.invoke(app, ["cache", "prune", str(second.run_dir)])
    assert outcome.exit_code == 0, outcome.output
    assert outcome.output.startswith("removed 3 cache entries (")
    kept = cache_entries(second.run_dir)
    stages = RunSettings.from_config(second_config).stages
    assert kept == current_fingerprints(second.manifest["shards"], stages)
    assert len(kept) == 6
    # a re-run still resumes everything from the kept entries
    again = run(second_config)
    assert again.manifest["documents"]["out"] == 60
    assert prune_cache(second.run_dir, kept).removed == 0


def test_cache_keep_current_and_a_byte_budget(tmp_path):
    first = run(lee_config(tmp_path, [{"tokenize": {}}]))
    config = lee_config(tmp_path, [{"tokenize": {"backend": "regex"}}])
    second = run(config)
    stages = RunSettings.from_config(config).stages
    shards = second.manifest["shards"]
    assert apply_cache_keep(second.run_dir, shards, stages, "all") is None
    old = cache_entries(second.run_dir) - current_fingerprints(shards, stages)
    sizes = sorted(
        p.stat().st_size for p in (first.run_dir / "cache").glob("??/*.json") if p.stem in old
    )
    kept_some = apply_cache_keep(second.run_dir, shards, stages, sizes[0])
    assert kept_some is not None and kept_some.removed == len(old) - 1
    pruned = apply_cache_keep(second.run_dir, shards, stages, "current")
    assert pruned is not None and pruned.removed == 1 and pruned.freed_bytes > 0
    assert cache_entries(second.run_dir) == current_fingerprints(shards, stages)


def test_cache_keep_is_a_validated_execution_setting(tmp_path):
    assert lee_config(tmp_path, [])["execution"]["cache_keep"] == "all"
    assert lee_config(tmp_path, [], cache_keep=10_000_000)["execution"]["cache_keep"] == 10_000_000
    with pytest.raises(ValueError, match="cache_keep"):
        lee_config(tmp_path, [], cache_keep="some")


def test_stale_temp_folders_of_an_interrupted_fit_are_removed(tmp_path):
    spool = tmp_path / ".word2vec-spool-abc123.tmp"
    spool.mkdir()
    (spool / "tokens.jsonl").write_text('["a"]\n')
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / ".shard-00000.parquet.x1.tmp").write_bytes(b"half")
    assert remove_stale_temps(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["documents"]


def test_a_run_with_cache_keep_current_leaves_only_its_own_chains(tmp_path):
    run(lee_config(tmp_path, [{"tokenize": {}}]))  # entries a later config no longer uses
    config = lee_config(tmp_path, [{"tokenize": {"backend": "regex"}}], cache_keep="current")
    second = run(config)
    stages = RunSettings.from_config(config).stages
    kept = cache_entries(second.run_dir)
    assert kept and kept == current_fingerprints(second.manifest["shards"], stages)
