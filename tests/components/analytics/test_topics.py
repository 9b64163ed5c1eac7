"""Topics (`lda`, `nmf`) and their trends, on real news: gensim's Lee articles and the
dated Usenet posts of gensim's mini_newsgroup."""

from __future__ import annotations

import csv
import email.utils
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from components.analytics.topics import LdaTopics, NmfTopics
from components.analytics.trends import PeriodShares
from components.represent.tokens import token_stream
from pipeline.config import ConfigError, resolve_config
from pipeline.document import Document
from pipeline.pipeline import Pipeline

STAGES = [{"tokenize": {"backend": "spacy"}}, {"stopwords": {"lists": ["spacy"]}}]
FAST_LDA = {"passes": 3, "iterations": 30}


def process(texts: list[str], ids: list[str] | None = None, metas: list[dict] | None = None):
    docs = [
        Document(id=ids[i] if ids else f"d{i}", text=t, meta=metas[i] if metas else {})
        for i, t in enumerate(texts)
    ]
    return list(Pipeline.from_config({"stages": STAGES}).pipe(docs))


@pytest.fixture(scope="module")
def lee_docs(lee_texts):
    return process(lee_texts, ids=[f"lee-{i:03d}" for i in range(len(lee_texts))])


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def read(folder: Path, name: str):
    return json.loads((folder / name).read_text(encoding="utf-8"))


def fit(task, docs, tmp_path: Path, name: str = "topics") -> Path:
    folder = tmp_path / "tasks" / name
    task.fit(docs, folder)
    return folder


def test_lda_topics_on_lee_news_are_more_coherent_than_random_word_sets(lee_docs, tmp_path):
    from gensim.corpora import Dictionary
    from gensim.models.coherencemodel import CoherenceModel

    folder = fit(LdaTopics(num_topics=5, **FAST_LDA), lee_docs, tmp_path)

    topics = read(folder, "topics.json")
    assert [t["id"] for t in topics] == list(range(5))
    for topic in topics:
        assert len(topic["words"]) == len(set(topic["words"])) == 10
        assert topic["weights"] == sorted(topic["weights"], reverse=True)
    # distinct topics: no two share most of their top words
    for a in topics:
        for b in topics:
            if a["id"] < b["id"]:
                assert len(set(a["words"]) & set(b["words"])) < 6
    # related words: the topics' c_v beats word sets of the same document frequencies drawn
    # at random (each top word swapped for a random one of nearby frequency rank)
    stops = [token_stream(d, field="lower", drop_stop=True) for d in lee_docs]
    dictionary = Dictionary(stops)
    ranked = sorted(dictionary.token2id, key=lambda w: -dictionary.dfs[dictionary.token2id[w]])
    rank = {w: i for i, w in enumerate(ranked)}
    rng = np.random.default_rng(0)
    random_sets = []
    for topic in topics:
        drawn: list[str] = []
        for word in topic["words"]:
            near = ranked[max(0, rank[word] - 15) : rank[word] + 16]
            choices = [w for w in near if w not in topic["words"] and w not in drawn]
            drawn.append(choices[int(rng.integers(len(choices)))])
        random_sets.append(drawn)

    def c_v(word_sets):
        return CoherenceModel(
            topics=word_sets, texts=stops, dictionary=dictionary, coherence="c_v", processes=1
        ).get_coherence()

    metrics = read(folder, "metrics.json")
    assert metrics["coherence"]["chosen"] == pytest.approx(
        c_v([t["words"] for t in topics]), abs=1e-6
    )
    assert metrics["coherence"]["chosen"] > c_v(random_sets) + 0.08

    predictions = read_jsonl(folder / "predictions.jsonl")
    assert [p["id"] for p in predictions] == [d.id for d in lee_docs]
    for p in predictions:
        assert sum(p["distribution"]) == pytest.approx(1.0, abs=1e-5)
        assert p["topic"] == int(np.argmax(p["distribution"]))
    # representative documents: the largest shares of each topic, with their text
    by_id = {d.id: d.text for d in lee_docs}
    for entry in read(folder, "representative.json"):
        shares = sorted((p["distribution"][entry["topic"]] for p in predictions), reverse=True)
        assert [d["share"] for d in entry["documents"]] == pytest.approx(shares[:3], abs=1e-6)
        for d in entry["documents"]:
            assert " ".join(by_id[d["id"]].split()).startswith(d["text"].removesuffix(" …"))
    # no document has a date: counted, no trends, and said so
    assert metrics["documents"] == 300 and metrics["undated"] == 300 and metrics["dated"] == 0
    assert "none drawn" in metrics["trends"] and not (folder / "trends.csv").exists()
    report = read(folder, "report.json")
    assert report["order"] == 10
    assert any("none drawn" in b.get("text", "") for b in report["blocks"])


def test_the_number_of_topics_is_the_argmax_of_the_written_coherences(lee_docs, tmp_path):
    folder = fit(NmfTopics(num_topics=[3, 6, 9], coherence="c_npmi"), lee_docs[:150], tmp_path)

    metrics = read(folder, "metrics.json")
    by_k = {int(k): v for k, v in metrics["coherence"]["by_k"].items()}
    assert sorted(by_k) == [3, 6, 9] and len(set(by_k.values())) == 3
    assert metrics["num_topics"] == max(by_k, key=by_k.get)
    assert metrics["coherence"]["chosen"] == by_k[metrics["num_topics"]]
    assert len(read(folder, "topics.json")) == metrics["num_topics"]
    assert (folder / "coherence.png").is_file()
    report = read(folder, "report.json")
    assert f"{metrics['num_topics']} topics" in report["title"]
    assert "chosen among 3, 6, 9" in report["blocks"][0]["text"]
    assert {b.get("path") for b in report["blocks"]} >= {"coherence.png"}


def test_trends_show_the_topic_of_a_week_holding_only_its_documents(lee_docs, tmp_path):
    docs = lee_docs[:200]
    params = {"num_topics": 4, "coherence": None, **FAST_LDA}
    first = fit(LdaTopics(**params), docs, tmp_path, "undated")
    predictions = read_jsonl(first / "predictions.jsonl")
    dominated = [i for i, p in enumerate(predictions) if p["topic"] == 0]
    assert 5 <= len(dominated) < 150
    week_a = datetime(2024, 3, 4, 9, 30)  # a Monday; every topic-0 document falls in its week
    metas = []
    for i in range(len(docs)):
        if i in dominated:
            metas.append({"published": (week_a + timedelta(days=i % 7)).isoformat()})
        elif i % 10 == 0:
            metas.append({"published": "not a date"})
        else:  # the others over the next three weeks, as RFC 822 dates
            when = week_a + timedelta(weeks=1 + i % 3, days=i % 5)
            metas.append({"published": email.utils.format_datetime(when.replace(tzinfo=UTC))})
    dated = [
        Document(id=d.id, text=d.text, meta=metas[i], tokens=d.tokens) for i, d in enumerate(docs)
    ]
    folder = fit(LdaTopics(**params), dated, tmp_path, "dated")
    assert read(folder, "topics.json") == read(first, "topics.json")  # dates do not move the model

    rows = list(csv.DictReader((folder / "trends.csv").open(encoding="utf-8")))
    assert list(rows[0]) == ["period", "topic", "share"]
    shares: dict[str, dict[int, float]] = defaultdict(dict)
    for row in rows:
        shares[row["period"]][int(row["topic"])] = float(row["share"])
    assert list(shares) == ["2024-03-04", "2024-03-11", "2024-03-18", "2024-03-25"]
    for period in shares.values():
        assert sum(period.values()) == pytest.approx(1.0, abs=1e-5)
    expected = np.mean([predictions[i]["distribution"][0] for i in dominated])
    assert shares["2024-03-04"][0] == pytest.approx(expected, abs=1e-5)
    assert shares["2024-03-04"][0] == max(shares["2024-03-04"].values()) > 0.5
    metrics = read(folder, "metrics.json")
    undated = sum(m["published"] == "not a date" for m in metas)
    assert (metrics["dated"], metrics["undated"]) == (200 - undated, undated)
    assert (folder / "trends.png").is_file()
    report = read(folder, "report.json")
    assert "trends.png" in {b.get("path") for b in report["blocks"]}


def test_trends_of_usenet_posts_by_their_date_headers(tmp_path):
    from components.ml.dates import period_start
    from corpora.newsgroups import read_mini_newsgroups, strip_headers

    posts, _, _ = read_mini_newsgroups()
    dates = [re.search(r"^Date: (.*)$", p, re.M).group(1).strip() for p in posts]
    docs = process([strip_headers(p) for p in posts], metas=[{"sent": d} for d in dates])
    task = NmfTopics(num_topics=2, coherence=None, date_field="sent", period="week")
    shares = PeriodShares(2, period="week")
    expected: Counter[str] = Counter()
    for doc, date in zip(docs, dates, strict=True):
        when = email.utils.parsedate_to_datetime(date)  # the standard library's RFC 822 parser
        if when.tzinfo is not None:
            when = when.astimezone(UTC).replace(tzinfo=None)
        expected[period_start(when, "week")] += 1
        shares.add(when, [0.25, 0.75] if "space" in doc.text.lower() else [1.0, 0.0])
    assert shares.dated == 200 and shares.undated == 0
    assert {p: shares.documents(p) for p in shares.periods} == dict(expected)
    for period in shares.periods:
        assert shares.shares(period).sum() == pytest.approx(1.0)

    out = fit(task, docs, tmp_path)
    rows = list(csv.DictReader((out / "trends.csv").open(encoding="utf-8")))
    metrics = read(out, "metrics.json")
    assert {r["period"] for r in rows} == set(expected)
    assert metrics["dated"] + metrics["undated"] + sum(metrics["skipped"].values()) == 200
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        totals[row["period"]] += float(row["share"])
    assert all(v == pytest.approx(1.0, abs=1e-5) for v in totals.values())


@pytest.mark.parametrize("cls", [LdaTopics, NmfTopics])
def test_save_and_load_give_the_same_distributions(cls, lee_docs, tmp_path):
    params = {"num_topics": 4, "coherence": None, **(FAST_LDA if cls is LdaTopics else {})}
    task = cls(**params)
    folder = fit(task, lee_docs[:200], tmp_path)
    new = lee_docs[200:230]
    before = [task.predict_document(d) for d in new]
    task.save(folder)
    assert not [p for p in folder.iterdir() if p.suffix in (".pkl", ".pickle", ".joblib")]
    loaded = cls.load(folder)
    assert [loaded.predict_document(d) for d in new] == before
    assert loaded.topics() == task.topics()
    assert all(b["distribution"] is not None for b in before)
    if cls is LdaTopics:  # the run's predictions are what predict gives for the same document
        lines = read_jsonl(folder / "predictions.jsonl")[:20]
        assert [{"id": d.id, **loaded.predict_document(d)} for d in lee_docs[:20]] == lines


def test_documents_without_tokens_are_counted_and_keep_their_line(lee_docs, tmp_path):
    empty = process(["...", "the and of", ""], ids=["dots", "stops", "blank"])
    docs = [*lee_docs[:60], *empty]
    task = NmfTopics(num_topics=3, coherence="u_mass")
    folder = fit(task, docs, tmp_path)
    predictions = {p["id"]: p for p in read_jsonl(folder / "predictions.jsonl")}
    assert len(predictions) == 63
    for doc_id in ("dots", "stops", "blank"):
        assert predictions[doc_id] == {
            "id": doc_id,
            "topic": None,
            "distribution": None,
            "skipped": "no tokens",
        }
    metrics = read(folder, "metrics.json")
    assert metrics["skipped"] == {"no tokens": 3} and metrics["modelled"] == 60
    assert metrics["coherence"]["measure"] == "u_mass"
    (unseen,) = process(["Zyxwv qwertz blorft."])
    assert task.predict_document(unseen) == {
        "topic": None,
        "distribution": None,
        "skipped": "no vocabulary terms",
    }
    assert task.predict_document(empty[0])["skipped"] == "no tokens"


def test_lda_learns_the_same_topics_as_bare_gensim_on_the_same_tokens(lee_docs, tmp_path):
    from gensim.corpora import Dictionary
    from gensim.models import LdaModel

    from components.analytics.topic_models import lda_params

    docs = lee_docs[:120]
    task = LdaTopics(num_topics=4, coherence=None, min_df=3, max_df=0.4, **FAST_LDA)
    fit(task, docs, tmp_path)
    texts = [token_stream(d, field="lower", drop_stop=True) for d in docs]
    dictionary = Dictionary(texts)
    dictionary.filter_extremes(no_below=3, no_above=0.4, keep_n=None)
    params = lda_params(4, passes=3, iterations=30, alpha="symmetric", seed=1)
    model = LdaModel([dictionary.doc2bow(t) for t in texts], id2word=dictionary, **params)
    bare = [model.show_topic(t, 10) for t in range(4)]
    assert [[w for w, _ in t] for t in task.topics()] == [[w for w, _ in t] for t in bare]
    weights = [[v for _, v in t] for t in task.topics()]
    assert np.allclose(weights, [[v for _, v in t] for t in bare], rtol=1e-5)


def test_fewer_documents_than_topics_is_a_config_error_with_the_counts(lee_docs, tmp_path):
    with pytest.raises(ConfigError, match=r"tasks\.topics\.num_topics: 8 topics .* has 5"):
        fit(LdaTopics(num_topics=8, **FAST_LDA), lee_docs[:5], tmp_path)
    with pytest.raises(ConfigError, match=r"tasks\.topics\.num_topics: \[6, 9\] .* has 5"):
        fit(NmfTopics(num_topics=[9, 6]), lee_docs[:5], tmp_path)
    # a list keeps the numbers it can fit, and says which it dropped
    folder = fit(NmfTopics(num_topics=[3, 30], min_df=1), lee_docs[:20], tmp_path)
    metrics = read(folder, "metrics.json")
    assert metrics["num_topics_tried"] == [3] and metrics["num_topics"] == 3
    assert metrics["notes"] == ["num_topics [30] dropped: only 20 documents have tokens"]


def test_a_corpus_with_nothing_to_model_is_a_clear_config_error(lee_docs, tmp_path):
    with pytest.raises(ConfigError, match=r"tasks\.topics: no document has tokens .*0 documents"):
        fit(LdaTopics(num_topics=2), [], tmp_path)
    empty = process(["...", "the and of"])
    with pytest.raises(ConfigError, match="2 documents read, all empty after the stages"):
        fit(NmfTopics(num_topics=2), empty, tmp_path)
    with pytest.raises(ConfigError, match=r"no term is left in the vocabulary.*lower min_df"):
        fit(NmfTopics(num_topics=2, min_df=50), lee_docs[:20], tmp_path)
    bare = list(Pipeline.from_config({"stages": STAGES[:1]}).pipe(["Sydney markets rose."] * 3))
    with pytest.raises(ConfigError, match=r"tasks\.topics\.drop_stop: .*stopwords"):
        fit(LdaTopics(num_topics=2), bare, tmp_path)
    assert not (tmp_path / "tasks" / "topics").exists()


def test_config_checks_the_numbers_of_topics_and_the_coherence():
    base = {"corpus": {"reader": "lee-news"}, "stages": STAGES}
    for task, message in [
        (
            {"method": "lda", "num_topics": [3, 5], "coherence": None},
            "coherence: null cannot choose",
        ),
        ({"method": "nmf", "num_topics": []}, "num_topics: [] is invalid"),
        ({"method": "nmf", "num_topics": 1}, "num_topics: 1 is invalid"),
        ({"method": "lda", "alpha": "auto", "workers": 2}, "alpha: 'auto' is not available"),
        ({"method": "nmf", "passes": 3}, "tasks.t.passes: unknown key"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(message)):
            resolve_config({**base, "tasks": {"t": task}})
    resolved = resolve_config({**base, "tasks": {"t": {"method": "lda", "num_topics": [5, 10]}}})
    assert resolved["tasks"]["t"]["coherence"] == "c_v"


def test_lda_with_workers_uses_gensims_multicore_trainer(lee_docs, tmp_path):
    task = LdaTopics(num_topics=3, coherence=None, workers=2, **FAST_LDA)
    folder = fit(task, lee_docs[:100], tmp_path)
    assert type(task.model_.model).__name__ == "LdaMulticore"
    assert len(read(folder, "topics.json")) == 3


@pytest.mark.slow
def test_a_run_with_a_topics_task_writes_its_files(tmp_path):
    from pipeline.runner import run
    from pipeline.store import read_documents

    config = resolve_config(
        {
            "name": "topics",
            "corpus": {"reader": "lee-news", "limit": 80},
            "stages": STAGES,
            "tasks": {"topics": {"method": "lda", "num_topics": [3, 5], "passes": 3}},
            "output": {"dir": str(tmp_path / "run")},
        }
    )
    result = run(config)
    folder = result.run_dir / "tasks" / "topics"
    metrics = read(folder, "metrics.json")
    by_k = {int(k): v for k, v in metrics["coherence"]["by_k"].items()}
    assert sorted(by_k) == [3, 5] and metrics["num_topics"] == max(by_k, key=by_k.get)
    ids = [d.id for d in read_documents(result.run_dir)]
    assert [p["id"] for p in read_jsonl(folder / "predictions.jsonl")] == ids
    assert len(read(folder, "topics.json")) == metrics["num_topics"]
    assert len(read(folder, "representative.json")) == metrics["num_topics"]
    report = read(folder, "report.json")
    for block in report["blocks"]:
        if block["kind"] == "image":
            assert (folder / block["path"]).is_file()
    assert {"task.json", "vocabulary.json", "lda_sstats.npy"} <= {p.name for p in folder.iterdir()}
    loaded = LdaTopics.load(folder)
    (doc,) = process(["Bushfires burned across New South Wales as firefighters fought the fires."])
    (prediction,) = loaded.predict([doc])
    assert len(prediction["distribution"]) == metrics["num_topics"]
