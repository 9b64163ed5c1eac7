"""The `ner` stage: spaCy's entities as character spans, plus entity-ruler patterns."""

from __future__ import annotations

import pytest

from components.text.ner import NamedEntities
from components.text.normalize import Normalize
from components.text.spacy_models import load_model
from components.text.tokenize import Tokenize
from pipeline import Pipeline
from pipeline.document import Document
from pipeline.stage import StageError

NEWS = (
    "Apple Inc. said on Tuesday it would invest $430 billion in the United States over the "
    "next five years, adding 20,000 jobs. Chief executive Tim Cook announced the plan in "
    "Cupertino, California, and shares of the company rose 2% on the Nasdaq."
)

PATTERNS = [
    {"label": "ORG", "pattern": "Acme Corp"},
    {"label": "TICKER", "pattern": [{"TEXT": {"REGEX": "^[A-Z]{2,5}$"}}]},
    {"label": "COUNTRY", "pattern": "United States"},
]
RULES_TEXT = "Acme Corp (ACME) and IBM opened offices in the United States on Monday."


@pytest.fixture(scope="module")
def nlp():
    return load_model()


def entities(text: str, **params) -> list[tuple[str, str]]:
    doc = Pipeline([Tokenize(), NamedEntities(**params)])(text)
    for ent in doc.entities:
        assert doc.text[ent.start : ent.end] == ent.text
    return [(e.text, e.label) for e in doc.entities]


def test_entities_of_a_news_paragraph():
    doc = Pipeline([Tokenize(), NamedEntities()])(NEWS)
    found = {(e.text, e.label) for e in doc.entities}
    assert {
        ("Apple Inc.", "ORG"),
        ("Tuesday", "DATE"),
        ("$430 billion", "MONEY"),
        ("the United States", "GPE"),
        ("the next five years", "DATE"),
        ("20,000", "CARDINAL"),
        ("Tim Cook", "PERSON"),
        ("Cupertino", "GPE"),
        ("California", "GPE"),
        ("2%", "PERCENT"),
        ("Nasdaq", "ORG"),
    } <= found
    apple = doc.entities[0]
    assert (apple.start, apple.end, apple.text, apple.label) == (0, 10, "Apple Inc.", "ORG")
    money = next(e for e in doc.entities if e.label == "MONEY")
    assert (money.start, money.end) == (
        NEWS.index("$430"),
        NEWS.index("$430") + len("$430 billion"),
    )


def test_entities_equal_the_full_spacy_pipeline(nlp, lee_texts):
    texts = lee_texts[20:40]
    docs = NamedEntities().pipe(Document(id=str(i), text=t) for i, t in enumerate(texts))
    for doc, expected in zip(docs, nlp.pipe(texts), strict=True):
        assert [(e.start, e.end, e.label) for e in doc.entities] == [
            (e.start_char, e.end_char, e.label_) for e in expected.ents
        ]


def test_rule_patterns_win_by_default():
    assert entities(RULES_TEXT, patterns=PATTERNS) == [
        ("Acme Corp", "ORG"),
        ("ACME", "TICKER"),
        ("IBM", "TICKER"),  # the model's ORG is replaced
        ("United States", "COUNTRY"),  # replaces the model's GPE "the United States"
        ("Monday", "DATE"),
    ]


def test_model_precedence_keeps_model_entities_on_overlap():
    assert entities(RULES_TEXT, patterns=PATTERNS, precedence="model") == [
        ("Acme Corp", "ORG"),
        ("ACME", "TICKER"),
        ("IBM", "ORG"),
        ("the United States", "GPE"),
        ("Monday", "DATE"),
    ]


def test_rules_only():
    assert entities(RULES_TEXT, patterns=PATTERNS, statistical=False) == [
        ("Acme Corp", "ORG"),
        ("ACME", "TICKER"),
        ("IBM", "TICKER"),
        ("United States", "COUNTRY"),
    ]
    assert entities(RULES_TEXT, statistical=False) == []


def test_token_patterns_on_tags_run_the_tagger():
    pattern = {"label": "ROLE", "pattern": [{"LOWER": "chief"}, {"TAG": "NN"}]}
    assert ("Chief executive", "ROLE") in entities(NEWS, patterns=[pattern], statistical=False)


def test_offsets_map_to_the_original_text_after_normalization():
    text = "Shares  of   Apple\u00a0Inc.  rose  on  Tuesday  in  New   York."
    doc = Pipeline([Normalize(whitespace=True), Tokenize(), NamedEntities()])(text)
    assert [(e.text, e.label) for e in doc.entities] == [
        ("Apple\u00a0Inc.", "ORG"),
        ("Tuesday", "DATE"),
        ("New   York", "GPE"),
    ]
    for ent in doc.entities:
        assert text[ent.start : ent.end] == ent.text


@pytest.mark.parametrize(
    "patterns, message",
    [
        ([{"pattern": "Acme"}], r"patterns\[0\] must be a mapping with `label` and `pattern`"),
        ([{"label": "ORG", "pattern": 42}], r"patterns\[0\]\.pattern must be a phrase"),
        ([{"label": "ORG", "pattern": [{"NO_SUCH_ATTR": "x"}]}], "invalid entity pattern"),
    ],
)
def test_bad_patterns_are_stage_errors(patterns, message):
    with pytest.raises(StageError, match=message):
        entities("Acme rose.", patterns=patterns)
