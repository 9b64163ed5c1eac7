"""Corpora and run folders behind fsspec URLs, with fsspec's in-process `memory://` filesystem
standing in for an object store: reading remote inputs, staging, publishing, resuming elsewhere."""

from __future__ import annotations

import bz2
import gzip
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape

import fsspec
import orjson
import pytest
import yaml

from corpora.csv_rows import CsvReader
from corpora.feeds import FeedReader
from corpora.html_pages import HtmlReader
from corpora.jsonl import JsonlReader
from corpora.text import TextReader
from pipeline.config import ConfigError, resolve_config
from pipeline.document import Document, Rejected
from pipeline.runner import run
from pipeline.store import read_documents

ROOT = Path(__file__).resolve().parents[2]
STAGES = [{"normalize": {}}, {"tokenize": {"backend": "regex"}}, {"sentences": {}}]
MEMORY = fsspec.filesystem("memory")


@pytest.fixture(autouse=True)
def object_store(tmp_path, monkeypatch):
    """An empty `memory://` store for each test, and staging folders under tmp_path."""
    MEMORY.store.clear()
    MEMORY.pseudo_dirs.clear()
    MEMORY.pseudo_dirs.append("")
    monkeypatch.setenv("NLP_PIPELINE_STAGING", str(tmp_path / "staging"))
    yield MEMORY
    MEMORY.store.clear()
    MEMORY.pseudo_dirs.clear()
    MEMORY.pseudo_dirs.append("")


def upload(local: Path, url: str) -> str:
    """Copy a local file or folder (recursively, hidden files too) to a memory:// URL."""
    if local.is_dir():
        for path in sorted(local.rglob("*")):
            if path.is_file():
                MEMORY.pipe(f"{url}/{path.relative_to(local).as_posix()}", path.read_bytes())
    else:
        MEMORY.pipe(url, local.read_bytes())
    return url


def make_config(out: str, corpus: dict, output: dict | None = None, **execution) -> dict:
    return resolve_config(
        {
            "name": "remote",
            "corpus": corpus,
            "stages": STAGES,
            "execution": {"executor": "serial", "shard_size": 25, **execution},
            "output": {"dir": out, **(output or {})},
        }
    )


def comparable(items, prefix: str) -> list[tuple]:
    """Reader output with sources made relative to `prefix` (a local folder or a URL)."""
    out = []
    for item in items:
        if isinstance(item, Document):
            meta = dict(item.meta)
            source = meta.pop("source")
            assert source.startswith(prefix), source
            out.append(
                ("doc", item.id, item.text, orjson.dumps(meta, default=str), source[len(prefix) :])
            )
        else:
            assert isinstance(item, Rejected)
            assert item.source.startswith(prefix), item.source
            out.append(
                ("rejected", item.id, item.position, item.reason, item.source[len(prefix) :])
            )
    return out


def day(i: int) -> str:
    return f"Mon, {1 + i % 4:02d} Apr 2024 07:30:00 GMT"


@pytest.fixture
def jsonl_corpus(tmp_path, lee_texts) -> Path:
    """A folder of JSONL files: plain, gzip, bzip2, nested, a malformed line, a hidden file."""
    root = tmp_path / "corpus"
    (root / "world").mkdir(parents=True)
    (root / ".drafts").mkdir()

    def lines(start: int, stop: int) -> bytes:
        return b"".join(
            orjson.dumps({"id": f"a{i}", "text": lee_texts[i], "desk": f"d{i % 3}"}) + b"\n"
            for i in range(start, stop)
        )

    (root / "local.jsonl").write_bytes(lines(0, 20) + b"{not json\n")
    (root / "world" / "europe.jsonl.gz").write_bytes(gzip.compress(lines(20, 35)))
    (root / "world" / "asia.jsonl.bz2").write_bytes(bz2.compress(lines(35, 45)))
    (root / ".drafts" / "draft.jsonl").write_bytes(lines(45, 50))
    (root / "README.txt").write_text("not part of the corpus\n")
    return root


@pytest.mark.parametrize(
    "pattern",
    ["", "/", "/**/*.jsonl*", "/world/*.gz", "/local.jsonl", "/world/europe.jsonl.gz"],
    ids=["folder", "folder-slash", "recursive-glob", "glob", "file", "gzip-file"],
)
def test_jsonl_corpus_behind_a_url_reads_like_the_local_files(jsonl_corpus, pattern):
    url = upload(jsonl_corpus, "memory://bucket/corpus")
    local = list(JsonlReader(path=str(jsonl_corpus) + pattern).read())
    remote = list(JsonlReader(path=url + pattern).read())
    assert local and len(remote) == len(local)
    local_prefix = str(jsonl_corpus) + "/"
    assert comparable(remote, url + "/") == comparable(local, local_prefix)
    sources = {d.meta["source"] for d in remote if isinstance(d, Document)}
    assert all(s.startswith("memory://bucket/corpus/") for s in sources)
    assert not any(".drafts" in s or s.endswith(".txt") for s in sources)


def test_every_file_reader_reads_a_remote_corpus_like_the_local_one(tmp_path, lee_texts):
    root = tmp_path / "formats"
    root.mkdir()
    (root / "lines.txt.gz").write_bytes(gzip.compress("\n".join(lee_texts[:12]).encode()))
    rows = "id,text\n" + "".join(f'r{i},"{lee_texts[i][:300]}"\n' for i in range(12, 20))
    (root / "rows.csv").write_text(rows, encoding="utf-8")
    page = "<html><head><title>Bushfires</title></head><body><article><p>{}</p></article></body></html>"
    (root / "page.html").write_text(page.format(escape(lee_texts[20])), encoding="utf-8")
    url = upload(root, "memory://formats")
    readers = [
        (TextReader, {"mode": "line"}, "/lines.txt.gz"),
        (CsvReader, {"id_column": "id"}, "/rows.csv"),
        (HtmlReader, {}, ""),
    ]
    for cls, params, suffix in readers:
        local = list(cls(path=str(root) + suffix, **params).read())
        remote = list(cls(path=url + suffix, **params).read())
        assert local, cls.__name__
        prefix = "" if suffix else "/"
        assert comparable(remote, url + prefix) == comparable(local, str(root) + prefix)


@pytest.mark.parametrize("max_file_bytes", [50_000_000, 20_000])
def test_a_folder_of_feeds_behind_a_url_reads_like_the_local_folder(
    tmp_path, shared_data, max_file_bytes
):
    feeds = tmp_path / "feeds"
    shutil.copytree(shared_data / "feeds", feeds)  # real and malformed feeds
    big = sorted((feeds / "real").iterdir(), key=lambda p: p.stat().st_size)[-1]
    (feeds / "real" / f"{big.name}.gz").write_bytes(gzip.compress(big.read_bytes()))
    url = upload(feeds, "memory://feeds")

    local = list(FeedReader(path=str(feeds), max_file_bytes=max_file_bytes).read())
    remote = list(FeedReader(path=url + "/", max_file_bytes=max_file_bytes).read())
    assert comparable(remote, url + "/") == comparable(local, str(feeds) + "/")
    docs = [d for d in remote if isinstance(d, Document)]
    gz_source = f"{url}/real/{big.name}.gz"
    gz_rejections = [r for r in remote if isinstance(r, Rejected) and r.source == gz_source]
    if max_file_bytes > big.stat().st_size:  # everything read, the gzip file included
        assert len(docs) > 400
        assert any(d.meta["source"] == gz_source for d in docs) and not gz_rejections
    else:  # the gzip file decompresses past the limit: refused, with the reason
        assert not any(d.meta["source"] == gz_source for d in docs)
        assert len(gz_rejections) == 1 and "max_file_bytes" in gz_rejections[0].reason
    globbed = list(FeedReader(path=url + "/real/*.xml", max_file_bytes=max_file_bytes).read())
    assert comparable(globbed, url + "/real/") == comparable(
        FeedReader(path=str(feeds / "real" / "*.xml"), max_file_bytes=max_file_bytes).read(),
        str(feeds / "real") + "/",
    )


def news_corpus(tmp_path: Path, lee_texts: list[str], n: int = 90) -> Path:
    path = tmp_path / "news.jsonl"
    with path.open("wb") as fh:
        for i, text in enumerate(lee_texts[:n]):
            fh.write(orjson.dumps({"id": f"n{i}", "text": text}) + b"\n")
            if i == 10:
                fh.write(b'{"id": "broken", "text": 42}\n')  # quarantined
    return path


def test_a_run_to_a_memory_url_publishes_what_a_local_run_writes(tmp_path, lee_texts):
    corpus = {"reader": "jsonl", "path": str(news_corpus(tmp_path, lee_texts))}
    local = run(make_config(str(tmp_path / "local"), corpus))
    remote = run(make_config("memory://runs/news", corpus))

    assert remote.run_dir.parent == tmp_path / "staging"
    assert remote.counts == local.counts == {"in": 91, "out": 90, "quarantined": 1}
    counts = remote.counts
    assert counts["in"] == counts["out"] + counts["quarantined"]
    published = orjson.loads(MEMORY.cat_file("memory://runs/news/manifest.json"))
    assert published["documents"] == counts
    assert published["output_url"] == "memory://runs/news"
    assert published["status"] == "complete"
    assert [d.to_dict() for d in read_documents("memory://runs/news")] == [
        d.to_dict() for d in read_documents(local.run_dir)
    ]
    names = sorted(
        p.removeprefix("/runs/news/") for p in MEMORY.find("memory://runs/news", withdirs=False)
    )
    assert "documents/shard-00003.parquet" in names and "quarantine.jsonl" in names
    assert not [n for n in names if n.startswith(("cache/", ".")) or n.endswith(".tmp")]
    assert (remote.run_dir / "cache").is_dir()  # the cache stays in the staging folder

    again = run(make_config("memory://runs/news", corpus))  # same machine, nothing changed
    assert again.manifest["timings"]["shards_reused"] == 4


def test_a_fresh_staging_folder_resumes_from_the_published_run_and_drops_stale_shards(
    tmp_path, lee_texts
):
    corpus = {"reader": "jsonl", "path": str(news_corpus(tmp_path, lee_texts))}
    first = run(make_config("memory://runs/news", corpus))
    shards = len(first.manifest["shards"])
    assert shards == 4 and first.manifest["timings"]["shards_computed"] == 4

    shutil.rmtree(first.run_dir)  # another machine: nothing staged
    second = run(make_config("memory://runs/news", corpus))
    assert second.run_dir == first.run_dir
    assert second.manifest["timings"]["shards_reused"] == shards
    assert second.manifest["timings"]["shards_computed"] == 0
    assert second.counts == first.counts

    shutil.rmtree(second.run_dir)
    smaller = run(make_config("memory://runs/news", {**corpus, "limit": 40}))
    assert smaller.counts == {"in": 40, "out": 39, "quarantined": 1}
    assert smaller.manifest["timings"]["shards_reused"] == 1  # shard 0 is unchanged
    documents = sorted(MEMORY.glob("memory://runs/news/documents/*"))
    assert documents == [
        "/runs/news/documents/shard-00000.parquet",
        "/runs/news/documents/shard-00001.parquet",
    ]
    assert not MEMORY.glob("memory://runs/news/quarantine/shard-0000[23]*")
    assert len(list(read_documents("memory://runs/news"))) == 39


def test_a_run_published_from_another_machine_is_pulled_before_the_next_run(tmp_path, lee_texts):
    corpus = {"reader": "jsonl", "path": str(news_corpus(tmp_path, lee_texts))}
    here = {"staging": str(tmp_path / "here")}
    there = {"staging": str(tmp_path / "there")}
    run(make_config("memory://runs/news", {**corpus, "limit": 40}, here))
    elsewhere = run(make_config("memory://runs/news", corpus, there))
    assert elsewhere.manifest["timings"]["shards_reused"] == 1  # pulled what "here" published

    back_here = run(make_config("memory://runs/news", corpus, here))
    assert back_here.manifest["timings"]["shards_reused"] == 4
    assert back_here.manifest["timings"]["shards_computed"] == 0
    assert len(list(read_documents("memory://runs/news"))) == 90


def test_incremental_feeds_to_a_url_resume_on_a_fresh_machine(tmp_path, lee_texts, write_feed):
    feeds = tmp_path / "feeds"
    write_feed(feeds / "world.xml", [(f"w{i}", lee_texts[i], day(i)) for i in range(60)])
    write_feed(feeds / "local.xml", [(f"l{i}", lee_texts[100 + i], None) for i in range(30)])
    url = upload(feeds, "memory://inbox/feeds")

    def config(machine: str) -> dict:
        corpus = {"reader": "feeds", "path": url + "/"}
        output = {"incremental": True, "staging": str(tmp_path / machine)}
        return make_config("memory://runs/daily", corpus, output)

    first = run(config("a"))
    assert first.counts == {"in": 90, "out": 90, "updated": 0, "quarantined": 0, "skipped_seen": 0}
    assert MEMORY.exists("memory://runs/daily/ledger.sqlite")

    second = run(config("b"))
    assert second.counts == {"in": 90, "out": 0, "updated": 0, "quarantined": 0, "skipped_seen": 90}
    assert second.manifest["input_files"] == {"read": 0, "unchanged_skipped": 2}

    write_feed(feeds / "world.xml", [(f"w{i}", lee_texts[i], day(i)) for i in range(6, 66)])
    upload(feeds / "world.xml", url + "/world.xml")
    third = run(config("c"))
    assert third.counts == {"in": 90, "out": 6, "updated": 0, "quarantined": 0, "skipped_seen": 84}

    ids = [d.id for d in read_documents("memory://runs/daily")]
    expected = [f"w{i}" for i in range(66)] + [f"l{i}" for i in range(30)]
    assert len(ids) == len(set(ids)) and sorted(ids) == sorted(expected)
    docs = list(read_documents("memory://runs/daily"))
    assert all(d.meta["sources"][0].startswith(url + "/") for d in docs)


def _missing_backend() -> tuple[str, str]:
    """A protocol fsspec knows whose backend package is not installed here."""
    for protocol, package in (("s3", "s3fs"), ("gcs", "gcsfs"), ("abfs", "adlfs")):
        if importlib.util.find_spec(package) is None:
            return protocol, package
    pytest.skip("s3fs, gcsfs and adlfs are all installed")


@pytest.mark.parametrize("key", ["output.dir", "corpus.path"])
def test_a_url_without_its_backend_names_the_key_and_the_package(tmp_path, lee_texts, key):
    protocol, package = _missing_backend()
    url = f"{protocol}://bucket/news"
    corpus = {"reader": "jsonl", "path": str(news_corpus(tmp_path, lee_texts, 5))}
    out = str(tmp_path / "run")
    if key == "output.dir":
        out = url
    else:
        corpus["path"] = url + "/*.jsonl"
    with pytest.raises(
        ConfigError, match=rf"^{key}: '{protocol}://bucket/news.*pip install {package}$"
    ):
        run(make_config(out, corpus))


def test_unknown_protocols_and_missing_remote_corpora_are_config_errors(tmp_path, lee_texts):
    corpus = {"reader": "jsonl", "path": str(news_corpus(tmp_path, lee_texts, 5))}
    with pytest.raises(
        ConfigError, match=r"^output.dir: 'nosuch://bucket/x' has an unknown protocol"
    ):
        run(make_config("nosuch://bucket/x", corpus))
    with pytest.raises(
        ConfigError, match=r"^corpus.path: 'memory://empty/\*.jsonl' matches no file$"
    ):
        run(make_config(str(tmp_path / "run"), {**corpus, "path": "memory://empty/*.jsonl"}))
    with pytest.raises(
        ConfigError, match=r"^corpus.path: 'memory://empty/news.jsonl' does not exist$"
    ):
        run(make_config(str(tmp_path / "run"), {**corpus, "path": "memory://empty/news.jsonl"}))


def _cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NLP_PIPELINE_STAGING": str(tmp_path / "staging")}
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )


def test_cli_prints_one_line_and_exits_2_for_a_url_without_its_backend(tmp_path, lee_texts):
    protocol, package = _missing_backend()
    config = {
        "name": "cli-remote",
        "corpus": {"reader": "jsonl", "path": str(news_corpus(tmp_path, lee_texts, 5))},
        "stages": STAGES,
        "output": {"dir": f"{protocol}://bucket/runs/news"},
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    for command in ("run", "validate"):
        result = _cli(command, str(path), tmp_path=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert result.stderr.strip().splitlines() == [
            f"error: output.dir: '{protocol}://bucket/runs/news' needs the {package} package for "
            f"{protocol}:// URLs, which is not installed: pip install {package}"
        ]


def test_cli_run_to_a_url_says_where_it_published_and_staged(tmp_path, lee_texts):
    config = {
        "name": "cli-remote",
        "corpus": {"reader": "jsonl", "path": str(news_corpus(tmp_path, lee_texts, 30))},
        "stages": STAGES,
        "output": {"dir": "memory://runs/cli"},
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    result = _cli("run", "--quiet", str(path), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "documents: in 31 = out 30 + quarantined 1  ->  memory://runs/cli (staged in " in (
        result.stdout
    )
    assert str(tmp_path / "staging") in result.stdout
