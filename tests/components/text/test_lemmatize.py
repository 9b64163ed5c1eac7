"""The `lemmatize` stage: spaCy's rule lemmatizer, spaCy lookup tables and WordNet."""

from __future__ import annotations

from pathlib import Path

import nltk
import pytest

from components.text import wsd
from components.text.lemmatize import Lemmatize
from components.text.pos import PartOfSpeech
from components.text.spacy_models import load_model
from components.text.tokenize import Tokenize
from pipeline import Pipeline
from pipeline.document import Document
from pipeline.stage import StageError

IRREGULAR = "The children went home, the mice ran and the women were flying to better places."


@pytest.fixture(scope="module")
def nlp():
    return load_model()


def lemmas(text: str, *stages) -> dict[str, str]:
    doc = Pipeline([Tokenize(), *stages])(text)
    return dict(zip(doc.tokens.text, doc.tokens.lemma, strict=True))


def test_spacy_lemmas_of_irregular_forms(nlp):
    got = lemmas(IRREGULAR, Lemmatize())
    assert got["children"] == "child"
    assert got["went"] == "go"
    assert got["mice"] == "mouse"
    assert got["ran"] == "run"
    assert got["women"] == "woman"
    assert got["were"] == "be"
    assert got["flying"] == "fly"
    # spaCy's English lemmatizer maps the comparative "better" to "well"
    assert got["better"] == [t.lemma_ for t in nlp(IRREGULAR) if t.text == "better"][0] == "well"


def test_spacy_lemmas_equal_the_full_spacy_pipeline(nlp, lee_texts):
    texts = lee_texts[:15]
    stage = Lemmatize()
    docs = stage.pipe(Document(id=str(i), text=t) for i, t in enumerate(texts))
    for doc, expected in zip(docs, nlp.pipe(texts), strict=True):
        assert doc.tokens.lemma == [t.lemma_ for t in expected]


def test_lookup_backend_uses_spacy_lookups_data():
    pytest.importorskip("spacy_lookups_data")
    got = lemmas(
        "Went home: the mice ran, children and geese were better.", Lemmatize(backend="lookup")
    )
    assert got["Went"] == "go"  # capitalized: found through its lowercase form
    assert (got["mice"], got["ran"], got["children"], got["geese"], got["were"]) == (
        "mouse",
        "run",
        "child",
        "goose",
        "be",
    )


def test_lookup_backend_unknown_language():
    pytest.importorskip("spacy_lookups_data")
    with pytest.raises(
        StageError, match="no lemma lookup table for language 'zz'.*available: .*en"
    ):
        lemmas("words", Lemmatize(backend="lookup", language="zz"))


def test_non_spacy_backends_need_tokens():
    with pytest.raises(StageError, match="add `tokenize` before `lemmatize`"):
        Lemmatize(backend="lookup")(Document.from_text("no tokens"))


@pytest.fixture(scope="module")
def wordnet():
    try:
        return wsd.load_wordnet()
    except StageError as exc:
        pytest.skip(str(exc))


def test_wordnet_backend_with_pos_from_the_tagger(wordnet):
    got = lemmas(IRREGULAR, PartOfSpeech(), Lemmatize(backend="wordnet"))
    assert (got["went"], got["mice"], got["women"], got["were"], got["better"]) == (
        "go",
        "mouse",
        "woman",
        "be",
        "good",  # WordNet: the adjective "better" -> "good"
    )
    # without POS every word is taken as a noun, as NLTK's WordNetLemmatizer does
    plain = lemmas(IRREGULAR, Lemmatize(backend="wordnet"))
    assert (plain["mice"], plain["went"]) == ("mouse", "went")


@pytest.mark.skipif(not Path(wsd.WORDNET_SOURCE, "data.noun").is_file(), reason="no wordnet-base")
def test_install_wordnet_copies_debian_files_and_writes_lexnames(tmp_path):
    folder = wsd.install_wordnet(data_dir=tmp_path)
    assert folder == tmp_path / "corpora" / "wordnet"
    lexnames = (folder / "lexnames").read_text().splitlines()
    assert len(lexnames) == 45
    assert lexnames[3].split("\t") == ["03", "noun.Tops", "1"]
    assert (folder / "data.noun").stat().st_size == (
        wsd.WORDNET_SOURCE / "data.noun"
    ).stat().st_size


def test_missing_wordnet_says_how_to_install(tmp_path, monkeypatch):
    empty = tmp_path / "data"
    monkeypatch.setenv("NLP_PIPELINE_DATA", str(empty))
    monkeypatch.setattr(wsd, "WORDNET_SOURCE", tmp_path / "no-wordnet")
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "elsewhere")])
    with pytest.raises(StageError, match="apt-get install wordnet-base") as info:
        lemmas("words", Lemmatize(backend="wordnet"))
    assert "\n" not in str(info.value)
    assert str(empty / "nltk_data" / "corpora" / "wordnet") in str(info.value)
