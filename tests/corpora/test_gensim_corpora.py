"""The readers of gensim's bundled corpora: Lee news (300 + 50 articles) and Pang & Lee polarity."""

from __future__ import annotations

from corpora import LeeNewsReader, LeeTestReader, PangLeePolarityReader


def test_lee_news_gives_the_300_articles(lee_texts, split):
    reader = LeeNewsReader()

    docs, rejected = split(reader.read())

    assert rejected == []
    assert reader.count() == len(docs) == 300
    assert [d.text for d in docs] == lee_texts
    assert docs[0].id == "lee-000" and docs[-1].id == "lee-299"
    assert docs[0].text.startswith("Hundreds of people have been forced to vacate their homes")
    assert docs[0].meta["source"].endswith("lee_background.cor") and docs[0].meta["line"] == 1
    assert [d.id for d in reader.read()] == [d.id for d in docs]


def test_lee_test_set_is_decoded_as_windows_1252(split):
    reader = LeeTestReader()

    docs, rejected = split(reader.read())

    assert rejected == []
    assert reader.count() == len(docs) == 50
    assert [docs[0].id, docs[-1].id] == ["lee-test-00", "lee-test-49"]
    assert any("£" in d.text for d in docs)
    assert not any("\ufffd" in d.text for d in docs)


def test_pang_lee_polarity_labels(split):
    reader = PangLeePolarityReader()

    docs, rejected = split(reader.read())

    assert rejected == []
    assert reader.count() == len(docs) == 200
    labels = [d.meta["label"] for d in docs]
    assert labels.count("pos") == labels.count("neg") == 100
    assert docs[0].text == "simplistic , silly and tedious ."
    assert not any(d.text.startswith("__label__") for d in docs)
