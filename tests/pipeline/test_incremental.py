"""Incremental runs over a folder of feeds: only new items, appended, partitioned, counted."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from corpora.feeds import FeedReader
from pipeline.config import resolve_config
from pipeline.runner import RunError, run
from pipeline.store import read_documents

STAGES = [{"normalize": {}}, {"tokenize": {"backend": "regex"}}, {"sentences": {}}]


def day(i: int) -> str:
    return f"Mon, {1 + i % 4:02d} Apr 2024 07:30:00 GMT"


def make_config(tmp_path: Path, path: Path, reader: str = "feeds", **execution) -> dict:
    return resolve_config(
        {
            "name": "daily",
            "corpus": {"reader": reader, "path": str(path)},
            "stages": STAGES,
            "execution": {"shard_size": 25, **execution},
            "output": {"dir": str(tmp_path / "run"), "incremental": True},
        }
    )


def ids(run_dir: Path) -> list[str]:
    return [d.id for d in read_documents(run_dir)]


def test_second_run_processes_nothing_and_new_items_are_appended(tmp_path, lee_texts, write_feed):
    feeds = tmp_path / "feeds"
    write_feed(feeds / "world.xml", [(f"w{i}", lee_texts[i], day(i)) for i in range(60)])
    write_feed(feeds / "local.xml", [(f"l{i}", lee_texts[100 + i], None) for i in range(30)])
    config = make_config(tmp_path, feeds)

    first = run(config)
    assert first.counts == {"in": 90, "out": 90, "updated": 0, "quarantined": 0, "skipped_seen": 0}
    partitions = sorted(p.name for p in (first.run_dir / "documents").iterdir())
    assert partitions == [f"published=2024-04-0{d}" for d in range(1, 5)] + ["published=unknown"]
    assert sorted(ids(first.run_dir)) == sorted(
        [f"w{i}" for i in range(60)] + [f"l{i}" for i in range(30)]
    )

    second = run(config)
    assert second.counts == {"in": 90, "out": 0, "updated": 0, "quarantined": 0, "skipped_seen": 90}
    assert second.manifest["seen_before"] == {"earlier_runs": 90, "this_run": 0}
    assert second.manifest["timings"]["shards_computed"] == 0
    assert second.manifest["dataset"]["documents"] == 90

    # an hour later: the world feed has 6 new items on top, 6 old ones dropped off
    write_feed(feeds / "world.xml", [(f"w{i}", lee_texts[i], day(i)) for i in range(6, 66)])
    third = run(config)
    assert third.counts == {"in": 90, "out": 6, "updated": 0, "quarantined": 0, "skipped_seen": 84}
    got = ids(third.run_dir)
    assert len(got) == len(set(got)) == 96
    assert third.manifest["dataset"]["runs"] == 3


def test_the_dataset_reads_as_a_hive_partitioned_parquet_dataset(tmp_path, lee_texts, write_feed):
    import pyarrow.dataset as ds

    feeds = tmp_path / "feeds"
    write_feed(feeds / "world.xml", [(f"w{i}", lee_texts[i], day(i)) for i in range(40)])
    result = run(make_config(tmp_path, feeds))
    table = ds.dataset(
        result.run_dir / "documents", format="parquet", partitioning="hive"
    ).to_table(columns=["id", "published"])
    assert table.num_rows == 40
    assert {str(v) for v in table.column("published").to_pylist()} == {
        "2024-04-01",
        "2024-04-02",
        "2024-04-03",
        "2024-04-04",
    }


def test_same_story_in_two_feeds_is_kept_once_with_both_sources(tmp_path, lee_texts, write_feed):
    feeds = tmp_path / "feeds"
    agency = write_feed(feeds / "agency.xml", [(f"s{i}", lee_texts[i], day(i)) for i in range(50)])
    paper = write_feed(
        feeds / "paper.xml", [(f"s{i}", lee_texts[i], day(i)) for i in range(40, 70)]
    )
    config = make_config(tmp_path, feeds)

    first = run(config)
    assert first.counts == {"in": 80, "out": 70, "updated": 0, "quarantined": 0, "skipped_seen": 10}
    assert first.manifest["seen_before"] == {"earlier_runs": 0, "this_run": 10}
    docs = {d.id: d for d in read_documents(first.run_dir)}
    assert len(docs) == 70
    assert docs["s45"].meta["sources"] == [str(agency), str(paper)]
    assert docs["s10"].meta["sources"] == [str(agency)]
    assert docs["s65"].meta["sources"] == [str(paper)]

    # the next day a third feed picks up a story the dataset already has
    wire = write_feed(
        feeds / "wire.xml", [("s5", lee_texts[5], day(5)), ("s200", lee_texts[200], None)]
    )
    second = run(config)
    assert second.counts == {"in": 82, "out": 1, "updated": 0, "quarantined": 0, "skipped_seen": 81}
    docs = {d.id: d for d in read_documents(second.run_dir)}
    assert len(docs) == 71
    assert docs["s5"].meta["sources"] == [str(agency), str(wire)]
    assert second.manifest["dataset"]["parts_rewritten_for_sources"] == 1
    assert run(config).manifest["dataset"]["parts_rewritten_for_sources"] == 0


def test_unchanged_feed_files_are_not_parsed_again_but_their_items_are_counted(
    tmp_path, lee_texts, write_feed, monkeypatch
):
    feeds = tmp_path / "feeds"
    for n in range(4):
        write_feed(
            feeds / f"f{n}.xml", [(f"f{n}-{i}", lee_texts[n * 20 + i], day(i)) for i in range(20)]
        )
    config = make_config(tmp_path, feeds)
    first = run(config)
    assert first.manifest["input_files"] == {"read": 4, "unchanged_skipped": 0}

    parsed: list[str] = []
    read_feed = FeedReader.read_file
    monkeypatch.setattr(
        FeedReader,
        "read_file",
        lambda self, corpus_file: (
            parsed.append(corpus_file.path.name) or read_feed(self, corpus_file)
        ),
    )
    second = run(config)
    assert parsed == []
    assert second.manifest["input_files"] == {"read": 0, "unchanged_skipped": 4}
    assert second.counts == {"in": 80, "out": 0, "updated": 0, "quarantined": 0, "skipped_seen": 80}
    assert second.manifest["seen_before"] == {"earlier_runs": 80, "this_run": 0}

    write_feed(feeds / "f2.xml", [(f"f2-{i}", lee_texts[40 + i], day(i)) for i in range(22)])
    third = run(config)
    assert parsed == ["f2.xml"]
    assert third.manifest["input_files"] == {"read": 1, "unchanged_skipped": 3}
    assert third.counts == {"in": 82, "out": 2, "updated": 0, "quarantined": 0, "skipped_seen": 80}
    assert sorted(ids(third.run_dir)) == sorted(
        [f"f{n}-{i}" for n in (0, 1, 3) for i in range(20)] + [f"f2-{i}" for i in range(22)]
    )

    # a run limited to the first items reads files partially: it neither skips nor records them
    limited = {**config, "corpus": {**config["corpus"], "limit": 30}}
    assert run(limited).manifest["input_files"] == {"read": 0, "unchanged_skipped": 0}
    assert run(config).manifest["input_files"] == {"read": 0, "unchanged_skipped": 4}


def test_a_schema_1_ledger_is_upgraded_and_its_files_are_read_again(
    tmp_path, lee_texts, write_feed
):
    import sqlite3

    from pipeline.ledger import LEDGER_NAME

    feeds = tmp_path / "feeds"
    write_feed(feeds / "world.xml", [(f"w{i}", lee_texts[i], day(i)) for i in range(10)])
    config = make_config(tmp_path, feeds)
    first = run(config)
    with sqlite3.connect(first.run_dir / LEDGER_NAME) as db:  # what schema 1 looked like
        for table, column in (("files", "items"), ("parts", "size"), ("parts", "mtime_ns")):
            db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        db.execute("UPDATE info SET value = '1' WHERE key = 'schema'")
    second = run(config)
    assert second.manifest["input_files"] == {"read": 1, "unchanged_skipped": 0}
    assert second.counts == {"in": 10, "out": 0, "updated": 0, "quarantined": 0, "skipped_seen": 10}
    assert run(config).manifest["input_files"] == {"read": 0, "unchanged_skipped": 1}


def test_parts_a_killed_run_never_committed_are_ignored_then_removed(tmp_path, lee_texts):
    path = tmp_path / "docs.jsonl"
    path.write_bytes(
        b"".join(
            orjson.dumps({"id": f"d{i}", "text": t}) + b"\n" for i, t in enumerate(lee_texts[:30])
        )
    )
    config = make_config(tmp_path, path, reader="jsonl")
    first = run(config)
    committed = sorted((first.run_dir / "documents").rglob("part-*"))
    # what a run killed between writing a part and committing it leaves behind
    stray = first.run_dir / "documents" / "published=unknown" / "part-000002-00000.parquet"
    shutil.copy(committed[0], stray)
    assert sorted(ids(first.run_dir)) == sorted(f"d{i}" for i in range(30))  # never read
    second = run(config)
    assert not stray.exists()
    assert second.manifest["dataset"]["uncommitted_files_removed"] == 1
    assert second.counts["out"] == 0 and len(ids(second.run_dir)) == 30


def test_incremental_and_plain_runs_do_not_share_a_folder(tmp_path, lee_texts, write_feed):
    feeds = tmp_path / "feeds"
    write_feed(feeds / "world.xml", [(f"w{i}", lee_texts[i], day(i)) for i in range(10)])
    config = make_config(tmp_path, feeds)
    run(config)
    plain = {**config, "output": {**config["output"], "incremental": False}}
    with pytest.raises(RunError, match="holds an incremental dataset .* output.incremental: true"):
        run(plain)
    other = {**plain, "output": {**plain["output"], "dir": str(tmp_path / "plain")}}
    run(other)
    with pytest.raises(RunError, match="holds a non-incremental run"):
        run({**config, "output": {**config["output"], "dir": str(tmp_path / "plain")}})


@pytest.mark.slow
def test_real_and_malformed_feeds_counts_add_up_and_a_second_run_adds_nothing(
    tmp_path, shared_data
):
    config = make_config(tmp_path, shared_data / "feeds" / "**" / "*")
    first = run(config)
    counts = first.counts
    assert counts["in"] == counts["out"] + counts["quarantined"] + counts["skipped_seen"]
    assert counts["out"] > 400 and counts["quarantined"] > 0
    records = [
        orjson.loads(line)
        for line in (first.run_dir / "quarantine.jsonl").read_bytes().splitlines()
    ]
    assert len(records) == counts["quarantined"]
    assert all(r["reason"] and r["source"] for r in records)
    assert any(r["source"].endswith("notafeed.html") for r in records)
    docs = list(read_documents(first.run_dir))
    assert len(docs) == len({d.id for d in docs}) == counts["out"]
    assert all(d.meta["sources"] for d in docs)

    second = run(config)
    assert second.counts == {
        "in": counts["in"],
        "out": 0,
        "updated": 0,
        "quarantined": 0,
        "skipped_seen": counts["in"],
    }
    assert len((second.run_dir / "quarantine.jsonl").read_bytes().splitlines()) == len(records)


def _items_in_feed(path: Path) -> int:
    """RSS `item` and Atom `entry` elements of a well-formed feed, counted by an XML parse."""
    from defusedxml import ElementTree

    root = ElementTree.parse(path).getroot()
    return sum(1 for e in root.iter() if str(e.tag).rsplit("}", 1)[-1] in ("item", "entry"))


def test_every_item_of_every_feed_file_comes_out_or_is_quarantined(tmp_path, shared_data):
    feeds = shared_data / "feeds"
    result = run(make_config(tmp_path, feeds / "**" / "*"))
    per_file: dict[str, int] = {}
    for doc in read_documents(result.run_dir):
        for source in doc.meta["sources"]:
            per_file[source] = per_file.get(source, 0) + 1
    quarantined: dict[str, list[dict]] = {}
    for line in (result.run_dir / "quarantine.jsonl").read_bytes().splitlines():
        record = orjson.loads(line)
        quarantined.setdefault(record["source"], []).append(record)

    real = sorted((feeds / "real").iterdir())
    for path in real:  # well-formed: each item is a document, none is lost
        source = path.as_posix()
        assert per_file.get(source, 0) == _items_in_feed(path), path.name
        assert source not in quarantined
    for path in sorted((feeds / "malformed").iterdir()):  # each file accounted for
        source = path.as_posix()
        assert per_file.get(source, 0) + len(quarantined.get(source, [])) > 0, path.name
        assert all(r["reason"] for r in quarantined.get(source, []))


def test_an_edited_story_replaces_its_stale_version_and_keeps_its_first_date(
    tmp_path, lee_texts, write_feed
):
    feeds = tmp_path / "feeds"
    items = [(f"story-{i}", lee_texts[i], day(i)) for i in range(30)]
    write_feed(feeds / "wire.xml", items)
    config = make_config(tmp_path, feeds)
    first = run(config)
    before = {d.id: d for d in read_documents(first.run_dir)}

    # the wire corrects story 7 (new text, new date) and carries one new story
    edited_text = lee_texts[7] + " Corrected: an earlier version misstated the figures."
    items[7] = ("story-7", edited_text, day(20))
    write_feed(feeds / "wire.xml", [*items, ("story-30", lee_texts[30], day(3))])
    second = run(config)

    assert second.counts == {"in": 31, "out": 1, "updated": 1, "quarantined": 0, "skipped_seen": 29}
    docs = list(read_documents(second.run_dir))
    assert len(docs) == len({d.id for d in docs}) == 31  # the stale version is gone
    story = next(d for d in docs if d.id == "story-7")
    assert story.text.endswith("misstated the figures.")
    assert story.meta["published"] == before["story-7"].meta["published"]  # the first date
    assert story.meta["modified"] != story.meta["published"]
    assert story.meta["sources"] == before["story-7"].meta["sources"]
    unchanged = {d.id: d.to_dict() for d in docs if d.id not in ("story-7", "story-30")}
    assert unchanged == {k: d.to_dict() for k, d in before.items() if k != "story-7"}
    assert next(d for d in docs if d.id == "story-30").text.endswith(lee_texts[30])

    third = run(config)  # nothing new, nothing edited
    assert third.counts == {"in": 31, "out": 0, "updated": 0, "quarantined": 0, "skipped_seen": 31}
