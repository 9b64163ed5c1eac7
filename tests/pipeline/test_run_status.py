"""How a run ends, as its manifest and `read_documents` tell it: complete, failed, interrupted
(Ctrl-C, SIGTERM), over its quarantine limit, or over an empty corpus. Real news text."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import orjson
import pytest

from pipeline.config import resolve_config
from pipeline.run_types import ProgressHook
from pipeline.runner import EmptyCorpusError, RunInterrupted, run
from pipeline.store import IncompleteRunError, read_documents

STAGES = [{"normalize": {}}, {"tokenize": {"backend": "regex"}}, {"sentences": {}}]


def write_jsonl(path: Path, texts: list[str]) -> Path:
    with path.open("wb") as fh:
        for n, text in enumerate(texts):
            fh.write(orjson.dumps({"id": f"doc-{n}", "text": text}) + b"\n")
    return path


def make_config(out: Path, corpus: dict, *, output=None, **execution) -> dict:
    return resolve_config(
        {
            "name": "status",
            "corpus": corpus,
            "stages": STAGES,
            "execution": {"shard_size": 20, **execution},
            "output": {"dir": str(out), **(output or {})},
        }
    )


def manifest_of(run_dir: Path) -> dict:
    return orjson.loads((run_dir / "manifest.json").read_bytes())


class EndAfter(ProgressHook):
    """Ends the run after `shards` shards: by raising `error`, or by sending this process `signum`."""

    def __init__(self, shards: int, *, error: BaseException | None = None, signum: int = 0):
        self.shards = shards
        self.error = error
        self.signum = signum
        self.done = 0

    def advance(self, documents: int, words: int, reused: bool) -> None:
        self.done += 1
        if self.done == self.shards:
            if self.signum:
                os.kill(os.getpid(), self.signum)
            elif self.error is not None:
                raise self.error


@pytest.fixture
def lee_corpus(tmp_path, lee_texts) -> Path:
    return write_jsonl(tmp_path / "lee.jsonl", lee_texts[:100])


def test_complete_run_is_readable_and_records_its_quarantine_check(tmp_path, lee_corpus):
    result = run(make_config(tmp_path / "run", {"reader": "jsonl", "path": str(lee_corpus)}))
    manifest = manifest_of(result.run_dir)
    assert manifest["status"] == "complete" and "reason" not in manifest
    assert manifest["quarantine_check"] == {"share": 0.0, "max_quarantined": 0.5, "exceeded": False}
    assert not result.quarantine_exceeded
    assert len(list(read_documents(result.run_dir))) == 100


def test_failing_run_leaves_failed_manifest_and_reading_it_is_refused(tmp_path, lee_corpus):
    out = tmp_path / "run"
    config = make_config(out, {"reader": "jsonl", "path": str(lee_corpus)})
    with pytest.raises(ValueError, match="lost the network share"):
        run(config, progress=EndAfter(2, error=ValueError("lost the network share")))
    manifest = manifest_of(out)
    assert manifest["status"] == "failed"
    assert manifest["reason"] == "ValueError: lost the network share"
    assert len(manifest["shards"]) == 2 and "finished" in manifest
    with pytest.raises(IncompleteRunError) as error:
        read_documents(out)  # refused at once, not at the first document
    message = str(error.value)
    assert "\n" not in message
    assert "status 'failed'" in message and "lost the network share" in message
    assert "run it again" in message and "allow_partial=True" in message
    partial = list(read_documents(out, allow_partial=True))
    assert [d.id for d in partial] == [f"doc-{n}" for n in range(40)]
    # the next run resumes and completes
    result = run(config)
    assert result.manifest["status"] == "complete" and "reason" not in result.manifest
    assert result.manifest["timings"]["shards_reused"] == 2
    assert len(list(read_documents(out))) == 100


def test_ctrl_c_leaves_interrupted_manifest(tmp_path, lee_corpus):
    out = tmp_path / "run"
    config = make_config(out, {"reader": "jsonl", "path": str(lee_corpus)})
    with pytest.raises(KeyboardInterrupt):
        run(config, progress=EndAfter(3, error=KeyboardInterrupt()))
    manifest = manifest_of(out)
    assert manifest["status"] == "interrupted"
    assert "interrupted (Ctrl-C)" in manifest["reason"] and "run again" in manifest["reason"]
    with pytest.raises(IncompleteRunError, match="status 'interrupted'"):
        read_documents(out)


def test_sigterm_leaves_interrupted_manifest_and_restores_the_handler(tmp_path, lee_corpus):
    out = tmp_path / "run"
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(RunInterrupted) as error:
        run(
            make_config(out, {"reader": "jsonl", "path": str(lee_corpus)}),
            progress=EndAfter(2, signum=signal.SIGTERM),
        )
    assert error.value.signal_number == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == before
    manifest = manifest_of(out)
    assert manifest["status"] == "interrupted"
    assert manifest["reason"].startswith("interrupted by SIGTERM")


def test_manifest_that_cannot_be_written_keeps_the_original_error(tmp_path, lee_corpus):
    out = tmp_path / "run"

    class BreakManifest(EndAfter):
        def advance(self, documents: int, words: int, reused: bool) -> None:
            self.done += 1
            if self.done == 2:
                (out / "manifest.json").unlink()
                (out / "manifest.json").mkdir()  # no manifest can be written over a folder
                raise ValueError("the original error")

    with pytest.raises(ValueError, match="the original error"):
        run(
            make_config(out, {"reader": "jsonl", "path": str(lee_corpus)}),
            progress=BreakManifest(2),
        )


def test_empty_folder_is_an_error_unless_allowed(tmp_path):
    empty = tmp_path / "inbox"
    empty.mkdir()
    (empty / ".gitkeep").write_text("")  # hidden: not an input file
    corpus = {"reader": "text", "path": str(empty)}
    with pytest.raises(EmptyCorpusError) as error:
        run(make_config(tmp_path / "run", corpus))
    message = str(error.value)
    assert "\n" not in message
    assert f"corpus.path {str(empty)!r} has no input" in message
    assert "corpus.allow_empty: true" in message
    assert manifest_of(tmp_path / "run")["status"] == "failed"

    result = run(make_config(tmp_path / "run2", {**corpus, "allow_empty": True}))
    assert result.manifest["status"] == "complete"
    assert result.counts == {"in": 0, "out": 0, "quarantined": 0}
    assert list(read_documents(result.run_dir)) == []


def test_empty_file_is_an_error_too(tmp_path):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    with pytest.raises(EmptyCorpusError, match="has no input"):
        run(
            make_config(
                tmp_path / "run", {"reader": "jsonl", "path": str(tmp_path / "empty.jsonl")}
            )
        )


def test_quarantined_share_above_the_limit_completes_and_is_flagged(tmp_path, lee_texts):
    # 60 of 100 articles are longer than max_chars: quarantined
    longest = sorted(lee_texts, key=len)
    texts = longest[-60:] + longest[:40]
    limit = len(longest[-61])
    corpus = write_jsonl(tmp_path / "lee.jsonl", texts)
    config = make_config(
        tmp_path / "run", {"reader": "jsonl", "path": str(corpus), "max_chars": limit}
    )
    result = run(config)
    assert result.counts == {"in": 100, "out": 40, "quarantined": 60}
    assert result.quarantine_exceeded
    manifest = manifest_of(result.run_dir)
    assert manifest["status"] == "complete"
    assert manifest["quarantine_check"] == {"share": 0.6, "max_quarantined": 0.5, "exceeded": True}
    assert len((result.run_dir / "quarantine.jsonl").read_text().splitlines()) == 60
    assert len(list(read_documents(result.run_dir))) == 40
    relaxed = make_config(
        tmp_path / "run",
        {"reader": "jsonl", "path": str(corpus), "max_chars": limit},
        max_quarantined=0.6,
    )
    assert not run(relaxed).quarantine_exceeded  # 0.6 is not above 0.6


def test_incremental_dataset_is_readable_when_its_last_run_completed(
    tmp_path, lee_texts, write_feed
):
    feeds = tmp_path / "feeds"
    date = "Tue, 01 Dec 2026 08:00:00 GMT"
    write_feed(feeds / "a.xml", [(f"a-{n}", text, date) for n, text in enumerate(lee_texts[:30])])
    out = tmp_path / "dataset"
    config = make_config(out, {"reader": "feeds", "path": str(feeds)}, output={"incremental": True})
    run(config)
    assert len(list(read_documents(out))) == 30
    write_feed(feeds / "b.xml", [(f"b-{n}", text, date) for n, text in enumerate(lee_texts[30:90])])
    with pytest.raises(KeyboardInterrupt):
        run(config, progress=EndAfter(1, error=KeyboardInterrupt()))
    assert manifest_of(out)["status"] == "interrupted"
    with pytest.raises(IncompleteRunError, match="status 'interrupted'"):
        read_documents(out)
    assert len(list(read_documents(out, allow_partial=True))) >= 30
    run(config)
    ids = [d.id for d in read_documents(out)]
    assert len(ids) == len(set(ids)) == 90


def test_represent_learners_read_the_run_while_it_is_open(tmp_path, lee_corpus):
    config = make_config(tmp_path / "run", {"reader": "jsonl", "path": str(lee_corpus)})
    config["represent"] = {"bow": {"min_df": 2}}
    config = resolve_config(config)
    result = run(config)
    assert result.manifest["status"] == "complete"
    assert (result.run_dir / "represent" / "bow").is_dir()


def test_missing_folder_or_manifest_is_refused(tmp_path):
    with pytest.raises(IncompleteRunError, match="no readable manifest.json"):
        read_documents(tmp_path / "nothing-here")
