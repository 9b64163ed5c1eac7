"""The `stopwords` stage: flags from the spaCy, scikit-learn and gensim lists and user lists."""

from __future__ import annotations

import pytest

from components import Normalize, Stopwords, Tokenize
from pipeline.document import Document
from pipeline.stage import StageError


def tokenized(text: str, **normalize) -> Document:
    doc = Document.from_text(text)
    if normalize:
        Normalize(**normalize)(doc)
    return Tokenize()(doc)


def stop_words(doc: Document) -> list[str]:
    return [t for t, s in zip(doc.tokens.text, doc.tokens.is_stop, strict=True) if s]


def test_spacy_list_on_news(news):
    doc = Stopwords()(tokenized(news))
    stops = stop_words(doc)
    assert {
        "a",
        "on",
        "that",
        "the",
        "its",
        "before",
        "he",
        "in",
        "of",
        "at",
        "would",
        "or",
    } <= set(stops)
    assert "n't" in stops  # spaCy lists its contraction pieces
    assert not {"government", "Treasury", "inflation", "prices", "Apple"} & set(stops)
    assert len(doc.tokens.is_stop) == len(doc.tokens)


@pytest.mark.parametrize(
    ("lists", "stop", "not_stop"),
    [
        (["spacy"], ["really", "n't"], ["fire", "system", "computer"]),
        (["sklearn"], ["fire", "system"], ["really", "n't", "computer"]),
        (["gensim"], ["computer", "really", "fire"], ["n't"]),
        (["spacy", "sklearn"], ["really", "fire", "n't"], ["computer"]),
    ],
)
def test_library_lists(lists, stop, not_stop):
    text = "The fire really spread and the computer system didn't stop it."
    doc = Stopwords(lists=lists)(tokenized(text))
    flags = dict(zip(doc.tokens.text, doc.tokens.is_stop, strict=True))
    assert all(flags[w] for w in stop) and not any(flags[w] for w in not_stop)


def test_user_words_files_and_exclusions(tmp_path):
    word_file = tmp_path / "finance.txt"
    word_file.write_text(
        "# finance boilerplate\nreuters\nsaid   # reporting verb\n\nTuesday\n", encoding="utf-8"
    )
    doc = tokenized("Reuters said on Tuesday that it would not sell.")
    Stopwords(words=["sell"], files=[str(word_file)], exclude=["not", "on"])(doc)
    assert stop_words(doc) == ["Reuters", "said", "Tuesday", "that", "it", "would", "sell"]


def test_case_sensitive_lists_match_only_lowercase_forms():
    doc = Stopwords(case_sensitive=True, words=["Tuesday"])(
        tokenized("The market fell on Tuesday and the tuesday rally faded.")
    )
    assert stop_words(doc) == ["on", "Tuesday", "and", "the"]


def test_normalized_forms_are_looked_up():
    doc = Stopwords(lists=["sklearn"])(tokenized("They WON'T sell.", expand_contractions=True))
    # "WO" and "N'T" are in no list; their normalized forms "will" and "not" are
    assert stop_words(doc) == ["They", "WO", "N'T"]
    assert doc.tokens.norm == ["They", "WILL", "NOT", "sell", "."]


def test_remove_drops_stop_tokens_and_keeps_columns_aligned(news):
    doc = tokenized(news, lowercase=True)
    before = len(doc.tokens)
    Stopwords(remove=True)(doc)
    assert 0 < len(doc.tokens) < before
    assert doc.tokens.is_stop == [False] * len(doc.tokens)
    assert len(doc.tokens.norm) == len(doc.tokens.start) == len(doc.tokens)
    assert [t.lower() for t in doc.tokens.text] == doc.tokens.norm
    assert "government" in doc.tokens.norm and "the" not in doc.tokens.norm


def test_corpus_share_of_stop_words(lee_texts):
    docs = Stopwords().pipe(Tokenize().pipe(Document.from_text(t) for t in lee_texts))
    stops = tokens = 0
    for doc in docs:
        stops += sum(doc.tokens.is_stop)
        tokens += len(doc.tokens)
    assert 0.35 < stops / tokens < 0.5  # function words are a large minority of news text


def test_missing_tokens_tell_the_user_to_tokenize_first():
    with pytest.raises(StageError, match="add `tokenize` before `stopwords`"):
        Stopwords()(Document.from_text("Markets fell."))


def test_unreadable_word_file_is_a_stage_error(tmp_path):
    with pytest.raises(StageError, match="cannot read word list"):
        Stopwords(files=[str(tmp_path / "missing.txt")])(tokenized("Markets fell."))
