"""Token selection shared by the learners: fields, stop words, punctuation, clear errors."""

from __future__ import annotations

import pytest

from components.represent import BagOfWords, RepresentError, TokenCorpus, token_stream
from components.text.normalize import Normalize
from components.text.tokenize import Tokenize
from pipeline import Pipeline

TEXT = "The Taliban said on Tuesday:  U.S. forces had NOT entered Kandahar!"


def test_fields_and_filters_on_a_real_sentence():
    doc = Pipeline([Tokenize()])(TEXT)
    assert token_stream(doc, field="text") == [
        "The", "Taliban", "said", "on", "Tuesday", "U.S.", "forces", "had", "NOT", "entered", "Kandahar",
    ]  # fmt: skip
    lower = token_stream(doc)
    assert lower[:3] == ["the", "taliban", "said"] and "not" in lower
    with_punct = token_stream(doc, drop_punct=False)
    assert ":" in with_punct and "!" in with_punct
    assert not any(t.isspace() for t in with_punct)  # spaCy's whitespace tokens always go


def test_lower_uses_the_normalized_form_when_normalize_ran():
    doc = Pipeline([Normalize(), Tokenize()])("Caf\u0065\u0301 ＡＢＣ")
    assert token_stream(doc, field="lower") == [t.lower() for t in doc.tokens.norm]


def test_missing_columns_name_the_stage_to_add():
    doc = Pipeline([Tokenize()])(TEXT)
    with pytest.raises(RepresentError, match="`stopwords` stage"):
        token_stream(doc, drop_stop=True)
    with pytest.raises(RepresentError, match="`lemmatize` stage"):
        token_stream(doc, field="lemma")
    with pytest.raises(RepresentError, match="`tokenize` stage"):
        BagOfWords().fit([Pipeline([])(TEXT)])
    with pytest.raises(RepresentError, match="not raw strings"):
        BagOfWords().fit([TEXT])


def test_token_corpus_is_restartable_and_refuses_generators(lee_docs):
    corpus = TokenCorpus(lee_docs[:5], BagOfWords())
    assert list(corpus) == list(corpus)
    with pytest.raises(RepresentError, match="restartable"):
        TokenCorpus(iter(lee_docs), BagOfWords())
    pieces = list(TokenCorpus(lee_docs[:1], BagOfWords(), max_length=10))
    assert all(len(p) <= 10 for p in pieces)
    assert sum(pieces, []) == token_stream(lee_docs[0])
