"""The clustering tasks on real news: BBC articles of two very different sections (sport and
tech: K-Means with k = 2 separates them on every seed tried; three or five sections it
recovers only partly, NMI ~0.6, as the README reports), and one run through the engine."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from components.analytics.clusters import AgglomerativeClusters, DbscanClusters, KMeansClusters
from pipeline.config import ConfigError, component_model, resolve_config
from pipeline.document import Document
from pipeline.pipeline import Pipeline

STAGES = [{"tokenize": {"backend": "regex"}}, {"stopwords": {"lists": ["sklearn"]}}]
SECTIONS = ("sport", "tech")
#: words a reader would expect among the top terms of each section's cluster
SECTION_WORDS = {
    "sport": {"game", "match", "win", "club", "cup", "team", "players", "season", "coach",
              "olympic", "champion", "athletics", "race", "world", "title", "injury"},
    "tech": {"technology", "users", "software", "computer", "mobile", "net", "people",
             "digital", "phone", "internet", "online", "games", "microsoft", "music"},
}  # fmt: skip


@pytest.fixture(autouse=True)
def one_thread():
    """K-Means' OpenMP threads compete with the other test workers: one each is faster."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def bbc_docs(shared_data) -> list[Document]:
    """The first 60 BBC articles of each of two sections, tokenized, `meta["label"]` the
    section, plus one empty document."""
    path = shared_data / "summarization" / "bbc_news_summary_first_half.jsonl"
    taken: Counter[str] = Counter()
    docs = []
    for line in path.open(encoding="utf-8"):
        row = json.loads(line)
        section = row["id"].split("/")[0]
        if section in SECTIONS and taken[section] < 60:
            taken[section] += 1
            docs.append(Document(id=row["id"], text=row["article"], meta={"label": section}))
    docs.insert(7, Document(id="empty", text="  ", meta={"label": "sport"}))
    return list(Pipeline.from_config({"stages": STAGES}).pipe(docs))


def fit(task, docs, folder: Path) -> tuple[dict, list[dict], list[dict]]:
    task.fit(docs, folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    profiles = json.loads((folder / "profiles.json").read_text())
    with (folder / "predictions.jsonl").open() as fh:
        return metrics, [json.loads(line) for line in fh], profiles


def majority_sections(predictions: list[dict], docs: list[Document]) -> dict[int, str]:
    by_cluster: dict[int, Counter[str]] = {}
    for p, doc in zip(predictions, docs, strict=True):
        if p["cluster"] is not None:
            by_cluster.setdefault(p["cluster"], Counter())[doc.meta["label"]] += 1
    return {c: counts.most_common(1)[0][0] for c, counts in by_cluster.items()}


def test_kmeans_recovers_the_sections_and_names_them_by_their_terms(bbc_docs, tmp_path):
    folder = tmp_path / "run" / "tasks" / "groups"
    task = KMeansClusters(k=2, seed=1)
    metrics, predictions, profiles = fit(task, bbc_docs, folder)
    assert [p["id"] for p in predictions] == [d.id for d in bbc_docs]
    assert metrics["documents"] == 121 and metrics["clustered"] == 120
    assert metrics["skipped"] == {"empty": 1}
    assert next(p for p in predictions if p["id"] == "empty")["cluster"] is None
    assert metrics["k"] == 2 and sum(metrics["cluster_sizes"].values()) == 120
    external = metrics["external"]
    assert external["nmi"] > 0.9 and external["nmi_shuffled"] < 0.05
    majority = majority_sections(predictions, bbc_docs)
    assert sorted(majority.values()) == sorted(SECTIONS)  # one cluster per section
    for profile in profiles:
        terms = {t for t, _ in profile["top_terms"]}
        assert len(terms & SECTION_WORDS[majority[profile["cluster"]]]) >= 2, terms
    assert (folder / "projection.png").is_file() and (folder / "report.json").is_file()

    task.save(folder)
    loaded = KMeansClusters.load(folder)
    sample = bbc_docs[::9]
    predicted = list(loaded.predict(sample))
    assert predicted == list(task.predict(sample))
    fitted = {p["id"]: p["cluster"] for p in predictions}
    agree = sum(p["cluster"] == fitted[p["id"]] for p in predicted)
    assert agree == len(sample)  # k-means' own labels are the nearest centroids


def test_k_by_silhouette_over_a_range_is_plotted_and_recorded(bbc_docs, tmp_path):
    folder = tmp_path / "tasks" / "groups"
    metrics, _, _ = fit(KMeansClusters(k=[2, 5], projection=None), bbc_docs, folder)
    selection = metrics["k_selection"]
    assert selection["ks"] == [2, 3, 4, 5] and len(selection["inertia"]) == 4
    best = max(range(4), key=lambda i: selection["silhouette"][i])
    assert metrics["k"] == selection["chosen"] == selection["ks"][best]
    assert all(a > b for a, b in zip(selection["inertia"], selection["inertia"][1:], strict=False))
    assert (folder / "k_selection.png").is_file() and not (folder / "projection.png").exists()


def test_agglomerative_and_dbscan_on_the_same_articles(bbc_docs, tmp_path):
    metrics, predictions, _ = fit(
        AgglomerativeClusters(k=2, projection=None), bbc_docs, tmp_path / "tasks" / "tree"
    )
    assert metrics["k"] == 2 and metrics["linkage"] == "ward"
    assert metrics["external"]["nmi"] > 0.8
    metrics, predictions, _ = fit(
        DbscanClusters(min_samples=4, projection=None), bbc_docs, tmp_path / "tasks" / "d"
    )
    noise = sum(p["cluster"] == -1 for p in predictions)
    assert metrics["noise"] == noise and noise > 0
    assert metrics["clustered"] == noise + sum(metrics["cluster_sizes"].values())
    assert metrics["eps_from"] == "k-distance knee"
    assert (tmp_path / "tasks" / "d" / "k_distance.png").is_file()


def test_the_runs_document_vectors_are_clustered(bbc_docs, tmp_path):
    from components.represent.docvectors import DocVectors

    run_dir = tmp_path / "run"
    learner = DocVectors(vectors="glove-6b-50d", method="mean").fit(bbc_docs)
    learner.save(run_dir / "represent" / "docvectors")
    folder = run_dir / "tasks" / "groups"
    task = KMeansClusters(k=2, features="docvectors", projection=None, seed=1)
    metrics, predictions, profiles = fit(task, bbc_docs, folder)
    assert metrics["features"] == "docvectors" and metrics["feature_columns"] == 50
    assert metrics["skipped"] == {"no_vector": 1}  # the empty document
    assert metrics["external"]["nmi"] > 0.5
    assert all("top_terms" not in p for p in profiles)
    task.save(folder)
    sample = bbc_docs[::10]
    assert list(KMeansClusters.load(folder).predict(sample)) == list(task.predict(sample))


def test_config_mistakes_are_named(bbc_docs, tmp_path):
    assert KMeansClusters.check_params({"k": [5, 3]})
    assert KMeansClusters.check_params({"k": 1})
    assert not KMeansClusters.check_params({"k": [2, 8], "features": "tfidf"})
    assert AgglomerativeClusters.check_params({"k": 3, "distance_threshold": 1.0})
    assert not AgglomerativeClusters.check_params({"k": None, "distance_threshold": 1.0})
    assert KMeansClusters.check_params({"k": 3, "features": {"tables": {}}})
    with pytest.raises(ConfigError, match=r"tasks\.groups\.features: 'docvectors'"):
        KMeansClusters(k=3, features="docvectors").fit(bbc_docs, tmp_path / "tasks" / "groups")
    with pytest.raises(ConfigError, match=r"tasks\.groups\.k"):
        KMeansClusters(k=[3, 4]).fit(bbc_docs[:3], tmp_path / "tasks" / "groups")
    assert not (tmp_path / "tasks" / "groups").exists()  # nothing written
    model = component_model("task", "kmeans")
    assert model.model_validate({"k": [4, 12]}).model_dump()["k"] == [4, 12]


@pytest.mark.slow
def test_kmeans_runs_from_a_config_over_real_posts(tmp_path):
    from pipeline.runner import run

    config = resolve_config(
        {
            "name": "clusters",
            "corpus": {"reader": "newsgroups-mini"},
            "stages": STAGES,
            "tasks": {"groups": {"method": "kmeans", "k": [2, 4], "seed": 1}},
            "output": {"dir": str(tmp_path / "run")},
        }
    )
    run(config)
    folder = tmp_path / "run" / "tasks" / "groups"
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["documents"] == 200 and metrics["k"] in (2, 3, 4)
    assert metrics["external"]["classes"] == 2  # alt.atheism and sci.space
    assert metrics["external"]["nmi"] > metrics["external"]["nmi_shuffled"]
    lines = (folder / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 200
    for name in ("profiles.json", "k_selection.png", "projection.png", "report.json"):
        assert (folder / name).is_file()
    assert "Clusters (kmeans)" in (tmp_path / "run" / "report.html").read_text()


@pytest.fixture(scope="module")
def iris_rows() -> list[Document]:
    """scikit-learn's iris flowers (150 rows) read by the `table` reader, `meta["label"]`
    the species."""
    from corpora.table import TableReader

    return list(TableReader(dataset="sklearn:iris", label_column="target").read())


def test_table_rows_are_clustered_and_profiled_in_their_own_units(iris_rows, tmp_path):
    folder = tmp_path / "tasks" / "flowers"
    spec = {"numbers": "auto", "scale": "standard"}
    task = KMeansClusters(k=3, features={"table": spec}, projection=None, seed=0)
    metrics, predictions, profiles = fit(task, iris_rows, folder)
    assert metrics["features"] == "table" and metrics["feature_columns"] == 4
    assert metrics["external"]["classes"] == 3 and metrics["external"]["nmi"] > 0.6
    petal = "petal length (cm)"
    lengths = {d.id: d.meta["row"][petal] for d in iris_rows}
    overall = sum(lengths.values()) / len(lengths)
    for profile in profiles:
        members = [lengths[p["id"]] for p in predictions if p["cluster"] == profile["cluster"]]
        entry = next(f for f in profile["features"] if f["feature"] == petal)
        assert entry["used"] and entry["cluster_mean"] == pytest.approx(
            sum(members) / len(members), abs=1e-3
        )
        assert entry["overall_mean"] == pytest.approx(overall, abs=1e-3)
    task.save(folder)
    loaded = KMeansClusters.load(folder)
    fitted = {p["id"]: p["cluster"] for p in predictions}
    sample = iris_rows[::15]
    assert [p["cluster"] for p in loaded.predict(sample)] == [fitted[d.id] for d in sample]
    assert list(loaded.predict([Document(id="x", text="no row")])) == [{"id": "x", "cluster": None}]
    assert KMeansClusters.check_params({"k": 3, "features": {"table": {"scale": "huge"}}})


@pytest.mark.slow
def test_segments_run_from_a_config_over_table_rows(tmp_path):
    from pipeline.runner import run

    config = resolve_config(
        {
            "name": "segments",
            "corpus": {"reader": "table", "dataset": "sklearn:wine", "label_column": "target"},
            "stages": [],
            "tasks": {
                "segments": {
                    "method": "kmeans",
                    "k": [2, 5],
                    "features": {"table": {"numbers": "auto", "scale": "standard"}},
                    "seed": 1,
                }
            },
            "output": {"dir": str(tmp_path / "run")},
        }
    )
    run(config)
    folder = tmp_path / "run" / "tasks" / "segments"
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["documents"] == 178 and metrics["feature_columns"] == 13
    assert metrics["k"] == metrics["k_selection"]["chosen"]
    assert metrics["external"]["classes"] == 3
    profiles = json.loads((folder / "profiles.json").read_text())
    assert len(profiles) == metrics["k"] and all(p["features"][0]["used"] for p in profiles)
    for name in ("k_selection.png", "projection.png", "features.skops", "report.json"):
        assert (folder / name).is_file()
