"""The `wsd` stage: simplified Lesk over WordNet, with POS from the tagger."""

from __future__ import annotations

import nltk
import pytest

from components.text import wsd
from components.text.lemmatize import Lemmatize
from components.text.pos import PartOfSpeech
from components.text.sentences import Sentences
from components.text.tokenize import Tokenize
from components.text.wsd import WordSenses
from pipeline import Pipeline
from pipeline.document import Document
from pipeline.stage import StageError


@pytest.fixture(scope="module")
def senses():
    try:
        wsd.load_wordnet()
    except StageError as exc:
        pytest.skip(str(exc))
    pipeline = Pipeline([Tokenize(), Sentences(), PartOfSpeech(), Lemmatize(), WordSenses()])

    def annotate(text: str) -> dict[str, str | None]:
        doc = pipeline(text)
        return dict(zip(doc.tokens.text, doc.tokens.sense, strict=True))

    return annotate


def test_bank_by_the_river_and_bank_of_deposits(senses):
    river = senses("The fisherman sat on the bank of the river and caught a fish.")
    money = senses("I deposited my salary at the bank, and the bank paid interest on my money.")
    # bank.n.01: sloping land beside a body of water
    assert river["bank"] == "bank.n.01"
    # bank.n.02: a financial institution that accepts deposits
    assert money["bank"] == "depository_financial_institution.n.01"
    assert river["sat"] == "sit.v.01" and river["river"] == "river.n.01"


def test_only_content_words_get_a_sense(senses):
    got = senses("The mice went quickly to a better place.")
    assert got["The"] is None and got["to"] is None and got["."] is None
    assert got["mice"] == "mouse.n.01"
    assert got["quickly"] == "quickly.r.01"
    assert all(got[w] is not None for w in ("went", "better", "place"))


def test_senses_are_wordnet_synsets(senses):
    got = senses("Shares of the company rose sharply after the announcement.")
    reader = wsd.load_wordnet()
    for word in ("Shares", "company", "rose", "announcement"):
        assert reader.synset(got[word]).name() == got[word]


def test_needs_pos_tags(senses):
    with pytest.raises(StageError, match="add `tokenize` and `pos` before `wsd`"):
        Pipeline([Tokenize(), WordSenses()])("No tags here.")


def test_missing_wordnet_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("NLP_PIPELINE_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(wsd, "WORDNET_SOURCE", tmp_path / "no-wordnet")
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "elsewhere")])
    doc = Document.from_text("Banks lend money.")
    with pytest.raises(StageError, match=r"^WordNet data not found: install it with `apt-get"):
        WordSenses()(doc)
