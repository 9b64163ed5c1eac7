"""The `normalize` stage: normalized text, alignment back to the original, composition."""

from __future__ import annotations

import unicodedata

import pytest

from components import Normalize, Tokenize
from pipeline.document import Alignment, Document
from pipeline.stage import StageError


def normalized(text: str, **params) -> Document:
    return Normalize(**params)(Document.from_text(text))


def test_ascii_single_spaced_text_is_its_own_normalization():
    doc = normalized("The Reserve Bank left the cash rate at 4.35 per cent.")
    assert doc.normalized == doc.text
    assert doc.alignment == Alignment()


def test_default_collapses_whitespace_and_applies_nfkc_without_touching_text():
    text = "  Prices\u00a0rose\u2026 the  \ufb01nal   figure\n\nwas 3\u00bd%. "
    doc = normalized(text)
    assert doc.text == text
    assert doc.normalized == "Prices rose... the final figure was 31\u20442%."
    assert doc.to_original(*_find(doc.normalized, "final")) == _find(text, "\ufb01nal")
    assert doc.to_original(*_find(doc.normalized, "...")) == _find(text, "\u2026")
    assert doc.to_original(*_find(doc.normalized, "was")) == _find(text, "was")


def _find(text: str, part: str) -> tuple[int, int]:
    start = text.index(part)
    return start, start + len(part)


def test_tokens_of_a_normalized_document_slice_the_original(news):
    text = news.replace(" ", "\u00a0", 3).replace("...", "\u2026") + " \ufb01ne  print"
    doc = Tokenize()(normalized(text, lowercase=True))
    # every token's original text, normalized on its own, gives its norm
    assert [unicodedata.normalize("NFKC", t).lower() for t in doc.tokens.text] == doc.tokens.norm
    assert doc.tokens.norm[:4] == ["washington", "(", "reuters", ")"]
    assert doc.tokens.text[:4] == ["WASHINGTON", "(", "Reuters", ")"]
    assert doc.tokens.text[-2:] == ["\ufb01ne", "print"]
    assert doc.tokens.norm[-2:] == ["fine", "print"]


def test_lowercase_keeps_placeholders_and_handles_expanding_characters():
    doc = normalized("\u0130STANBUL <URL> Daily", lowercase=True)
    assert doc.normalized == "i\u0307stanbul <URL> daily"
    assert doc.to_original(0, 2) == (0, 1)  # "i̇" came from "İ"
    assert doc.to_original(*_find(doc.normalized, "daily")) == _find(doc.text, "Daily")


def test_strip_accents_maps_each_word_to_its_accented_original():
    text = "The caf\u00e9 served cre\u0300me br\u00fbl\u00e9e in Orl\u00e9ans."
    doc = normalized(text, strip_accents=True)
    assert doc.normalized == "The cafe served creme brulee in Orleans."
    assert doc.to_original(*_find(doc.normalized, "creme")) == _find(text, "cre\u0300me")
    assert doc.to_original(*_find(doc.normalized, "Orleans")) == _find(text, "Orl\u00e9ans")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm sure they don't know.", "I am sure they do not know."),
        ("Won't he? WON'T! We can't.", "Will not he? WILL NOT! We can not."),
        (
            "It\u2019s John's car and we'll see; they're late, I've gone.",
            "It is John's car and we will see; they are late, I have gone.",
        ),
        ("Let's go, you'd agree.", "Let us go, you would agree."),
    ],
)
def test_expand_contractions(text, expected):
    assert normalized(text, expand_contractions=True).normalized == expected


def test_expanded_contraction_tokens_map_to_their_original_pieces():
    doc = Tokenize()(normalized("We won't go and they don't care.", expand_contractions=True))
    pairs = list(zip(doc.tokens.norm, doc.tokens.text, strict=True))
    assert ("will", "wo") in pairs and ("not", "n't") in pairs and ("do", "do") in pairs
    assert doc.tokens.text == ["We", "wo", "n't", "go", "and", "they", "do", "n't", "care", "."]


def test_masks_replace_urls_emails_and_numbers(news):
    doc = normalized(news, mask_urls=True, mask_emails=True, mask_numbers=True)
    assert "Details: <URL> or <EMAIL>." in doc.normalized
    assert "rose <NUM>% in March" in doc.normalized and "$<NUM> in early" in doc.normalized
    assert "Jan. <NUM>." in doc.normalized
    url = _find(doc.normalized, "<URL>")
    assert doc.text[slice(*doc.to_original(*url))] == "https://www.example.com/markets/apple-q2"
    email = _find(doc.normalized, "<EMAIL>")
    assert doc.text[slice(*doc.to_original(*email))] == "markets@example.com"


def test_url_with_user_part_is_one_url_not_an_email():
    doc = normalized("See http://user@host.example.org/x now", mask_urls=True, mask_emails=True)
    assert doc.normalized == "See <URL> now"


def test_numbers_inside_words_are_not_masked():
    doc = normalized(
        "The A380 and COVID-19 in the 1990s, 2nd time: 1,200.5 tonnes", mask_numbers=True
    )
    assert doc.normalized == "The A380 and COVID-<NUM> in the <NUM>, <NUM> time: <NUM> tonnes"


def test_normalizing_twice_composes_alignments(news):
    text = news.replace("Shares", "Shares\u00a0\u00a0of\ufb01ce") + " \u2026"
    once = normalized(text, mask_urls=True, lowercase=True, expand_contractions=True)
    twice = Normalize(mask_urls=True)(Document.from_text(text))
    first_alignment = twice.alignment
    Normalize(lowercase=True, expand_contractions=True)(twice)
    assert twice.normalized == once.normalized
    assert twice.alignment != first_alignment
    tokens_once = Tokenize()(once).tokens
    tokens_twice = Tokenize()(twice).tokens
    assert tokens_twice.start == tokens_once.start and tokens_twice.end == tokens_once.end
    assert tokens_twice.norm == tokens_once.norm
    assert "<URL>" in tokens_twice.norm and "of\ufb01ce" in tokens_twice.text


def test_normalize_is_idempotent(news):
    doc = normalized(news + "  \u2026 caf\u00e9", expand_contractions=True, mask_numbers=True)
    text, alignment = doc.normalized, doc.alignment
    Normalize(expand_contractions=True, mask_numbers=True)(doc)
    assert doc.normalized == text and doc.alignment == alignment


def test_unicode_none_and_no_whitespace_leave_text_alone():
    text = "ﬁnal\u00a0 text\n"
    doc = normalized(text, unicode="none", whitespace=False)
    assert doc.normalized == text and not doc.alignment


def test_nfd_decomposes_with_alignment():
    doc = normalized("caf\u00e9 ol\u00e9", unicode="NFD")
    assert doc.normalized == "cafe\u0301 ole\u0301"
    assert doc.to_original(0, 5) == (0, 4)


def test_bad_unicode_form_is_a_stage_error():
    with pytest.raises(StageError, match="NFKC"):
        normalized("text", unicode="nfkc")


def test_alignment_survives_serialization(news):
    doc = normalized(news + "\u2026", mask_urls=True)
    again = Document.from_dict(doc.to_dict())
    assert again.normalized == doc.normalized and again.alignment == doc.alignment
