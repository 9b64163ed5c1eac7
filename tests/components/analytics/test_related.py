"""The `related` task on real news: top-k neighbours, near-duplicates across feeds, save/load, scale paths."""

from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from components.analytics import neighbours
from components.analytics.base import document_tokens
from components.analytics.related import RelatedStories
from pipeline.config import ConfigError, resolve_config
from pipeline.document import Document
from pipeline.pipeline import Pipeline
from pipeline.runner import run

STAGES = [
    {"tokenize": {"backend": "spacy"}},
    {"sentences": {"backend": "rules"}},
    {"stopwords": {"lists": ["spacy"]}},
]


@pytest.fixture(scope="module")
def lee_docs(lee_texts) -> list[Document]:
    return list(Pipeline.from_config({"stages": STAGES}).pipe(lee_texts))


def fit(docs, folder: Path, **params) -> tuple[dict, list[dict], list[dict]]:
    RelatedStories(**params).fit(docs, folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    groups = json.loads((folder / "groups.json").read_text())
    with (folder / "predictions.jsonl").open() as fh:
        return metrics, [json.loads(line) for line in fh], groups


def test_top_k_leaves_the_document_out_and_matches_a_dense_cosine(lee_docs, tmp_path, monkeypatch):
    monkeypatch.setattr(neighbours, "BLOCK_CELLS", 3_000)  # 10 rows per block over 300 documents
    folder = tmp_path / "tasks" / "related"
    metrics, predictions, _ = fit(lee_docs, folder)
    assert metrics["compared"] == 300 and metrics["search"] == "exact"

    import scipy.sparse as sp

    task = RelatedStories()
    task.fit(lee_docs, tmp_path / "tasks" / "again")
    task.save(tmp_path / "saved")
    matrix = sp.load_npz(tmp_path / "saved" / "matrix.npz").toarray()
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    dense = matrix @ matrix.T
    np.fill_diagonal(dense, -np.inf)
    ids = [d.id for d in lee_docs]
    scores_by_pair = {}
    for i, prediction in enumerate(predictions):
        assert prediction["id"] == ids[i]
        scores = [r["score"] for r in prediction["related"]]
        assert len(scores) == 5 and scores == sorted(scores, reverse=True)
        if ids.count(ids[i]) == 1:  # (a verbatim copy elsewhere in the corpus shares the id)
            assert ids[i] not in [r["id"] for r in prediction["related"]]
        best = np.sort(dense[i])[::-1][:5]
        assert np.allclose(scores, best, atol=1e-4)
        for r in prediction["related"]:
            scores_by_pair[(prediction["id"], r["id"])] = r["score"]
    mutual = [(a, b) for a, b in scores_by_pair if (b, a) in scores_by_pair and a != b]
    assert len(mutual) > 100  # cosine is symmetric: a pair listed both ways has one score
    assert all(abs(scores_by_pair[a, b] - scores_by_pair[b, a]) < 1e-4 for a, b in mutual)


def test_verbatim_copies_in_the_lee_corpus_are_grouped(lee_docs, tmp_path):
    _, predictions, groups = fit(lee_docs, tmp_path / "tasks" / "related")
    copies = {}
    for doc in lee_docs:
        copies.setdefault(doc.id, []).append(doc)
    repeated = {i for i, docs in copies.items() if len(docs) > 1}
    assert repeated  # the corpus holds the same article twice under one content id
    grouped = [{m["id"] for m in g["members"]} for g in groups]
    for doc_id in repeated:
        assert {doc_id} in grouped
    by_id = {p["id"]: p for p in predictions}
    assert all(by_id[i]["group"] is not None for i in repeated)


def test_near_duplicates_are_grouped_by_their_jaccard_similarity(shared_data, tmp_path):
    rows = [
        json.loads(line)
        for line in (shared_data / "summarization" / "bbc_news_summary_first_half.jsonl").open()
    ]
    chosen = [r for r in rows if r["id"].split("/")[0] in ("tech", "business")]
    docs = [Document.from_text(r["article"], id=r["id"]) for r in chosen]
    docs = list(Pipeline.from_config({"stages": [{"tokenize": {"backend": "regex"}}]}).pipe(docs))
    _, predictions, groups = fit(docs, tmp_path / "tasks" / "related", drop_stop=False)

    from sklearn.feature_extraction.text import CountVectorizer

    # exact Jaccard similarity of every pair's word 3-gram sets, as a sparse product
    words = [document_tokens(d, field="lower", drop_stop=False, where="t") for d in docs]
    sets = [{" ".join(w[i : i + 3]) for i in range(len(w) - 2)} for w in words]
    binary = CountVectorizer(analyzer=lambda s: s, binary=True).fit_transform(sets)
    shared = (binary @ binary.T).toarray()
    sizes = np.asarray(binary.sum(axis=1)).ravel()
    jaccard = shared / (sizes[:, None] + sizes[None, :] - shared)
    group_of = {p["id"]: p["group"] for p in predictions}
    related_of = {p["id"]: {r["id"] for r in p["related"]} for p in predictions}
    close, apart = [], []
    for i, j in zip(*np.triu_indices(len(docs), k=1), strict=True):
        if jaccard[i, j] >= 0.9:
            close.append((docs[i].id, docs[j].id))
        elif 0.3 <= jaccard[i, j] < 0.75:
            apart.append((docs[i].id, docs[j].id))
    assert len(close) >= 10 and apart  # real re-published stories, and one follow-up story
    for a, b in close:
        assert group_of[a] is not None and group_of[a] == group_of[b]
    for a, b in apart:  # the same subject, a different story: related, not a duplicate
        assert group_of[a] is None or group_of[a] != group_of[b]
        assert b in related_of[a] and a in related_of[b]
    assert sum(g["size"] for g in groups) == sum(g is not None for g in group_of.values())


def test_one_story_carried_by_two_real_feeds_is_one_group(shared_data, tmp_path):
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    shutil.copy(shared_data / "feeds" / "real" / "guardian.rss", feeds / "guardian.rss")
    shutil.copy(shared_data / "feeds" / "malformed" / "guardian_truncated.rss", feeds / "cut.rss")
    config = resolve_config(
        {
            "name": "related-feeds",
            "corpus": {"reader": "feeds", "path": str(feeds)},
            "stages": [{"tokenize": {"backend": "regex"}}],
            "tasks": {"stories": {"method": "related", "drop_stop": False}},
            "output": {"dir": str(tmp_path / "run")},
        }
    )
    folder = run(config).run_dir / "tasks" / "stories"
    groups = json.loads((folder / "groups.json").read_text())
    predictions = [json.loads(line) for line in (folder / "predictions.jsonl").open()]
    assert len(predictions) == 55 + 22  # every item of both feeds, the cut one's recovered items

    def feed(member: dict) -> str:
        return Path(member["source"]).name

    both = [g for g in groups if {feed(m) for m in g["members"]} == {"guardian.rss", "cut.rss"}]
    assert len(both) == 22
    for group in both:
        assert group["size"] == 2 and len({m["title"] for m in group["members"]}) == 1
    carried = {m["id"] for g in both for m in g["members"]}
    assert all(p["group"] is None for p in predictions if p["id"] not in carried)
    report = json.loads((folder / "report.json").read_text())
    assert report["order"] == 45
    assert any(b.get("title") == "Largest near-duplicate groups" for b in report["blocks"])


def test_a_single_document_and_empty_documents_are_counted(lee_docs, tmp_path):
    metrics, predictions, groups = fit(lee_docs[:1], tmp_path / "tasks" / "one")
    assert metrics["compared"] == 1 and predictions == [
        {"id": lee_docs[0].id, "related": [], "group": None}
    ]
    assert groups == []

    empty = list(Pipeline.from_config({"stages": STAGES}).pipe(["", "... !!! ---", " "]))
    docs = lee_docs[:20] + empty
    metrics, predictions, _ = fit(docs, tmp_path / "tasks" / "some")
    assert metrics["skipped"] == {"empty": 3} and metrics["compared"] == 20
    assert [p["related"] for p in predictions[20:]] == [[], [], []]
    listed = {r["id"] for p in predictions for r in p["related"]}
    assert not listed & {d.id for d in empty}

    metrics, predictions, _ = fit(empty, tmp_path / "tasks" / "none")
    assert metrics["compared"] == 0 and len(predictions) == 3


def test_predictions_survive_save_and_load(lee_docs, tmp_path, lee_texts):
    from gensim.test.utils import datapath

    folder = tmp_path / "tasks" / "related"
    task = RelatedStories(k=3)
    task.fit(lee_docs, folder)
    task.save(folder)
    with open(datapath("lee.cor"), encoding="latin-1") as fh:
        unseen = [line.strip() for line in fh if line.strip()][:10]
    new_docs = list(Pipeline.from_config({"stages": STAGES}).pipe(unseen))
    before = list(task.predict(new_docs))
    loaded = RelatedStories.load(folder)
    assert list(loaded.predict(new_docs)) == before
    assert all(len(p["related"]) == 3 for p in before)
    fitted = {
        json.loads(line)["id"]: json.loads(line) for line in (folder / "predictions.jsonl").open()
    }
    ids = [d.id for d in lee_docs]
    for doc in lee_docs[:30]:
        if ids.count(doc.id) == 1:  # a corpus document gets its fitted neighbours back
            assert loaded.predict_document(doc)["related"] == fitted[doc.id]["related"]


def test_document_vectors_of_the_run_can_be_compared(lee_docs, tmp_path):
    from components.represent.docvectors import DocVectors

    run_dir = tmp_path / "run"
    learner = DocVectors(vectors="glove-6b-50d", method="mean").fit(lee_docs[:60])
    learner.save(run_dir / "represent" / "docvectors")
    folder = run_dir / "tasks" / "related"
    metrics, predictions, _ = fit(
        lee_docs[:60], folder, features="vectors", duplicates="cosine", threshold=0.99
    )
    assert metrics["features"] == "vectors" and metrics["compared"] == 60
    assert all(len(p["related"]) == 5 for p in predictions)
    task = RelatedStories(features="vectors")
    task.fit(lee_docs[:60], folder)
    task.save(folder)
    assert RelatedStories.load(folder).predict_document(lee_docs[70]) == task.predict_document(
        lee_docs[70]
    )

    with pytest.raises(ConfigError, match=r"tasks\.related\.features: .*docvectors"):
        RelatedStories(features="vectors").fit(
            lee_docs[:5], tmp_path / "other" / "tasks" / "related"
        )


def test_without_stop_words_flagged_the_error_names_the_stage(lee_texts, tmp_path):
    docs = list(Pipeline.from_config({"stages": STAGES[:1]}).pipe(lee_texts[:3]))
    with pytest.raises(ConfigError, match=r"tasks\.stories\.drop_stop: .*stopwords"):
        RelatedStories().fit(docs, tmp_path / "tasks" / "stories")


def test_a_missing_pynndescent_is_one_clear_error(lee_docs, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynndescent", None)  # as if it were not installed
    with pytest.raises(ConfigError, match=r"exact_limit: 40 documents .*nlp-pipeline\[ann\]"):
        RelatedStories(exact_limit=20).fit(lee_docs[:40], tmp_path / "tasks" / "related")


@pytest.mark.slow  # pynndescent compiles its numba kernels in each new process (30-60 s)
def test_approximate_neighbours_recall_the_exact_ones(lee_docs, tmp_path):
    _, exact, _ = fit(lee_docs, tmp_path / "tasks" / "exact")
    metrics, approximate, _ = fit(lee_docs, tmp_path / "tasks" / "ann", exact_limit=100)
    assert metrics["search"] == "approximate (pynndescent)"
    hits = total = 0
    for e, a in zip(exact, approximate, strict=True):
        truth = Counter(r["id"] for r in e["related"])  # (the corpus repeats a few ids)
        found = Counter(r["id"] for r in a["related"])
        assert found.total() == 5
        hits += (truth & found).total()
        total += truth.total()
    assert hits / total >= 0.9
