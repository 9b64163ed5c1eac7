"""The `pos` stage: exactly spaCy's tags and parse, on our token layer, for any text."""

from __future__ import annotations

import pytest

from components.text.lemmatize import Lemmatize
from components.text.ner import NamedEntities
from components.text.normalize import Normalize
from components.text.pos import PartOfSpeech
from components.text.sentences import Sentences
from components.text.spacy_models import load_model
from components.text.spacy_stages import spacy_doc_for
from components.text.tokenize import Tokenize
from pipeline import Pipeline
from pipeline.document import Document
from pipeline.stage import StageError


@pytest.fixture(scope="module")
def nlp():
    return load_model()


@pytest.fixture(scope="module")
def texts(lee_texts) -> list[str]:
    return lee_texts[:20]


def as_docs(texts: list[str]) -> list[Document]:
    return [Document(id=str(i), text=t) for i, t in enumerate(texts)]


def test_tags_and_parse_equal_the_full_spacy_pipeline(nlp, texts):
    ours = list(Pipeline([Tokenize(), PartOfSpeech()]).pipe(as_docs(texts)))
    for doc, expected in zip(ours, nlp.pipe(texts), strict=True):
        tokens = doc.tokens
        assert tokens.start == [t.idx for t in expected]
        assert tokens.pos == [t.pos_ for t in expected]
        assert tokens.tag == [t.tag_ for t in expected]
        assert tokens.dep == [t.dep_ for t in expected]
        assert tokens.head == [t.head.i for t in expected]


def test_without_tokens_spacy_tokenizes_first(nlp, texts):
    docs = list(PartOfSpeech().pipe(as_docs(texts[:5])))
    for doc, expected in zip(docs, nlp.pipe(texts[:5]), strict=True):
        assert doc.tokens.text == [t.text for t in expected]
        assert doc.tokens.tag == [t.tag_ for t in expected]


def test_parse_false_skips_the_parser(nlp, texts):
    docs = list(Pipeline([Tokenize(), PartOfSpeech(parse=False)]).pipe(as_docs(texts[:5])))
    expected = nlp.pipe(texts[:5], disable=["parser", "lemmatizer", "ner"])
    for doc, reference in zip(docs, expected, strict=True):
        assert doc.tokens.pos == [t.pos_ for t in reference]
        assert doc.tokens.tag == [t.tag_ for t in reference]
        assert doc.tokens.dep is None and doc.tokens.head is None


def test_normalized_text_is_tagged_and_offsets_stay_original(nlp):
    text = "The  \ufb01nance   minister   resigned\u00a0on Friday."
    doc = Pipeline([Normalize(unicode="NFKC", whitespace=True), Tokenize(), PartOfSpeech()])(text)
    expected = nlp(doc.normalized)
    words = [t for t in expected if not t.is_space]
    assert [t.text for t in doc.tokens if not t.norm_.isspace()] == [
        "The",
        "\ufb01nance",
        "minister",
        "resigned",
        "on",
        "Friday",
        ".",
    ]
    assert [p for p, n in zip(doc.tokens.pos, doc.tokens.norm, strict=True) if not n.isspace()] == [
        t.pos_ for t in words
    ]


@pytest.mark.parametrize("normalize", [False, True])
def test_spacys_own_tokenization_is_used_when_tokens_agree(nlp, normalize):
    """Tokenizer exceptions set norms ("n't" -> "not") that the tagger reads: kept."""
    text = "They  can't go, and we don't know why."
    stages = [Normalize(whitespace=True)] if normalize else []
    doc = Pipeline([*stages, Tokenize()])(text)
    ((offset, sdoc),) = spacy_doc_for(doc, nlp)
    assert offset == 0
    assert [t.norm_ for t in sdoc] == [t.norm_ for t in nlp.tokenizer(doc.working_text)]
    assert "not" in [t.norm_ for t in sdoc]


def test_tokens_from_another_tokenizer_are_annotated_one_to_one():
    text = "Dr. Smith's e-mail arrived at 10:30 -- it wasn't   urgent.\nThanks!"
    doc = Pipeline([Tokenize(backend="regex"), PartOfSpeech()])(text)
    tokens = doc.tokens
    n = len(tokens)
    assert len(tokens.pos) == len(tokens.tag) == len(tokens.dep) == len(tokens.head) == n
    assert all(0 <= h < n for h in tokens.head)
    assert "Smith's" in tokens.text  # one regex token, one spaCy token
    assert dict(zip(tokens.text, tokens.pos, strict=True))["arrived"] == "VERB"


ODD_TEXTS = [
    "Die Bundesregierung hat am Mittwoch neue Regeln beschlossen.",
    "Правительство объявило о новых мерах в среду.",
    "東京で新しい会社が設立された。",
    "@@##$$%% ^^&&** ((()))",
    "🎉🔥👍 great news!!! 😂😂",
    "no sentence punctuation here just a few words in a row",
    "   \n\t  ",
    "a",
    "bad \ud800 surrogate in the middle",
]


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_odd_text_passes_through(text):
    stages = [Tokenize(), Sentences(), PartOfSpeech(), Lemmatize(), NamedEntities()]
    doc = Pipeline(stages)(text)
    tokens = doc.tokens
    n = len(tokens)
    if doc.meta["language"] not in (None, "en"):  # the English model leaves it alone
        assert doc.meta["skipped_stages"] == ["pos", "lemmatize", "ner"]
        assert tokens.pos is None and tokens.lemma is None and doc.entities is None
        return
    for column in ("pos", "tag", "dep", "head", "lemma"):
        assert len(getattr(tokens, column)) == n
    assert all(0 <= h < n for h in tokens.head)
    for ent in doc.entities:
        assert doc.text[ent.start : ent.end] == ent.text


def test_missing_model_is_one_clear_line():
    stage = PartOfSpeech(model="no_such_model")
    with pytest.raises(StageError) as info:
        Pipeline([Tokenize(), stage])("Some text.")
    message = str(info.value)
    assert "no_such_model" in message and "pip install" in message
    assert "\n" not in message


def test_missing_model_is_reported_by_config_validation_and_by_a_run(tmp_path):
    from pipeline.config import ConfigError, resolve_config
    from pipeline.runner import run

    raw = {
        "corpus": {"reader": "lee-news", "limit": 3},
        "stages": [{"tokenize": {}}, {"ner": {"model": "no_such_model"}}],
        "output": {"dir": str(tmp_path / "run")},
    }
    with pytest.raises(ConfigError, match="stages.1..ner.model: spaCy model 'no_such_model' is"):
        resolve_config(raw)
    # the run's own check stays as a safety net for a config that skipped validation
    config = resolve_config({**raw, "stages": [{"tokenize": {}}, {"ner": {}}]})
    config["stages"][1]["ner"]["model"] = "no_such_model"
    with pytest.raises(StageError, match="spaCy model 'no_such_model' is not installed"):
        run(config)
