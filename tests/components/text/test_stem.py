"""The `stem` stage: NLTK's stemmers on the token layer, known stems in several languages."""

from __future__ import annotations

import re

import pytest
from nltk.stem import LancasterStemmer, PorterStemmer, SnowballStemmer

from components.text.normalize import Normalize
from components.text.stem import SNOWBALL_LANGUAGES, Stem, make_stemmer
from components.text.tokenize import Tokenize
from pipeline import Pipeline
from pipeline.config import ConfigError
from pipeline.document import Document
from pipeline.stage import StageError


def stems(text: str, **params) -> dict[str, str]:
    doc = Pipeline([Tokenize(), Stem(**params)])(text)
    return dict(zip(doc.tokens.text, doc.tokens.stem, strict=True))


def test_snowball_english_stems():
    got = stems("Running generously, the cats showed happiness.")
    assert got["Running"] == "run"
    assert got["generously"] == "generous"
    assert got["cats"] == "cat"
    assert got["happiness"] == "happi"
    assert got[","] == ","


def test_snowball_german_and_french_stems():
    german = stems("Die Kinder laufen durch die Häuser und lesen Bücher.", language="german")
    assert (german["Kinder"], german["laufen"], german["Häuser"], german["Bücher"]) == (
        "kind",
        "lauf",
        "haus",
        "buch",
    )
    french = stems("Les chevaux parlaient continuellement.", language="french")
    assert (french["chevaux"], french["parlaient"], french["continuellement"]) == (
        "cheval",
        "parl",
        "continuel",
    )


def test_porter_and_lancaster():
    porter = stems("caresses ponies relational", algorithm="porter")
    assert [porter[w] for w in ("caresses", "ponies", "relational")] == ["caress", "poni", "relat"]
    lancaster = stems("maximum presumably crying", algorithm="lancaster")
    assert [lancaster[w] for w in ("maximum", "presumably", "crying")] == ["maxim", "presum", "cry"]


@pytest.fixture(scope="module")
def lee_words(lee_texts) -> list[str]:
    words = sorted({w for text in lee_texts for w in re.findall(r"\w+", text)})
    return words[::4]  # about 4,000 distinct words, mixed case


@pytest.mark.parametrize("language", SNOWBALL_LANGUAGES)
def test_every_snowball_language_gives_nltks_stems(language, lee_words):
    """Whatever path is taken (NLTK, or PyStemmer where identical), stems are NLTK's."""
    ours = make_stemmer("snowball", language)
    reference = SnowballStemmer(language)
    assert [ours(w) for w in lee_words] == [reference.stem(w) for w in lee_words]


def test_porter_and_lancaster_give_nltks_stems(lee_words):
    for algorithm, reference in (("porter", PorterStemmer()), ("lancaster", LancasterStemmer())):
        ours = make_stemmer(algorithm)
        assert [ours(w) for w in lee_words] == [reference.stem(w) for w in lee_words]


def test_stems_the_normalized_form():
    doc = Document.from_text("The \ufb01shermen were \ufb01shing.")  # "fi" ligatures
    Pipeline([Normalize(unicode="NFKC"), Tokenize(), Stem()])(doc)
    by_text = dict(zip(doc.tokens.text, doc.tokens.stem, strict=True))
    assert by_text["\ufb01shing"] == "fish"
    assert by_text["\ufb01shermen"] == "fishermen"


def test_unknown_language_lists_the_languages():
    with pytest.raises(StageError, match="no language 'klingon'; available: arabic, danish"):
        stems("words", language="klingon")
    with pytest.raises(StageError, match="English only"):
        stems("words", algorithm="porter", language="german")


def test_needs_tokens():
    with pytest.raises(StageError, match="add `tokenize` before `stem`"):
        Stem()(Document.from_text("no tokens yet"))


def test_config_rejects_an_unknown_algorithm():
    with pytest.raises(ConfigError, match="did you mean 'snowball'"):
        Pipeline.from_config({"stages": [{"tokenize": {}}, {"stem": {"algorithm": "snowbal"}}]})
