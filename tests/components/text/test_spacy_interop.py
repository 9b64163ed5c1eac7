"""Documents to and from spaCy `Doc`s, and a run folder exported as a spaCy `DocBin`."""

from __future__ import annotations

import pytest
from spacy.tokens import DocBin

from components.text.lemmatize import Lemmatize
from components.text.ner import NamedEntities
from components.text.normalize import Normalize
from components.text.pos import PartOfSpeech
from components.text.sentences import Sentences
from components.text.spacy_interop import export_docbin, from_spacy, to_spacy
from components.text.spacy_models import load_model
from components.text.tokenize import Tokenize
from pipeline import Pipeline
from pipeline.document import Document
from pipeline.shard_files import write_documents
from pipeline.store import IncompleteRunError

NEWS = (
    "Apple Inc. said on Tuesday it would invest $430 billion in the United States. "
    "Chief executive Tim Cook announced the plan in Cupertino, California.\n\n"
    "Shares rose 2% on the Nasdaq."
)


@pytest.fixture(scope="module")
def nlp():
    return load_model()


@pytest.fixture(scope="module")
def annotated() -> Document:
    stages = [Tokenize(), Sentences(), PartOfSpeech(), Lemmatize(), NamedEntities()]
    doc = Document(id="news-1", text=NEWS, meta={"source": "test", "labels": ["business"]})
    return Pipeline(stages)(doc)


def test_to_spacy_carries_every_layer(nlp, annotated):
    sdoc = to_spacy(annotated, nlp)
    tokens = annotated.tokens
    assert sdoc.text == NEWS
    assert [t.text for t in sdoc] == tokens.text
    assert [t.idx for t in sdoc] == tokens.start
    assert [t.lemma_ for t in sdoc] == tokens.lemma
    assert [t.pos_ for t in sdoc] == tokens.pos
    assert [t.tag_ for t in sdoc] == tokens.tag
    assert [t.dep_ for t in sdoc] == tokens.dep
    assert [t.head.i for t in sdoc] == tokens.head
    assert [(e.start_char, e.end_char, e.label_) for e in sdoc.ents] == [
        (e.start, e.end, e.label) for e in annotated.entities
    ]
    # and it is what spaCy itself makes of the text
    reference = nlp(NEWS)
    assert [(e.text, e.label_) for e in sdoc.ents] == [(e.text, e.label_) for e in reference.ents]


def test_round_trip_is_exact(nlp, annotated):
    back = from_spacy(to_spacy(annotated, nlp))
    assert back == annotated
    assert back.id == "news-1"
    assert back.meta == {"source": "test", "labels": ["business"], "language": "en"}


def test_round_trip_keeps_normalized_forms_and_sentences_without_a_parse(nlp):
    doc = Pipeline([Normalize(unicode="NFKC"), Tokenize(), Sentences()])(
        "The \ufb01rst test. The second one!"
    )
    sdoc = to_spacy(doc, nlp.vocab)
    assert [s.text for s in sdoc.sents] == ["The \ufb01rst test.", "The second one!"]
    back = from_spacy(sdoc)
    assert back.tokens.norm == doc.tokens.norm
    assert back.sentences == doc.sentences


def test_from_a_spacy_doc(nlp):
    sdoc = nlp(NEWS)
    doc = from_spacy(sdoc, id="x")
    assert doc.id == "x" and doc.text == NEWS
    assert doc.tokens.text == [t.text for t in sdoc]
    assert doc.tokens.lemma == [t.lemma_ for t in sdoc]
    assert doc.tokens.head == [t.head.i for t in sdoc]
    assert [s.text for s in doc.sentences] == [s.text for s in sdoc.sents]
    assert [(e.text, e.label) for e in doc.entities] == [(e.text, e.label_) for e in sdoc.ents]


def test_a_document_without_tokens_is_tokenized(nlp):
    sdoc = to_spacy(Document.from_text("Plain text, no layers."), nlp)
    assert [t.text for t in sdoc] == ["Plain", "text", ",", "no", "layers", "."]


def test_export_docbin_from_a_run_folder(tmp_path, nlp, annotated, lee_texts):
    stages = [Tokenize(), PartOfSpeech(), NamedEntities()]
    docs = list(
        Pipeline(stages).pipe(Document(id=f"lee-{i}", text=t) for i, t in enumerate(lee_texts[:3]))
    )
    write_documents(tmp_path / "run" / "documents" / "shard-00000.parquet", [annotated], "parquet")
    write_documents(tmp_path / "run" / "documents" / "shard-00001.parquet", docs, "parquet")

    with pytest.raises(IncompleteRunError):  # no manifest: not a completed run
        export_docbin(tmp_path / "run", tmp_path / "out" / "corpus.spacy", nlp=nlp)
    count = export_docbin(
        tmp_path / "run", tmp_path / "out" / "corpus.spacy", nlp=nlp, allow_partial=True
    )
    assert count == 4
    loaded = list(DocBin().from_disk(tmp_path / "out" / "corpus.spacy").get_docs(nlp.vocab))
    assert [d.text for d in loaded] == [NEWS, *lee_texts[:3]]
    assert [from_spacy(d).id for d in loaded] == ["news-1", "lee-0", "lee-1", "lee-2"]
    assert [(e.text, e.label_) for e in loaded[0].ents] == [
        (e.text, e.label) for e in annotated.entities
    ]
    assert [t.tag_ for t in loaded[1]] == docs[0].tokens.tag
