"""Every analytics task through the same checks, on real processed news.

The analytics tasks (topics, summaries, sentiment, keywords, entities, related stories) are
tasks like the classifiers but need no label, so their contract differs in one place:
`evaluate` either scores against a reference the documents carry or refuses with a
`ConfigError` saying so. The rest is the `pipeline.interfaces.Task` contract: `fit` writes
`metrics.json`, one prediction per document in corpus order and a report section; `save` /
`load` predict identically; the saved folder alone (`components.models.load`) turns raw
text into the same predictions, in input order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import components  # noqa: F401 - registers the tasks
from pipeline import registry
from pipeline.config import ConfigError, component_model
from pipeline.document import Document
from pipeline.pipeline import Pipeline

STAGES = [
    {"tokenize": {"backend": "spacy"}},
    {"sentences": {"backend": "rules"}},
    {"stopwords": {"lists": ["spacy"]}},
    {"pos": {}},
    {"ner": {}},
    {"coref": {}},
]
#: analytics tasks over something other than news text (ratings rows): tested on their own data
NOT_NEWS = {"mf"}
ANALYTICS = sorted(
    name
    for name in registry.names("task")
    if registry.lookup("task", name).__module__.startswith("components.analytics")
    and name not in NOT_NEWS
)
#: settings that keep each task small on 30 documents (a parameter a task lacks is ignored)
SMALL = {"num_topics": 3, "passes": 2, "k": 3}


@pytest.fixture(scope="module")
def news_docs(lee_texts) -> list[Document]:
    """30 Lee news articles through every stage an analytics task reads."""
    pipe = Pipeline.from_config({"stages": STAGES})
    return list(
        pipe.pipe(Document(id=f"lee-{i:03d}", text=t) for i, t in enumerate(lee_texts[:30]))
    )


def test_every_analytics_method_of_the_issue_is_registered():
    expected = {"lda", "nmf", "lead", "textrank", "lexrank", "vader", "keywords", "entities"}
    assert expected | {"related"} <= set(ANALYTICS)


def _fit(name: str, docs: list[Document], folder: Path) -> Any:
    cls = registry.lookup("task", name)
    accepted = registry.parameters(cls)
    small = {k: v for k, v in SMALL.items() if k in accepted}
    params = component_model("task", name).model_validate(small).model_dump(mode="json")
    folder.mkdir(parents=True)
    record = {"name": folder.name, "component": name, "params": params, "stages": STAGES}
    (folder / "pipeline.json").write_text(json.dumps({**record, "corpus": {"reader": "lee-news"}}))
    task = cls(**params).fit(docs, folder)
    task.save(folder)
    return task


@pytest.mark.slow
@pytest.mark.parametrize("name", ANALYTICS)
def test_fit_save_load_predict_on_real_news(name, news_docs, tmp_path):
    from components.models import load

    folder = tmp_path / "run" / "tasks" / name
    task = _fit(name, news_docs, folder)

    metrics = json.loads((folder / "metrics.json").read_text())
    assert isinstance(metrics, dict) and metrics
    section = json.loads((folder / "report.json").read_text())
    assert section["title"] and section["blocks"]
    for block in section["blocks"]:
        if block["kind"] == "image":
            assert (folder / block["path"]).is_file()
    rows = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]
    assert [row["id"] for row in rows] == [doc.id for doc in news_docs]

    sample = news_docs[::6]
    predicted = list(task.predict(sample))
    assert len(predicted) == len(sample) and list(task.predict([])) == []
    loaded = type(task).load(folder)
    assert list(loaded.predict(sample)) == predicted
    try:
        scores = loaded.evaluate(sample)
    except ConfigError as exc:  # no reference to score against: said, not crashed
        assert "reference" in str(exc) or "evaluate" in str(exc)
    else:
        assert isinstance(scores, dict) and scores

    predictor = load(folder)
    texts = [doc.text for doc in sample[:3]]
    backwards = predictor.predict(texts[::-1])
    assert backwards == [predictor.predict([t])[0] for t in texts[::-1]]
    # raw text through the folder = the same text processed here, as a new document
    pipe = Pipeline.from_config({"stages": STAGES})
    processed = pipe.pipe(Document(id=f"new-{i}", text=t) for i, t in enumerate(texts))
    assert _without_id(predictor.predict(texts)) == _without_id(loaded.predict(processed))


def _without_id(predictions: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in p.items() if k != "id"} for p in predictions]
