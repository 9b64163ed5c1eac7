"""The `entities` task on real text: coreference and surname merges, counts over time, bad input."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from components.analytics.entities import Entities, document_entities
from pipeline.config import ConfigError
from pipeline.pipeline import Pipeline

LINGUISTIC = [
    {"tokenize": {"backend": "spacy"}},
    {"sentences": {"backend": "rules"}},
    {"pos": {}},
    {"ner": {}},
    {"coref": {}},
]
LABELS = ["PERSON", "ORG", "GPE", "LOC"]


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline.from_config({"stages": LINGUISTIC})


@pytest.fixture(scope="module")
def lee_docs(pipeline, lee_texts):
    """24 Lee articles, then article 41 ("Richard Reid" ... "Mr Reid") and 53 ("Ms Stringer")."""
    texts = lee_texts[:24] + [lee_texts[41], lee_texts[53]]
    return list(pipeline.pipe(texts))


def fit(docs, folder: Path, **params) -> tuple[dict, list[dict]]:
    Entities(**params).fit(docs, folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    with (folder / "predictions.jsonl").open() as fh:
        predictions = [json.loads(line) for line in fh]
    return metrics, predictions


def counts_of(prediction: dict) -> dict[tuple[str, str], int]:
    return {(e["text"], e["label"]): e["mentions"] for e in prediction["entities"]}


def test_pronouns_count_for_the_person_as_the_coref_chains_say(pipeline, shared_data, tmp_path):
    rows = csv.DictReader(
        (shared_data / "coref" / "gap-development.tsv").open(encoding="utf-8"), delimiter="\t"
    )
    text = next(row["Text"] for row in rows if row["ID"] == "development-6")
    doc = pipeline(text)
    name = next(e for e in doc.entities if e.text == "Sandra Collins")
    chain = next(c for c in doc.coref if any(m.start == name.start for m in c))
    chained = {(m.start, m.end) for m in chain}
    outside = [e for e in doc.entities if e.text == name.text and (e.start, e.end) not in chained]
    assert any(m.text.lower() in ("she", "her", "herself") for m in chain)

    _, predictions = fit([doc], tmp_path / "tasks" / "people")
    assert counts_of(predictions[0])[("Sandra Collins", "PERSON")] == len(chain) + len(outside)
    found, _ = document_entities(doc, labels=LABELS, use_coref=False)
    alone = next(e.mentions for e in found if e.text == "Sandra Collins")
    assert alone == 1 + len(outside) < len(chain)


def test_a_title_and_surname_count_for_the_full_name(lee_docs, tmp_path):
    doc = lee_docs[-2]  # Lee article 41
    people = [e for e in doc.entities if e.label == "PERSON"]
    short = [e for e in people if re.fullmatch(r"(Mr\.? )?Reid('s)?", e.text)]
    full = [e for e in people if e.text.endswith("Reid") and e not in short]
    assert {e.text for e in full} == {"Richard Reid"}
    assert any(e.text.startswith("Mr") for e in short)

    _, predictions = fit([doc], tmp_path / "tasks" / "people", use_coref=False)
    counts = counts_of(predictions[0])
    assert counts[("Richard Reid", "PERSON")] == len(full) + len(short)
    assert not any(text in ("Reid", "Mr Reid") for text, _ in counts)
    stringer = counts_of(fit([lee_docs[-1]], tmp_path / "tasks" / "p2", use_coref=False)[1][0])
    assert ("Anne Stringer", "PERSON") in stringer  # "Spokeswoman Anne Stringer", "Ms Stringer"
    assert ("Stringer", "PERSON") not in stringer


def test_mentions_over_time_follow_the_documents_dates(lee_docs, tmp_path):
    docs = lee_docs[:24]
    months = ["2024-01", "2024-02", "2024-03"]
    for i, doc in enumerate(docs):
        doc.meta["published"] = None if i >= 21 else f"{months[i % 3]}-{10 + i:02d}T08:00:00Z"
    folder = tmp_path / "tasks" / "entities"
    metrics, predictions = fit(docs, folder, period="month", use_coref=False)
    assert metrics["dated_documents"] == 21 and metrics["undated_documents"] == 3

    expected: Counter[tuple[str, str, str]] = Counter()
    totals: Counter[tuple[str, str]] = Counter()
    documents: Counter[tuple[str, str]] = Counter()
    for i, prediction in enumerate(predictions):
        for (text, label), n in counts_of(prediction).items():
            key = (text.casefold(), label)
            totals[key] += n
            documents[key] += 1
            if i < 21:
                expected[(months[i % 3], text.casefold(), label)] += n
    with (folder / "entity_trends.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {r["period"] for r in rows} <= set(months)
    for row in rows:
        key = (row["period"], row["entity"].casefold(), row["label"])
        assert int(row["mentions"]) == expected[key]

    top = json.loads((folder / "entities.json").read_text())["labels"]
    for label, entries in top.items():
        mentions = [entry["mentions"] for entry in entries]
        assert mentions == sorted(mentions, reverse=True)
        for entry in entries:
            assert entry["label"] == label
            assert entry["mentions"] == totals[(entry["entity"].casefold(), label)]
            assert entry["documents"] == documents[(entry["entity"].casefold(), label)]
    assert sum(totals.values()) == metrics["mentions"]

    report = json.loads((folder / "report.json").read_text())
    assert report["order"] == 25
    kinds = [block["kind"] for block in report["blocks"]]
    assert "image" in kinds and kinds.count("table") >= 2
    assert (folder / "entity_trends.png").stat().st_size > 10_000


def test_without_dates_there_are_no_trends_and_the_report_says_so(lee_docs, tmp_path):
    folder = tmp_path / "tasks" / "entities"
    docs = [d for d in lee_docs[:5]]
    for doc in docs:
        doc.meta.pop("published", None)
    metrics, predictions = fit(docs, folder)
    assert metrics["undated_documents"] == 5 and len(predictions) == 5
    assert not (folder / "entity_trends.csv").exists()
    report = json.loads((folder / "report.json").read_text())
    assert any("no counts over time" in b.get("text", "") for b in report["blocks"])


def test_without_the_ner_stage_the_error_names_it(lee_texts, tmp_path):
    docs = list(
        Pipeline.from_config({"stages": [{"tokenize": {"backend": "spacy"}}]}).pipe(lee_texts[:2])
    )
    with pytest.raises(ConfigError, match=r"tasks\.people: .*add a `ner` stage"):
        Entities().fit(docs, tmp_path / "tasks" / "people")
    assert not (tmp_path / "tasks" / "people" / "predictions.jsonl").exists()


def test_documents_in_other_languages_are_counted_not_failed(pipeline, shared_data, tmp_path):
    from corpora.feeds import FeedReader

    german = [d for d in FeedReader(path=str(shared_data / "feeds/real/heise.atom")).read()][:4]
    docs = list(pipeline.pipe(german))
    assert all(d.entities is None for d in docs)
    metrics, predictions = fit(docs, tmp_path / "tasks" / "entities")
    assert metrics["skipped"] == {"ner skipped (de)": 4}
    assert [p["entities"] for p in predictions] == [[], [], [], []]
    assert Entities().predict_document(docs[0])["skipped"] == "ner skipped (de)"


def test_predict_equals_the_fitted_predictions(lee_docs, tmp_path):
    folder = tmp_path / "tasks" / "entities"
    _, predictions = fit(lee_docs[:6], folder)
    Entities().save(folder)
    task = Entities.load(folder)
    assert list(task.predict(lee_docs[:6])) == predictions


def test_coref_adds_mentions_and_moves_only_a_persons_last_names(lee_docs):
    added = moved = 0
    for doc in lee_docs:
        with_chains, _ = document_entities(doc, labels=LABELS, use_coref=True)
        alone, _ = document_entities(doc, labels=LABELS, use_coref=False)
        names = {(e.text, e.label) for e in with_chains if e.label != "PERSON"}
        before = {(e.text, e.label) for e in alone if e.label != "PERSON"}
        people = [e.text for e in with_chains if e.label == "PERSON"]
        assert names <= before
        for text, _ in before - names:  # a mislabelled surname ("Razzano", ORG) joins its person
            assert any(p.endswith(" " + text) for p in people), text
            moved += 1
        counts = {(e.text, e.label): e.mentions for e in with_chains}
        for e in alone:
            if (e.text, e.label) in names:
                assert counts[(e.text, e.label)] >= e.mentions
        added += sum(e.mentions for e in with_chains) - sum(e.mentions for e in alone)
    assert added > 0 and moved >= 1
