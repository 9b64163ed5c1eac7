"""The `keywords` task on real Lee articles: TF-IDF against scikit-learn, TextRank phrases
from the token layer, YAKE equal to the package, corpus keyphrases and bad input."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import orjson
import pytest
import yake

from components.analytics.keywords import Keywords
from pipeline.config import ConfigError
from pipeline.document import Document
from pipeline.pipeline import Pipeline

STAGES = [
    {"tokenize": {"backend": "spacy"}},
    {"sentences": {"backend": "rules"}},
    {"stopwords": {"lists": ["spacy"]}},
]
ALGORITHMS = ("tfidf", "textrank", "yake")


@pytest.fixture(scope="module")
def docs(lee_texts) -> list[Document]:
    """40 Lee articles with tokens, sentences, stopwords and POS tags."""
    return list(Pipeline.from_config({"stages": [*STAGES, {"pos": {}}]}).pipe(lee_texts[:40]))


@pytest.fixture(scope="module")
def stopwords() -> set[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return set(STOP_WORDS)


def _fit(task: Keywords, docs: list[Document], folder: Path) -> Path:
    task.fit(docs, folder)
    return folder


def _predictions(folder: Path) -> list[dict]:
    return [orjson.loads(line) for line in (folder / "predictions.jsonl").open("rb")]


def _collapsed(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_keyphrases_are_phrases_of_the_article_without_stopwords(
    algorithm, docs, stopwords, tmp_path
):
    task = Keywords(algorithm=algorithm, top=10)
    _fit(task, docs, tmp_path / algorithm)
    doc = docs[0]  # the Southern Highlands bushfire article
    phrases = [k["phrase"] for k in task.predict_document(doc)["keywords"]]
    scores = [k["score"] for k in task.predict_document(doc)["keywords"]]
    assert len(phrases) == 10 == len(set(p.lower() for p in phrases))
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0
    text = _collapsed(doc.text)
    # the stopwords the algorithm was given: the stage's (spaCy's), YAKE's own list
    stops = yake.KeywordExtractor().stopword_set if algorithm == "yake" else stopwords
    for phrase in phrases:
        assert _collapsed(phrase) in text  # multiword phrases are contiguous in the text
        words = phrase.lower().split()
        assert len(words) <= 3
        assert words[0] not in stops and words[-1] not in stops
    assert any(len(p.split()) > 1 for p in phrases)
    assert any("wales" in p.lower() or "fire" in p.lower() for p in phrases)


def test_tfidf_scores_equal_scikit_learns_tfidf(docs, tmp_path):
    from sklearn.feature_extraction.text import TfidfVectorizer

    task = Keywords(algorithm="tfidf", ngram_max=1, top=15)
    _fit(task, docs, tmp_path / "tfidf")
    # the same terms: lowercased non-stopword tokens that have a letter
    terms = [
        [
            t.lower()
            for t, stop in zip(d.tokens.text, d.tokens.is_stop, strict=True)
            if not stop and t.isalpha()
        ]
        for d in docs
    ]
    vectorizer = TfidfVectorizer(analyzer=lambda x: x, norm=None, smooth_idf=True)
    matrix = vectorizer.fit_transform(terms)
    vocabulary = vectorizer.vocabulary_
    for i in (0, 7, 21):
        for keyword in task.predict_document(docs[i])["keywords"]:
            expected = matrix[i, vocabulary[keyword["phrase"].lower()]]
            assert keyword["score"] == pytest.approx(expected, rel=1e-6)
        best = max(matrix[i].toarray()[0])
        assert task.predict_document(docs[i])["keywords"][0]["score"] == pytest.approx(best)


def test_tfidf_bigrams_never_span_a_stopword_or_punctuation(docs, tmp_path):
    task = Keywords(algorithm="tfidf", top=40)
    _fit(task, docs, tmp_path / "tfidf")
    for doc in docs[:5]:
        for keyword in task.predict_document(doc)["keywords"]:
            assert keyword["phrase"].count(" ") <= 1
            assert _collapsed(keyword["phrase"]) in _collapsed(doc.text)


def test_yake_equals_the_packages_own_extraction(docs):
    task = Keywords(algorithm="yake", top=12, ngram_max=2)
    for doc in docs[:3]:
        ours = task.predict_document(doc)["keywords"]
        theirs = yake.KeywordExtractor(lan="en", n=2, top=12).extract_keywords(doc.text)
        assert [k["phrase"] for k in ours] == [phrase for phrase, _ in theirs]
        # YAKE: lower is better; ours is its inverse, higher is better
        assert [k["score"] for k in ours] == pytest.approx([1 / s for _, s in theirs], rel=1e-5)


def test_textrank_phrases_are_runs_of_nouns_and_adjectives(docs, tmp_path):
    task = Keywords(algorithm="textrank", top=20, ngram_max=4)
    _fit(task, docs, tmp_path / "textrank")
    doc = docs[0]
    tags = {}
    for text, pos in zip(doc.tokens.text, doc.tokens.pos, strict=True):
        tags.setdefault(text.lower(), set()).add(pos)
    phrases = [k["phrase"] for k in task.predict_document(doc)["keywords"]]
    for phrase in phrases:
        for word in phrase.lower().split():
            assert tags[word] & {"NOUN", "PROPN", "ADJ"}
    assert "New South Wales" in phrases


def test_textrank_without_pos_tags_takes_alphabetic_non_stopwords(lee_texts, stopwords):
    doc = Pipeline.from_config({"stages": STAGES})(lee_texts[0])
    keywords = Keywords(algorithm="textrank").predict_document(doc)["keywords"]
    assert keywords
    for keyword in keywords:
        for word in keyword["phrase"].split():
            assert word.replace("-", "").isalpha() and word.lower() not in stopwords


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_corpus_keyphrases_aggregate_the_documents(algorithm, docs, tmp_path):
    folder = _fit(Keywords(algorithm=algorithm, corpus_top=25), docs, tmp_path / "kw")
    documents: defaultdict[str, int] = defaultdict(int)
    scores: defaultdict[str, float] = defaultdict(float)
    rows = _predictions(folder)
    assert [r["id"] for r in rows] == [d.id for d in docs]
    for row in rows:
        best = row["keywords"][0]["score"]
        for keyword in row["keywords"]:
            documents[keyword["phrase"].lower()] += 1
            scores[keyword["phrase"].lower()] += keyword["score"] / best
    corpus = json.loads((folder / "keywords.json").read_text(encoding="utf-8"))
    assert len(corpus) == 25
    for entry in corpus:
        assert entry["documents"] == documents[entry["phrase"].lower()]
        assert entry["score"] == pytest.approx(scores[entry["phrase"].lower()], abs=1e-3)
    ranked = sorted(scores.values(), reverse=True)[:25]
    assert [e["score"] for e in corpus] == pytest.approx(ranked, abs=1e-3)
    section = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert section["order"] == 35
    (table,) = [b for b in section["blocks"] if b["kind"] == "table"]
    assert [row[0] for row in table["rows"]] == [e["phrase"] for e in corpus]


def test_empty_documents_are_counted_not_fatal(docs, tmp_path):
    process = Pipeline.from_config({"stages": STAGES})
    odd = [
        process(Document(id="blank", text=" \n ")),
        process(Document(id="stops", text="It is what it is.")),
    ]
    for algorithm in ALGORITHMS:
        folder = _fit(Keywords(algorithm=algorithm), [docs[0], *odd], tmp_path / algorithm)
        rows = _predictions(folder)
        assert "keywords" in rows[0]
        assert rows[1] == {"id": "blank", "skipped": "empty text"}
        metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        assert metrics["documents"] == 3
        assert sum(metrics["skipped"].values()) == 1 + ("keywords" not in rows[2])
    assert _predictions(tmp_path / "textrank")[2] == {"id": "stops", "skipped": "no content words"}


def test_a_missing_stage_is_a_config_error_naming_the_key(lee_texts, tmp_path):
    doc = Pipeline.from_config({"stages": [{"tokenize": {"backend": "regex"}}]})(lee_texts[0])
    with pytest.raises(ConfigError, match=r"tasks\.kw\.drop_stop: .*stopwords"):
        Keywords().fit([doc], tmp_path / "run" / "tasks" / "kw")
    with pytest.raises(ConfigError, match=r"tasks\.kw\.field: .*lemmatize"):
        Keywords(field="lemma", drop_stop=False).fit([doc], tmp_path / "run" / "tasks" / "kw")


def test_a_saved_tfidf_task_predicts_as_fitted(docs, lee_texts, tmp_path):
    task = Keywords(algorithm="tfidf")
    folder = _fit(task, docs, tmp_path / "tfidf")
    task.save(folder)
    loaded = Keywords.load(folder)
    assert loaded.predict_document(docs[3]) == _predictions(folder)[3]
    new = Pipeline.from_config({"stages": STAGES})(lee_texts[100])
    assert loaded.predict_document(new) == task.predict_document(new)
    with pytest.raises(ConfigError, match="fit the task"):
        Keywords(algorithm="tfidf").predict_document(docs[3])
