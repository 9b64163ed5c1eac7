"""The run's tasks phase: a `tasks:` entry is fitted on the run's documents, saved, and skipped when unchanged.

The task here is a plain majority-class baseline written against `pipeline.interfaces.Task`
(the contract every task of the project implements); the documents are real Lee news
articles labelled by whether they mention a place, so the counts are the data's own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from pipeline.config import ConfigError, resolve_config
from pipeline.document import Document
from pipeline.interfaces import Task
from pipeline.registry import register
from pipeline.runner import run
from pipeline.store import read_documents

STAGES = [{"tokenize": {"backend": "regex"}}]


@register("task", "majority-baseline")
class MajorityBaseline:
    """Predicts the most frequent value of `meta[label]` for every document."""

    def __init__(self, *, label: str = "label", smoothing: float = 0.0):
        self.label = label
        self.smoothing = smoothing

    def fit(self, corpus: Iterable[Document], run_dir: Path) -> MajorityBaseline:
        (run_dir / "metrics.json").write_bytes(b"{}")  # written before the data is checked
        missing = sum(self.label not in doc.meta for doc in corpus)
        if missing:
            raise ConfigError(f"tasks.baseline.label: {missing} documents lack {self.label!r}")
        counts = Counter(str(doc.meta[self.label]) for doc in corpus)
        self.classes_ = sorted(counts)
        self.majority_ = counts.most_common(1)[0][0]
        metrics = self.evaluate(corpus)
        (run_dir / "metrics.json").write_bytes(orjson.dumps(metrics))
        with (run_dir / "predictions.jsonl").open("wb") as fh:
            for doc, prediction in zip(corpus, self.predict(corpus), strict=True):
                fh.write(orjson.dumps({"id": doc.id, **prediction}) + b"\n")
        return self

    def evaluate(self, corpus: Iterable[Document]) -> dict[str, Any]:
        labels = [str(doc.meta[self.label]) for doc in corpus]
        return {"accuracy": labels.count(self.majority_) / len(labels), "documents": len(labels)}

    def predict(self, texts_or_docs: Iterable[str | Document]) -> Iterator[dict[str, Any]]:
        for _ in texts_or_docs:
            yield {"label": self.majority_}

    def save(self, folder: Path) -> None:
        (folder / "model.json").write_bytes(
            orjson.dumps({"classes": self.classes_, "majority": self.majority_})
        )

    @classmethod
    def load(cls, folder: Path) -> MajorityBaseline:
        data = orjson.loads((folder / "model.json").read_bytes())
        task = cls()
        task.classes_, task.majority_ = data["classes"], data["majority"]
        return task


def _labelled_corpus(path: Path, texts: list[str]) -> tuple[Path, dict[str, str]]:
    labels = {}
    with path.open("wb") as fh:
        for i, text in enumerate(texts):
            label = "australia" if "Australia" in text else "other"
            labels[f"lee-{i}"] = label
            fh.write(orjson.dumps({"id": f"lee-{i}", "text": text, "label": label}) + b"\n")
    return path, labels


def _config(tmp_path: Path, corpus: Path, **task: Any) -> dict[str, Any]:
    return resolve_config(
        {
            "name": "tasks-phase",
            "corpus": {"reader": "jsonl", "path": str(corpus)},
            "stages": STAGES,
            "tasks": {"baseline": {"model": "majority-baseline", **task}},
            "execution": {"shard_size": 40},
            "output": {"dir": str(tmp_path / "run")},
        }
    )


def test_the_baseline_satisfies_the_task_protocol():
    assert isinstance(MajorityBaseline(), Task)


def test_a_task_is_fitted_on_the_runs_documents_and_saved_in_its_folder(tmp_path, lee_texts):
    corpus, labels = _labelled_corpus(tmp_path / "lee.jsonl", lee_texts[:120])
    result = run(_config(tmp_path, corpus))

    folder = result.run_dir / "tasks" / "baseline"
    row = result.manifest["tasks"]["baseline"]
    assert row["component"] == "majority-baseline" and row["reused"] is False
    counts = Counter(labels.values())
    majority, n_majority = counts.most_common(1)[0]
    metrics = orjson.loads((folder / "metrics.json").read_bytes())
    assert metrics == {"accuracy": n_majority / 120, "documents": 120}
    predictions = [orjson.loads(line) for line in (folder / "predictions.jsonl").open("rb")]
    assert [p["id"] for p in predictions] == [d.id for d in read_documents(result.run_dir)]
    assert {p["label"] for p in predictions} == {majority}
    loaded = MajorityBaseline.load(folder)
    assert list(loaded.predict(["Sydney markets rose."])) == [{"label": majority}]


def test_an_unchanged_task_is_skipped_and_a_changed_one_refitted(tmp_path, lee_texts):
    corpus, _ = _labelled_corpus(tmp_path / "lee.jsonl", lee_texts[:80])
    first = run(_config(tmp_path, corpus))
    stamp = first.run_dir / "tasks" / "baseline" / "model.json"
    written = stamp.stat().st_mtime_ns

    again = run(_config(tmp_path, corpus))
    assert again.manifest["tasks"]["baseline"]["reused"] is True
    assert stamp.stat().st_mtime_ns == written

    changed = run(_config(tmp_path, corpus, smoothing=0.5))
    assert changed.manifest["tasks"]["baseline"]["reused"] is False
    assert stamp.stat().st_mtime_ns != written


@register("task", "majority-follower")
class MajorityFollower(MajorityBaseline):
    """Predicts what an earlier task of the run (named by `of`) found to be the majority."""

    def __init__(self, *, of: str = "baseline", label: str = "label", smoothing: float = 0.0):
        super().__init__(label=label, smoothing=smoothing)
        self.of = of

    def fit(self, corpus: Iterable[Document], run_dir: Path) -> MajorityFollower:
        earlier = orjson.loads((run_dir.parent / self.of / "model.json").read_bytes())
        self.classes_, self.majority_ = earlier["classes"], earlier["majority"]
        return self


def test_a_task_naming_an_earlier_task_is_refitted_when_that_task_is(tmp_path, lee_texts):
    corpus, _ = _labelled_corpus(tmp_path / "lee.jsonl", lee_texts[:80])
    config = _config(tmp_path, corpus)
    config["tasks"]["follower"] = {"model": "majority-follower", "of": "baseline"}
    config["tasks"]["bystander"] = {"model": "majority-baseline"}
    first = run(config)
    assert {row["reused"] for row in first.manifest["tasks"].values()} == {False}
    assert run(config).manifest["tasks"]["follower"]["reused"] is True

    config["tasks"]["baseline"]["smoothing"] = 0.5
    rows = run(config).manifest["tasks"]
    assert rows["baseline"]["reused"] is False
    assert rows["follower"]["reused"] is False  # it read the refitted task's output
    assert rows["bystander"]["reused"] is True


def test_a_task_parameter_is_validated_like_any_component(tmp_path, lee_texts):
    corpus, _ = _labelled_corpus(tmp_path / "lee.jsonl", lee_texts[:5])
    with pytest.raises(
        ConfigError, match=r"tasks\.baseline\.lable: unknown key; did you mean 'label'"
    ):
        _config(tmp_path, corpus, lable="topic")


def test_the_task_folder_records_the_stages_and_reader_it_was_trained_behind(tmp_path, lee_texts):
    corpus, _ = _labelled_corpus(tmp_path / "lee.jsonl", lee_texts[:20])
    config = _config(tmp_path, corpus)
    result = run(config)

    record = orjson.loads((result.run_dir / "tasks" / "baseline" / "pipeline.json").read_bytes())
    assert record["name"] == "baseline" and record["component"] == "majority-baseline"
    assert record["params"] == {"label": "label", "smoothing": 0.0}
    assert record["stages"] == config["stages"]
    assert record["corpus"]["reader"] == "jsonl" and record["corpus"]["path"] == str(corpus)


def test_a_task_that_refuses_its_data_leaves_no_folder_and_names_the_key(tmp_path, lee_texts):
    corpus, _ = _labelled_corpus(tmp_path / "lee.jsonl", lee_texts[:20])
    with pytest.raises(ConfigError, match=r"tasks\.baseline\.label: 20 documents lack 'topic'"):
        run(_config(tmp_path, corpus, label="topic"))
    assert not (tmp_path / "run" / "tasks" / "baseline").exists()


def test_languages_fits_a_task_on_those_documents_and_counts_the_others(tmp_path, lee_texts):
    from spacy.lang.de.examples import sentences  # spaCy's German example sentences

    german = [s for s in sentences if len(s.split()) >= 5]  # long enough to be told apart

    corpus, labels = _labelled_corpus(tmp_path / "lee.jsonl", lee_texts[:40])
    with corpus.open("ab") as fh:
        for i, text in enumerate(german):
            fh.write(orjson.dumps({"id": f"de-{i}", "text": text, "label": "other"}) + b"\n")
    config = _config(tmp_path, corpus, languages=["en"])
    result = run(config)

    row = result.manifest["tasks"]["baseline"]
    assert row["languages"] == ["en"] and row["other_languages"] == {"de": len(german)}
    metrics = orjson.loads((result.run_dir / "tasks/baseline/metrics.json").read_bytes())
    assert metrics["documents"] == 40  # the English ones only
    assert run(config).manifest["tasks"]["baseline"]["reused"] is True
    assert run(_config(tmp_path, corpus)).manifest["tasks"]["baseline"]["reused"] is False


def test_languages_must_be_language_codes(tmp_path, lee_texts):
    corpus, _ = _labelled_corpus(tmp_path / "lee.jsonl", lee_texts[:3])
    with pytest.raises(ConfigError, match=r"tasks\.baseline\.languages: expected a list of ISO"):
        _config(tmp_path, corpus, languages=["english!"])


@register("task", "folder-follower")
class FolderFollower(MajorityBaseline):
    """Predicts the majority a task fitted in another run found (`init_from`: its folder)."""

    def __init__(self, *, init_from: str = "", label: str = "label", smoothing: float = 0.0):
        super().__init__(label=label, smoothing=smoothing)
        self.init_from = init_from

    def fit(self, corpus: Iterable[Document], run_dir: Path) -> FolderFollower:
        earlier = orjson.loads((Path(self.init_from) / "model.json").read_bytes())
        self.classes_, self.majority_ = earlier["classes"], earlier["majority"]
        return self


def test_a_task_starting_from_another_runs_task_is_refitted_when_that_one_is(tmp_path, lee_texts):
    corpus, _ = _labelled_corpus(tmp_path / "lee.jsonl", lee_texts[:60])
    (tmp_path / "pre").mkdir()
    pretrained = _config(tmp_path / "pre", corpus)
    run(pretrained)
    folder = str(tmp_path / "pre" / "run" / "tasks" / "baseline")
    config = _config(tmp_path, corpus)
    config["tasks"] = {"fine": {"model": "folder-follower", "init_from": folder}}
    assert run(config).manifest["tasks"]["fine"]["reused"] is False
    assert run(config).manifest["tasks"]["fine"]["reused"] is True

    pretrained["tasks"]["baseline"]["smoothing"] = 0.5  # the other run refits its task
    run(pretrained)
    assert run(config).manifest["tasks"]["fine"]["reused"] is False


@register("task", "nested-follower")
class NestedFollower(MajorityBaseline):
    """Like `folder-follower`, with the folder inside a mapping (`transfer: {from: FOLDER}`)."""

    def __init__(
        self, *, transfer: dict | None = None, label: str = "label", smoothing: float = 0.0
    ):
        super().__init__(label=label, smoothing=smoothing)
        self.transfer = transfer

    def fit(self, corpus: Iterable[Document], run_dir: Path) -> NestedFollower:
        folder = Path((self.transfer or {})["from"])
        earlier = orjson.loads((folder / "model.json").read_bytes())
        self.classes_, self.majority_ = earlier["classes"], earlier["majority"]
        return self


def test_a_folder_named_inside_a_mapping_parameter_is_followed_too(tmp_path, lee_texts):
    corpus, _ = _labelled_corpus(tmp_path / "lee.jsonl", lee_texts[:40])
    (tmp_path / "pre").mkdir()
    pretrained = _config(tmp_path / "pre", corpus)
    run(pretrained)
    folder = str(tmp_path / "pre" / "run" / "tasks" / "baseline")
    config = _config(tmp_path, corpus)
    config["tasks"] = {"fine": {"model": "nested-follower", "transfer": {"from": folder}}}
    run(config)
    assert run(config).manifest["tasks"]["fine"]["reused"] is True
    pretrained["tasks"]["baseline"]["smoothing"] = 0.5
    run(pretrained)
    assert run(config).manifest["tasks"]["fine"]["reused"] is False
