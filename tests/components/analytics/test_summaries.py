"""Extractive summaries (lead, textrank, lexrank) on real news: which sentences they keep,
their files, ROUGE against BBC reference summaries, bad input, and one run through the engine."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from components.analytics.summaries import LeadSummary, LexRankSummary, TextRankSummary
from components.ml.rouge import rouge_scores
from pipeline.config import ConfigError, resolve_config
from pipeline.document import Document
from pipeline.pipeline import Pipeline

STAGES = [
    {"tokenize": {"backend": "spacy"}},
    {"sentences": {"backend": "rules"}},
    {"stopwords": {"lists": ["spacy"]}},
]
BBC = "summarization/bbc_news_summary_first_half.jsonl"


@pytest.fixture(scope="module")
def stages() -> Pipeline:
    return Pipeline.from_config({"stages": STAGES})


@pytest.fixture(scope="module")
def lee_docs(stages, lee_texts) -> list[Document]:
    return list(
        stages.pipe([Document.from_text(t, id=f"lee-{i}") for i, t in enumerate(lee_texts[:60])])
    )


@pytest.fixture(scope="module")
def bbc_docs(stages, shared_data) -> list[Document]:
    """Twelve BBC articles (headline as meta title, body as text) with their reference summaries."""
    rows = [json.loads(line) for line in (shared_data / BBC).open(encoding="utf-8")][:12]
    docs = []
    for row in rows:
        title, body = row["article"].split("\n", 1)
        meta = {"title": title, "summary": row["summary"]}
        docs.append(Document.from_text(body.strip(), id=row["id"], meta=meta))
    return list(stages.pipe(docs))


def _assert_same_rouge(actual: dict, expected: dict) -> None:
    assert actual["documents"] == expected["documents"]
    for rouge_type in ("rouge1", "rouge2", "rougeL"):
        assert actual[rouge_type] == pytest.approx(expected[rouge_type])


def _fit(task, corpus, tmp_path: Path, name: str = "summary"):
    folder = tmp_path / "run" / "tasks" / name
    task.fit(corpus, folder)
    predictions = [json.loads(line) for line in (folder / "predictions.jsonl").open()]
    metrics = json.loads((folder / "metrics.json").read_text())
    return folder, predictions, metrics


def test_textrank_picks_the_central_sentence_of_a_real_article_among_strays(
    stages, lee_docs, lee_texts, tmp_path
):
    # Lee article 8 (bushfire relief in NSW) with the opening sentences of five unrelated stories
    topic = [s.text for s in lee_docs[8].sentences]
    strays = [lee_docs[i].sentences[0].text for i in (2, 16, 18, 32, 36)]
    case = next(stages.pipe([Document.from_text(" ".join(topic + strays), id="case")]))
    assert len(case.sentences) == len(topic) + len(strays)
    # the expected sentence, computed apart: the largest summed TF-IDF cosine to the others
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    vectors = TfidfVectorizer().fit(lee_texts).transform(topic + strays)
    similarity = cosine_similarity(vectors)
    np.fill_diagonal(similarity, 0)
    centrality = similarity.sum(axis=1)
    first, second = np.sort(centrality)[::-1][:2]
    assert first > 1.2 * second  # the case has one clearly central sentence
    central = int(np.argmax(centrality))

    task = TextRankSummary(sentences=1)
    task.fit([*lee_docs, case], tmp_path / "textrank")
    assert task.predict_document(case)["sentences"] == [central]
    two = LexRankSummary(sentences=2)
    two.fit([*lee_docs, case], tmp_path / "lexrank")
    assert all(i < len(topic) for i in two.predict_document(case)["sentences"])


def test_lead_keeps_the_first_sentences(lee_docs, tmp_path):
    _, predictions, metrics = _fit(LeadSummary(sentences=2), lee_docs, tmp_path)
    assert [p["id"] for p in predictions] == [d.id for d in lee_docs]
    for doc, prediction in zip(lee_docs, predictions, strict=True):
        assert prediction["sentences"] == list(range(min(2, len(doc.sentences))))
        assert prediction["summary"] == " ".join(s.text for s in doc.sentences[:2])
    assert metrics["short"] == sum(len(d.sentences) < 2 for d in lee_docs)


@pytest.mark.parametrize(
    "task", [TextRankSummary(), LexRankSummary(), LexRankSummary(continuous=True)]
)
def test_graph_summaries_keep_their_sentences_in_document_order(task, lee_docs, tmp_path):
    _, predictions, metrics = _fit(task, lee_docs, tmp_path)
    for doc, prediction in zip(lee_docs, predictions, strict=True):
        chosen = prediction["sentences"]
        assert chosen == sorted(set(chosen)) and len(chosen) == min(3, len(doc.sentences))
        assert prediction["summary"] == " ".join(doc.sentences[i].text for i in chosen)
    # some article's summary is not its lead: the ranking does choose
    assert any(p["sentences"] != [0, 1, 2] for p in predictions if len(p["sentences"]) == 3)
    assert metrics["documents"] == len(lee_docs) and metrics["skipped"] == {}


def test_ratio_keeps_a_share_of_each_documents_sentences(lee_docs, tmp_path):
    _, predictions, metrics = _fit(TextRankSummary(sentences=None, ratio=0.3), lee_docs, tmp_path)
    for doc, prediction in zip(lee_docs, predictions, strict=True):
        expected = max(1, math.floor(0.3 * len(doc.sentences) + 0.5))
        assert len(prediction["sentences"]) == expected
    assert metrics["short"] == 0
    report = json.loads((tmp_path / "run" / "tasks" / "summary" / "report.json").read_text())
    assert report["title"] == "Summaries (TextRank, 30% of the sentences)"


def test_lexrank_threshold_and_continuous_variants(lee_docs, tmp_path):
    picks = {}
    for name, task in {
        "lead": LeadSummary(),
        "binary": LexRankSummary(),
        "unreachable": LexRankSummary(threshold=0.999),  # only self-loops survive
        "continuous": LexRankSummary(continuous=True),
        "continuous-0.5": LexRankSummary(continuous=True, threshold=0.5),
    }.items():
        _, predictions, _ = _fit(task, lee_docs, tmp_path, name)
        picks[name] = [p["sentences"] for p in predictions]
    # no link above the threshold: every sentence is alike and document order decides
    assert picks["unreachable"] == picks["lead"]
    # the continuous variant weighs links by their cosine, whatever the threshold
    assert picks["continuous"] == picks["continuous-0.5"]
    differ = sum(a != b for a, b in zip(picks["binary"], picks["continuous"], strict=True))
    assert 0 < differ < len(lee_docs)
    assert sum(a != b for a, b in zip(picks["binary"], picks["lead"], strict=True)) > 0


def test_rouge_against_bbc_references_in_metrics_and_report(bbc_docs, tmp_path):
    folder, predictions, metrics = _fit(LexRankSummary(reference="summary"), bbc_docs, tmp_path)
    expected = rouge_scores(
        [p["summary"] for p in predictions], [d.meta["summary"] for d in bbc_docs]
    )
    _assert_same_rouge(metrics["rouge"], expected)
    assert metrics["rouge"]["documents"] == 12 and metrics["without_reference"] == 0
    # the summaries are sentences of the articles and so are the references: overlap is high
    assert metrics["rouge"]["rouge1"]["precision"] > 0.5
    report = json.loads((folder / "report.json").read_text())
    assert report["order"] == 40 and report["title"] == "Summaries (LexRank, 3 sentences)"
    blocks = {b["kind"]: b for b in report["blocks"]}
    assert blocks["metrics"]["values"]["ROUGE-1 f1"] == round(expected["rouge1"]["f1"], 4)
    assert blocks["table"]["columns"] == ["id", "title", "summary"]
    assert blocks["table"]["rows"][0][:2] == [bbc_docs[0].id, bbc_docs[0].meta["title"]]


def test_evaluate_scores_a_fitted_task_and_needs_a_reference(bbc_docs, lee_docs, tmp_path):
    lead = LeadSummary(reference="summary")
    scores = lead.evaluate(bbc_docs)
    expected = rouge_scores(
        [" ".join(s.text for s in d.sentences[:3]) for d in bbc_docs],
        [d.meta["summary"] for d in bbc_docs],
    )
    _assert_same_rouge(scores["rouge"], expected)
    with pytest.raises(ConfigError, match=r"tasks\.lead\.reference: no reference"):
        LeadSummary().evaluate(bbc_docs)
    with pytest.raises(
        ConfigError, match=r"tasks\.summary\.reference: none of the 60 .*meta\['headline'\]"
    ):
        _fit(LeadSummary(reference="headline"), lee_docs, tmp_path)
    assert not (tmp_path / "run" / "tasks" / "summary").exists()


def test_a_saved_task_predicts_as_fitted(lee_docs, tmp_path):
    task = TextRankSummary(sentences=2, drop_stop=True)
    folder, predictions, _ = _fit(task, lee_docs, tmp_path)
    task.save(folder)
    assert (folder / "idf.json").is_file()
    loaded = TextRankSummary.load(folder)
    assert loaded.get_params() == task.get_params()
    assert [loaded.predict_document(d) for d in lee_docs[:20]] == predictions[:20]


def test_short_and_empty_documents_are_counted_not_crashed(stages, lee_docs, tmp_path):
    one = lee_docs[0].sentences[0].text  # a real sentence on its own
    odd = list(stages.pipe([Document.from_text(one, id="one"), Document.from_text("", id="empty")]))
    _, predictions, metrics = _fit(TextRankSummary(), [*lee_docs[:10], *odd], tmp_path)
    assert predictions[-2] == {"id": "one", "summary": one, "sentences": [0]}
    assert predictions[-1] == {"id": "empty", "summary": "", "skipped": "no sentences"}
    assert metrics["short"] == 1 + sum(len(d.sentences) < 3 for d in lee_docs[:10])
    assert metrics["skipped"] == {"no sentences": 1} and metrics["summarised"] == 11


def test_documents_without_the_sentences_stage_name_the_stage_to_add(lee_texts, tmp_path):
    tokenized = Pipeline.from_config({"stages": STAGES[:1]})
    docs = list(tokenized.pipe([Document.from_text(t) for t in lee_texts[:3]]))
    for task in (LeadSummary(), TextRankSummary(), LexRankSummary()):
        with pytest.raises(
            ConfigError, match=r"tasks\.summary: document .* add a `sentences` stage"
        ):
            _fit(task, docs, tmp_path)


def test_sentences_and_ratio_are_one_or_the_other(tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"id": "a", "text": "One. Two."}\n')

    def config(**task):
        return {
            "corpus": {"reader": "jsonl", "path": str(corpus)},
            "stages": STAGES,
            "tasks": {"summary": {"method": "textrank", **task}},
        }

    with pytest.raises(
        ConfigError, match=r"tasks\.summary\.sentences: both sentences \(3\) and ratio"
    ):
        resolve_config(config(ratio=0.3))
    with pytest.raises(ConfigError, match=r"tasks\.summary\.sentences: neither"):
        resolve_config(config(sentences=None))
    with pytest.raises(ConfigError, match=r"tasks\.summary\.ratio: 1\.5 is invalid"):
        resolve_config(config(sentences=None, ratio=1.5))
    assert resolve_config(config(sentences=None, ratio=0.3))["tasks"]["summary"]["ratio"] == 0.3
    with pytest.raises(ConfigError, match=r"tasks\.news\.sentences: both"):
        LeadSummary(ratio=0.5).fit([], tmp_path / "tasks" / "news")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*W095")  # en_core_web_md 3.7.1 under spaCy 3.8: harmless
def test_word_vector_similarity_finds_the_topic_sentences(stages, lee_docs, tmp_path):
    topic = [s.text for s in lee_docs[8].sentences]
    strays = [lee_docs[i].sentences[0].text for i in (2, 16, 18, 32, 36)]
    case = next(stages.pipe([Document.from_text(" ".join(topic + strays), id="case")]))
    task = TextRankSummary(sentences=3, similarity="vectors", drop_stop=True)
    _, predictions, _ = _fit(task, [*lee_docs[:5], case], tmp_path)
    assert all(i < len(topic) for i in predictions[-1]["sentences"])
    assert not (tmp_path / "run" / "tasks" / "summary" / "idf.json").exists()


@pytest.mark.slow
def test_a_run_summarises_bbc_articles_and_scores_them(shared_data, tmp_path):
    from pipeline.runner import run

    rows = [json.loads(line) for line in (shared_data / BBC).open(encoding="utf-8")][:8]
    corpus = tmp_path / "bbc.jsonl"
    corpus.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    config = resolve_config(
        {
            "name": "bbc-summaries",
            "corpus": {"reader": "jsonl", "path": str(corpus), "text_field": "article"},
            "stages": STAGES[:2],
            "tasks": {"summary": {"method": "textrank", "reference": "summary"}},
            "output": {"dir": str(tmp_path / "run")},
        }
    )
    result = run(config)
    folder = result.run_dir / "tasks" / "summary"
    predictions = [json.loads(line) for line in (folder / "predictions.jsonl").open()]
    assert sorted(p["id"] for p in predictions) == sorted(row["id"] for row in rows)
    references = {row["id"]: row["summary"] for row in rows}
    metrics = json.loads((folder / "metrics.json").read_text())
    expected = rouge_scores(
        [p["summary"] for p in predictions], [references[p["id"]] for p in predictions]
    )
    _assert_same_rouge(metrics["rouge"], expected)
    assert metrics["documents"] == 8
    assert json.loads((folder / "report.json").read_text())["order"] == 40
    loaded = TextRankSummary.load(folder)
    assert loaded.reference == "summary" and loaded.documents_ == 8
