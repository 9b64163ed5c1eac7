"""The `coref` stage on short news passages: chains, appositives, agreement, robustness."""

from __future__ import annotations

import re
import typing

import pytest

from components.text.coref import resolver
from components.text.coref.resolver import Coref
from components.text.coref.sieves import SIEVES
from components.text.spacy_models import load_model
from pipeline.document import Document
from pipeline.registry import lookup


def chains(text: str, **params) -> list[list[str]]:
    doc = Coref(**params)(Document.from_text(text))
    for cluster in doc.coref:
        for span in cluster:
            assert doc.text[span.start : span.end] == span.text
    return [[span.text for span in cluster] for cluster in doc.coref]


def cluster_of(result: list[list[str]], mention: str) -> list[str]:
    return next((c for c in result if mention in c), [])


def test_pronoun_and_name_chain():
    text = (
        "Angela Merkel met reporters in Berlin on Monday. She said the chancellor's "
        "government would not raise taxes. Merkel added that her party had the votes."
    )
    doc = Coref()(Document.from_text(text))
    assert [[(s.text, s.start) for s in c] for c in doc.coref] == [
        [("Angela Merkel", 0), ("She", 49), ("Merkel", 109), ("her", 127)]
    ]


def test_appositive_and_possessive_it():
    result = chains(
        "Tim Cook, the chief executive of Apple, told analysts that the company would buy "
        "back shares. He said Apple expected its sales to grow."
    )
    # The reported span stops before its "of" phrase, which holds another entity.
    assert cluster_of(result, "Tim Cook") == ["Tim Cook", "the chief executive", "He"]
    assert cluster_of(result, "its") == ["Apple", "Apple", "its"]


def test_gender_keeps_he_and_she_apart():
    result = chains(
        "Barack Obama and Michelle Obama visited Kenya. He spoke about trade, and she met "
        "students at a school."
    )
    assert cluster_of(result, "He") == ["Barack Obama", "He"]
    assert cluster_of(result, "she") == ["Michelle Obama", "she"]


def test_number_and_animacy_agreement():
    result = chains(
        "The ministers met in Brussels on Tuesday. They agreed on a new budget, but it still "
        "needs the approval of the parliament."
    )
    assert cluster_of(result, "They") == ["The ministers", "They"]
    assert cluster_of(result, "it") == ["a new budget", "it"]


def test_acronym_and_honorific_head_match():
    result = chains(
        "The International Monetary Fund cut its forecast. The IMF said growth would slow."
    )
    assert result == [["The International Monetary Fund", "its", "The IMF"]]
    result = chains(
        "Prime Minister John Howard said he would call an election. Mr Howard told reporters "
        "the Government was ready."
    )
    assert cluster_of(result, "he") == ["Prime Minister John Howard", "he", "Mr Howard"]


def test_binding_keeps_object_pronoun_from_its_subject():
    result = chains("John Smith met Peter Jones in London. John Smith thanked him warmly.")
    assert "him" not in cluster_of(result, "John Smith")
    assert cluster_of(result, "him") == ["Peter Jones", "him"]


def test_pleonastic_it_is_not_a_mention():
    result = chains(
        "The report was late. It is clear that the minister ignored it. It was raining."
    )
    assert result == [["The report", "it"]]


def test_resolved_text_replaces_pronouns():
    doc = Coref(resolve_text=True)(
        Document.from_text("The company said it would cut 500 jobs. Its shares fell.")
    )
    assert doc.meta["resolved_text"] == (
        "The company said the company would cut 500 jobs. The company's shares fell."
    )


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t ", "!!! ??? ### 😀😀", "Der Hund bellt. Er ist laut.", "1 2 3 4 5", "a" * 3000],
)
def test_empty_garbage_and_foreign_text_pass(text):
    doc = Coref(resolve_text=True)(Document.from_text(text))
    if doc.meta["language"] == "de":  # passed through, not resolved with English rules
        assert doc.coref is None and doc.meta["skipped_stages"] == ["coref"]
        return
    assert isinstance(doc.coref, list)
    assert doc.meta["resolved_text"] == text or doc.coref


@pytest.mark.parametrize("tokenized", [False, True])
def test_long_text_is_chunked_and_offsets_stay_exact(monkeypatch, tokenized):
    monkeypatch.setattr(resolver, "CHUNK_CHARS", 400)
    paragraph = (
        "Kevin Rudd visited a school in Sydney. He told the pupils that the government "
        "would build new classrooms.\n\n"
    )
    text = paragraph * 6
    doc = Document.from_text(text)
    if tokenized:
        words = list(re.finditer(r"\w+|[^\w\s]", text))
        doc.set_tokens([w.start() for w in words], [w.end() for w in words])
    Coref()(doc)
    rudd = next(c for c in doc.coref if c[0].text == "Kevin Rudd")
    # The name links across chunk boundaries; every span slices the original text.
    assert [s.text for s in rudd].count("Kevin Rudd") == 6
    assert [s.text for s in rudd].count("He") == 6
    assert all(text[s.start : s.end] == s.text for c in doc.coref for s in c)


def test_reuses_an_existing_parse_and_keeps_tokenization():
    text = "Mary Robinson arrived in Kabul. She met the ministers and thanked them."
    expected = chains(text)
    nlp = load_model()
    sdoc = nlp(text)
    doc = Document.from_text(text)
    doc.set_tokens([t.idx for t in sdoc], [t.idx + len(t) for t in sdoc])
    doc.tokens.pos = [t.pos_ for t in sdoc]
    doc.tokens.tag = [t.tag_ for t in sdoc]
    doc.tokens.dep = [t.dep_ for t in sdoc]
    doc.tokens.head = [t.head.i for t in sdoc]
    doc.entities = [doc.span(e.start_char, e.end_char, e.label_) for e in sdoc.ents]
    Coref(model="no_such_model")(doc)  # the model is never loaded: the parse is reused
    assert [[s.text for s in c] for c in doc.coref] == expected
    assert expected == [["Mary Robinson", "She"], ["the ministers", "them"]]


def test_pretokenized_document_keeps_its_offsets():
    text = "Sir Walter Elliot , of Kellynch Hall , was vain . He loved his title ."
    doc = Document.from_text(text)
    starts, position = [], 0
    for word in text.split(" "):
        starts.append(position)
        position += len(word) + 1
    doc.set_tokens(starts, [s + len(w) for s, w in zip(starts, text.split(" "), strict=True)])
    Coref()(doc)
    walter = next(c for c in doc.coref if c[0].text == "Sir Walter Elliot")
    assert [s.text for s in walter] == ["Sir Walter Elliot", "He", "his"]


def test_registered_with_typed_parameters():
    from pipeline.config import ConfigError, component_model, validate_params

    assert lookup("stage", "coref") is Coref
    assert typing.get_args(resolver.SieveName) == SIEVES
    model = component_model("stage", "coref")
    assert validate_params(model, {}, "stages.coref")["max_sentence_distance"] == 3
    with pytest.raises(ConfigError):
        validate_params(model, {"sieves": ["exact_match", "nonsense"]}, "stages.coref")


def test_sieve_selection_changes_output():
    text = "Angela Merkel met reporters. She said Merkel was tired."
    assert chains(text, sieves=["exact_match"]) == []
    assert chains(text, sieves=["pronouns"]) == [["Angela Merkel", "She"]]


def test_batches_match_single_documents():
    texts = [
        "Angela Merkel met reporters. She said Merkel was tired.",
        "",
        "The company said it would cut jobs.",
    ]
    stage = Coref()
    batched = [d.coref for d in stage.pipe([Document.from_text(t) for t in texts], batch_size=2)]
    single = [stage(Document.from_text(t)).coref for t in texts]
    assert batched == single
