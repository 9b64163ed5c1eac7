"""Fixtures for the representation tests: real text tokenized by our own stages."""

from __future__ import annotations

import pytest

from components.text.stopwords import Stopwords
from components.text.tokenize import Tokenize
from pipeline import Pipeline


@pytest.fixture(scope="session")
def lee_docs(lee_texts):
    """gensim's 300 Lee news articles, tokenized (spaCy backend) and stop-flagged (spaCy list)."""
    return list(Pipeline([Tokenize(), Stopwords()]).pipe(lee_texts))


@pytest.fixture(scope="session")
def lee_tokens(lee_docs):
    """The Lee articles as lowercase token lists without punctuation."""
    from components.represent.tokens import token_stream

    return [token_stream(doc) for doc in lee_docs]


@pytest.fixture(scope="session")
def polarity_docs():
    """gensim's 200 labelled movie-review snippets, tokenized; labels in `meta["label"]`."""
    from corpora.gensim_data import PangLeePolarityReader

    return list(Pipeline([Tokenize()]).pipe(PangLeePolarityReader().read()))
