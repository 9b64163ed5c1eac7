"""The `tokenize` stage: five backends, offsets into the original text, placeholders."""

from __future__ import annotations

import itertools

import pytest
import spacy

from components import Normalize, Tokenize
from pipeline.document import Document
from pipeline.stage import StageError

BACKENDS = ["spacy", "regex", "nltk-treebank", "nltk-tweet", "whitespace"]


def tokens_of(text: str, backend: str = "spacy", **normalize) -> Document:
    doc = Document.from_text(text)
    if normalize:
        Normalize(**normalize)(doc)
    return Tokenize(backend=backend)(doc)


def assert_well_formed(doc: Document) -> None:
    """Offsets are in range, ordered, non-overlapping and non-empty."""
    previous_end = 0
    for start, end in zip(doc.tokens.start, doc.tokens.end, strict=True):
        assert previous_end <= start < end <= len(doc.text)
        previous_end = end


def test_spacy_backend_gives_exactly_spacys_tokens_on_the_lee_corpus(lee_texts):
    tokenizer = spacy.blank("en").tokenizer
    stage = Tokenize()
    docs = stage.pipe((Document(id=str(i), text=t) for i, t in enumerate(lee_texts)), batch_size=64)
    for doc, expected in zip(docs, tokenizer.pipe(lee_texts), strict=True):
        assert doc.tokens.start == [t.idx for t in expected]
        assert doc.tokens.end == [t.idx + len(t) for t in expected]
        assert doc.tokens.text == [t.text for t in expected]


def test_spacy_backend_keeps_spacys_whitespace_tokens():
    doc = tokens_of("Markets  closed.\n\nTrading resumes")
    assert doc.tokens.text == ["Markets", " ", "closed", ".", "\n\n", "Trading", "resumes"]


def test_spacy_backend_on_news(news):
    doc = tokens_of(news)
    words = doc.tokens.text
    assert words[:8] == ["WASHINGTON", "(", "Reuters", ")", "-", "Mr.", "Smith", ","]
    assert "U.S." in words and "Jan." in words and "Inc." in words
    assert words[words.index("government") + 1 : words.index("government") + 3] == ["wo", "n't"]
    assert "https://www.example.com/markets/apple-q2" in words
    assert_well_formed(doc)


def test_regex_backend_default_pattern(news):
    words = tokens_of(news, "regex").tokens.text
    assert words[:8] == ["WASHINGTON", "(", "Reuters", ")", "-", "Mr", ".", "Smith"]
    assert "3.2" in words and "170.33" in words and "won't" in words and "company's" in words


def test_regex_backend_custom_pattern():
    doc = Document.from_text("Prices rose 3.2% in March-April.")
    Tokenize(backend="regex", pattern=r"[A-Za-z]+")(doc)
    assert doc.tokens.text == ["Prices", "rose", "in", "March", "April"]


def test_treebank_backend_splits_per_sentence(news):
    words = tokens_of(news, "nltk-treebank").tokens.text
    assert words[:8] == ["WASHINGTON", "(", "Reuters", ")", "-", "Mr.", "Smith", ","]
    assert "U.S." in words and "Inc." in words
    # sentence-final periods are split off inside the text, not only at its end
    assert words[words.index("reporters") + 1] == "."
    assert words[words.index("wo") + 1] == "n't"
    assert words.count('"') == 2  # straight quotes come back as they were written


def test_tweet_backend_keeps_handles_hashtags_and_emoticons():
    text = "@ReutersBiz Markets rally :) #stocks &amp; bonds up http://t.co/x1"
    words = tokens_of(text, "nltk-tweet").tokens.text
    assert words[:4] == ["@ReutersBiz", "Markets", "rally", ":)"]
    assert "#stocks" in words and "http://t.co/x1" in words
    # the tokenizer decodes "&amp;" to "&": the token is the original text it came from
    assert "&" in words


def test_whitespace_backend(news):
    words = tokens_of(news, "whitespace").tokens.text
    assert words == news.split()


@pytest.mark.parametrize("backend", BACKENDS)
def test_placeholders_are_single_tokens_in_every_backend(backend, news):
    text = news + " Call 555-0100 or write to a.b@c.org,see http://x.io/a?b=1<tag>."
    doc = tokens_of(text, backend, mask_urls=True, mask_emails=True, mask_numbers=True)
    norms = doc.tokens.norm
    assert norms.count("<URL>") == 2 and norms.count("<EMAIL>") == 2
    assert norms.count("<NUM>") >= 6
    url = doc.tokens[norms.index("<URL>")]
    assert url.text == "https://www.example.com/markets/apple-q2"
    assert_well_formed(doc)


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_maps_normalized_tokens_to_the_original(backend):
    text = "The \ufb01rm\u2019s CEO won\u2019t\u00a0resign \u2014 shares fell 3\u00bd%\u2026  Caf\u00e9s closed."
    doc = tokens_of(text, backend, strip_accents=True, expand_contractions=True)
    assert_well_formed(doc)
    texts = doc.tokens.text
    assert "\ufb01rm" in texts or "\ufb01rm\u2019s" in texts
    assert any(t.startswith("Caf\u00e9") for t in texts)
    joined = "".join(doc.tokens.norm)
    assert "firm" in joined and "Cafes" in joined


@pytest.mark.parametrize("backend", ["spacy", "regex", "nltk-treebank"])
def test_tokens_from_one_replaced_character_are_merged(backend):
    # NFKC turns "⑴" into "(1)", which tokenizers split in three: one original
    # character cannot be three tokens, so they become one
    doc = tokens_of("see item \u2474 and \u00bd cup", backend, unicode="NFKC")
    assert doc.tokens.text == ["see", "item", "\u2474", "and", "\u00bd", "cup"]
    assert doc.tokens.norm == ["see", "item", "(1)", "and", "1\u20442", "cup"]


def test_pipe_streams_without_reading_ahead():
    def endless():
        for i in itertools.count():
            yield Document(id=str(i), text=f"Story number {i} is here.")

    for backend in BACKENDS:
        first = list(itertools.islice(Tokenize(backend=backend).pipe(endless(), batch_size=4), 3))
        assert [d.id for d in first] == ["0", "1", "2"]


def test_empty_and_blank_documents_get_empty_token_tables():
    for backend in BACKENDS:
        for text in ("", "   ", "\n\n"):
            doc = tokens_of(text, backend, whitespace=True)
            assert doc.tokens is not None and len(doc.tokens) == 0


def test_bad_regex_and_unknown_language_are_stage_errors():
    with pytest.raises(StageError, match="not a valid regular expression"):
        Tokenize(backend="regex", pattern="([a-z")(Document.from_text("text"))
    with pytest.raises(StageError, match="no language 'zz'"):
        Tokenize(language="zz")(Document.from_text("text"))
