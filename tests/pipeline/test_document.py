"""The Document contract: offsets into the original text, columnar layers, exact round-trips."""

from __future__ import annotations

import orjson
import pytest

from pipeline import Alignment, Document, Span


def test_tokens_slice_original_text_and_columns_read_back():
    doc = Document.from_text("Apple said on Tuesday it would invest $430 billion.")
    starts = [0, 6, 11, 14, 22, 25, 31, 38, 39, 43, 50]
    ends = [5, 10, 13, 21, 24, 30, 37, 39, 42, 50, 51]
    doc.set_tokens(starts, ends)
    assert doc.tokens.text == [
        "Apple",
        "said",
        "on",
        "Tuesday",
        "it",
        "would",
        "invest",
        "$",
        "430",
        "billion",
        ".",
    ]
    assert [t.text for t in doc.tokens] == doc.tokens.text
    assert doc.tokens[3].start == 14 and doc.tokens[-1].text == "."
    assert doc.tokens.lemma is None and doc.tokens[0].lemma is None
    doc.tokens.is_stop = [t in {"on", "it", "would"} for t in doc.tokens.text]
    assert [t.text for t in doc.tokens if t.is_stop] == ["on", "it", "would"]
    with pytest.raises(ValueError, match="3 values for 11 tokens"):
        doc.tokens.lemma = ["a", "b", "c"]


def test_round_trip_is_exact_through_json():
    text = "Dr. Smith met   the press.\nShe said: ﬁne."
    doc = Document.from_text(text, meta={"source": "x.txt", "labels": ["a"]})
    doc.normalized = "Dr. Smith met the press. She said: fine."
    doc.alignment = Alignment([(13, 14, 13, 16), (24, 25, 26, 27), (35, 37, 37, 38)])
    doc.set_tokens([0, 4, 10, 14, 18], [3, 9, 13, 17, 23])
    doc.tokens.is_stop = [False, False, False, True, False]
    doc.sentences = [Span(0, 26, text[0:26]), Span(27, len(text), text[27:])]
    doc.entities = [doc.span(4, 9, "PERSON")]
    doc.coref = [[doc.span(4, 9), doc.span(27, 30)]]
    doc.vectors = {"mean": [0.5, -1.0]}
    again = Document.from_dict(orjson.loads(orjson.dumps(doc.to_dict())))
    assert again == doc
    assert again.to_dict() == doc.to_dict()
    assert again.tokens.norm == doc.tokens.norm
    assert again.entities[0].text == "Smith" and again.entities[0].label == "PERSON"
    assert again.coref[0][1].text == "She"


def test_alignment_maps_normalized_spans_back_to_original():
    original = "one   two ﬁve"
    normalized = "one two five"
    # "   " (3..6) became " " (3..4); "ﬁ" (10..11) became "fi" (8..10)
    alignment = Alignment([(3, 4, 3, 6), (8, 10, 10, 11)])
    doc = Document(id="a", text=original, normalized=normalized, alignment=alignment)
    doc.set_tokens([0, 4, 8], [3, 7, 12])
    assert doc.tokens.text == ["one", "two", "ﬁve"]
    assert doc.tokens.norm == ["one", "two", "five"]
    for token in doc.tokens:
        assert original[token.start : token.end] == token.text


def test_identity_alignment_and_empty_document():
    doc = Document.from_text("")
    doc.set_tokens([], [])
    assert len(doc.tokens) == 0 and doc.tokens.text == []
    assert Document.from_dict(doc.to_dict()) == doc
    assert Alignment().span(2, 5) == (2, 5)


def test_content_id_is_stable():
    assert Document.from_text("same text").id == Document.from_text("same text").id
    assert Document.from_text("same text").id != Document.from_text("other text").id
