"""The `vader` task on real text: VADER's own scores, labels by threshold, and the aggregates
(per source, over time, per topic, per entity) checked against the package's scores."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import orjson
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from components.analytics.sentiment import VaderSentiment, sentiment_label
from components.ml.dates import period_start, read_date
from pipeline.config import ConfigError, resolve_config
from pipeline.document import Document
from pipeline.pipeline import Pipeline
from pipeline.runner import run

STAGES = [{"tokenize": {"backend": "spacy"}}, {"sentences": {"backend": "rules"}}]
SOURCES = ("abc-news", "sbs", "the-age")


@pytest.fixture(scope="module")
def vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


@pytest.fixture(scope="module")
def lee_docs(lee_texts) -> list[Document]:
    """24 Lee articles through tokenize + sentences, with a source and a date in `meta`:
    dates a week apart from 2001-03-05, every fourth undated (or unreadable)."""
    docs = list(Pipeline.from_config({"stages": STAGES}).pipe(lee_texts[:24]))
    for i, doc in enumerate(docs):
        doc.meta["source"] = SOURCES[i % 3]
        doc.meta["published"] = (
            ("not a date" if i % 8 == 3 else None) if i % 4 == 3 else f"2001-03-{5 + i % 4 * 7:02d}"
        )
    return docs


def _fit(task: VaderSentiment, docs: list[Document], folder: Path) -> Path:
    task.fit(docs, folder)
    return folder


def _read(folder: Path, name: str) -> dict:
    return json.loads((folder / name).read_text(encoding="utf-8"))


def _predictions(folder: Path) -> list[dict]:
    return [orjson.loads(line) for line in (folder / "predictions.jsonl").open("rb")]


def test_scores_equal_the_packages_for_documents_and_sentences(lee_docs, vader):
    task = VaderSentiment()
    for doc in lee_docs[:8]:
        row = task.predict_document(doc)
        expected = vader.polarity_scores(doc.text)
        assert row["compound"] == row["text_compound"] == expected["compound"]
        assert (row["pos"], row["neg"], row["neu"]) == (
            expected["pos"],
            expected["neg"],
            expected["neu"],
        )
        spans = [s for s in doc.sentences if doc.text[s.start : s.end].strip()]
        assert [(s["start"], s["end"]) for s in row["sentences"]] == [
            (s.start, s.end) for s in spans
        ]
        assert [s["compound"] for s in row["sentences"]] == [
            vader.polarity_scores(doc.text[s.start : s.end])["compound"] for s in spans
        ]
        mean = sum(s["compound"] for s in row["sentences"]) / len(spans)
        assert row["sentence_mean"] == pytest.approx(mean, abs=1e-4)


def test_feed_items_are_scored_as_the_package_scores_them(shared_data, vader):
    from corpora.feeds import FeedReader

    items = [
        d
        for d in FeedReader(path=str(shared_data / "feeds" / "real" / "guardian.rss")).read()
        if isinstance(d, Document)
    ][:10]
    docs = list(Pipeline.from_config({"stages": STAGES}).pipe(items))
    rows = list(VaderSentiment().predict(docs))
    assert [r["id"] for r in rows] == [d.id for d in items]
    assert [r["compound"] for r in rows] == [
        vader.polarity_scores(d.text)["compound"] for d in docs
    ]


def test_labels_follow_the_threshold(lee_docs, vader):
    assert sentiment_label(0.05, 0.05) == "positive"
    assert sentiment_label(-0.05, 0.05) == "negative"
    assert sentiment_label(0.0499, 0.05) == "neutral"
    assert sentiment_label(0.0, 0.0) == "positive"  # threshold 0: a binary split
    sentences = [
        doc.text[s.start : s.end] for doc in lee_docs[:6] for s in doc.sentences
    ]  # real sentences, many without sentiment words
    for threshold in (0.05, 0.5):
        task = VaderSentiment(threshold=threshold)
        rows = list(task.predict(sentences))
        for row, sentence in zip(rows, sentences, strict=True):
            compound = vader.polarity_scores(sentence)["compound"]
            expected = (
                "positive"
                if compound >= threshold
                else "negative"
                if compound <= -threshold
                else "neutral"
            )
            assert row["label"] == expected
    wide = Counter(r["label"] for r in VaderSentiment(threshold=0.5).predict(sentences))
    narrow = Counter(r["label"] for r in VaderSentiment().predict(sentences))
    assert wide["neutral"] > narrow["neutral"] > 0


def test_the_document_score_can_be_the_mean_of_its_sentences(lee_docs, vader):
    doc = lee_docs[0]
    row = VaderSentiment(document_score="sentences").predict_document(doc)
    assert row["compound"] == row["sentence_mean"]
    assert row["text_compound"] == vader.polarity_scores(doc.text)["compound"]
    assert row["label"] == sentiment_label(row["compound"], 0.05)


def test_aggregates_per_source_and_over_time(lee_docs, vader, tmp_path):
    folder = _fit(VaderSentiment(period="week"), lee_docs, tmp_path / "run" / "tasks" / "mood")
    aggregates = _read(folder, "aggregates.json")
    compounds = {d.id: vader.polarity_scores(d.text)["compound"] for d in lee_docs}

    by_source: defaultdict[str, list[float]] = defaultdict(list)
    by_week: defaultdict[str, list[float]] = defaultdict(list)
    for doc in lee_docs:
        by_source[doc.meta["source"]].append(compounds[doc.id])
        date = read_date(doc.meta["published"])
        if date is not None:
            by_week[period_start(date, "week")].append(compounds[doc.id])
    for groups, got in ((by_source, aggregates["by_source"]), (by_week, aggregates["by_period"])):
        assert set(got) == set(groups)
        for name, values in groups.items():
            assert got[name]["count"] == len(values)
            assert got[name]["mean_compound"] == pytest.approx(sum(values) / len(values), abs=1e-4)
            positive = sum(v >= 0.05 for v in values) / len(values)
            assert got[name]["share_positive"] == pytest.approx(positive, abs=1e-4)
    assert list(aggregates["by_period"]) == ["2001-03-05", "2001-03-12", "2001-03-19"]
    assert aggregates["undated"] == 6 == _read(folder, "metrics.json")["undated"]
    assert (folder / "sentiment_over_time.png").is_file()
    assert (folder / "sentiment_by_source.png").is_file()

    report = _read(folder, "report.json")
    assert report["order"] == 30
    images = [b["path"] for b in report["blocks"] if b["kind"] == "image"]
    assert images == ["sentiment_over_time.png", "sentiment_by_source.png"]
    tables = {b["title"]: b for b in report["blocks"] if b["kind"] == "table"}
    assert len(tables["By source (source)"]["rows"]) == 3


def test_no_time_plot_when_nothing_is_dated_and_one_source(lee_docs, tmp_path):
    docs = [Document(id=d.id, text=d.text, sentences=d.sentences) for d in lee_docs[:5]]
    folder = _fit(VaderSentiment(), docs, tmp_path / "mood")
    aggregates = _read(folder, "aggregates.json")
    assert aggregates["by_period"] == {} and aggregates["undated"] == 5
    assert aggregates["by_source"]["(none)"]["count"] == 5
    assert not list(folder.glob("*.png"))


def test_per_topic_aggregates_join_the_topics_tasks_predictions(lee_docs, vader, tmp_path):
    tasks = tmp_path / "run" / "tasks"
    topic_of = {}
    with _open(tasks / "news-topics" / "predictions.jsonl") as fh:
        for doc in lee_docs:
            # a real-looking topics output: 3 topics, the bushfire articles in topic 0
            topic = 0 if "fire" in doc.text.lower() else 1 + len(doc.text) % 2
            distribution = [0.1, 0.1, 0.1]
            distribution[topic] = 0.8
            topic_of[doc.id] = topic
            fh.write(
                json.dumps({"id": doc.id, "topic": topic, "distribution": distribution}) + "\n"
            )
    folder = _fit(VaderSentiment(topics="news-topics"), lee_docs, tasks / "mood")
    by_topic = _read(folder, "aggregates.json")["by_topic"]
    assert list(by_topic) == [str(t) for t in sorted(set(topic_of.values()))]
    for topic, group in by_topic.items():
        values = [
            vader.polarity_scores(d.text)["compound"]
            for d in lee_docs
            if str(topic_of[d.id]) == topic
        ]
        assert group["count"] == len(values)
        assert group["mean_compound"] == pytest.approx(sum(values) / len(values), abs=1e-4)
    titles = [b.get("title") for b in _read(folder, "report.json")["blocks"]]
    assert "By topic (news-topics)" in titles


def _open(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("w", encoding="utf-8")


def test_a_missing_topics_task_names_the_key_and_the_fix(lee_docs, tmp_path):
    with pytest.raises(ConfigError, match=r"tasks\.mood\.topics: .*'lda'.*before this one"):
        VaderSentiment(topics="lda").fit(lee_docs[:2], tmp_path / "run" / "tasks" / "mood")


def test_entities_get_the_sentiment_of_the_sentences_that_mention_them(lee_texts, vader, tmp_path):
    stages = [*STAGES, {"ner": {}}]
    docs = list(Pipeline.from_config({"stages": stages}).pipe(lee_texts[:12]))
    folder = _fit(VaderSentiment(top_entities=5), docs, tmp_path / "mood")
    rows = _read(folder, "aggregates.json")["by_entity"]
    assert len(rows) == 5
    assert [r["mentions"] for r in rows] == sorted((r["mentions"] for r in rows), reverse=True)
    for row in rows:
        mentions, sentences = 0, []
        for doc in docs:
            for ent in doc.entities:
                words = ent.text.split()
                if len(words) > 1 and words[0].lower() == "the":  # "the Senate" is "Senate"
                    words = words[1:]
                if ent.label in ("PERSON", "ORG", "GPE", "LOC", "NORP") and (
                    " ".join(words) == row["entity"]
                ):
                    mentions += 1
                    sentence = next(s for s in doc.sentences if s.start <= ent.start < s.end)
                    sentences.append(doc.text[sentence.start : sentence.end])
        assert row["mentions"] == mentions
        scores = [vader.polarity_scores(s)["compound"] for s in dict.fromkeys(sentences)]
        assert row["count"] == len(scores)
        assert row["mean_compound"] == pytest.approx(sum(scores) / len(scores), abs=1e-4)


def test_empty_texts_are_counted_and_new_documents_predicted(lee_docs, tmp_path):
    docs = [lee_docs[0], Document(id="blank", text="   \n"), Document(id="empty", text="")]
    folder = _fit(VaderSentiment(), docs, tmp_path / "mood")
    rows = _predictions(folder)
    assert rows[1:] == [
        {"id": "blank", "skipped": "empty text"},
        {"id": "empty", "skipped": "empty text"},
    ]
    metrics = _read(folder, "metrics.json")
    assert metrics["skipped"] == {"empty text": 2} and metrics["scored"] == 1

    VaderSentiment().save(folder)
    task = VaderSentiment.load(folder)
    (new,) = task.predict(["The rescue was a wonderful success and everyone is delighted!"])
    assert new["label"] == "positive" and new["sentences"] == []


def test_a_run_scores_its_documents_and_reports_them(lee_texts, tmp_path):
    corpus = tmp_path / "feeds"
    corpus.mkdir()
    for name, start in (("abc.jsonl", 0), ("sbs.jsonl", 15)):
        with (corpus / name).open("wb") as fh:
            for i, text in enumerate(lee_texts[start : start + 15]):
                record = {"id": f"{name}-{i}", "text": text, "published": f"2001-0{1 + i % 3}-10"}
                fh.write(orjson.dumps(record) + b"\n")
    config = resolve_config(
        {
            "name": "sentiment",
            "corpus": {"reader": "jsonl", "path": str(corpus)},
            "stages": STAGES,
            "tasks": {"mood": {"method": "vader", "period": "month"}},
            "output": {"dir": str(tmp_path / "run")},
        }
    )
    result = run(config)
    folder = result.run_dir / "tasks" / "mood"
    assert len(_predictions(folder)) == 30
    aggregates = _read(folder, "aggregates.json")
    assert list(aggregates["by_period"]) == ["2001-01", "2001-02", "2001-03"]
    assert sorted(g["count"] for g in aggregates["by_source"].values()) == [15, 15]
    assert _read(folder, "report.json")["title"] == "Sentiment (VADER)"
    assert {p.name for p in folder.glob("*.png")} == {
        "sentiment_over_time.png",
        "sentiment_by_source.png",
    }
