"""Languages and paragraphs on real feeds: every document gets `meta["language"]`, the
English-model stages pass other languages through (counted in the manifest), and a feed
item's title and body are separate paragraphs to every stage."""

from __future__ import annotations

import shutil
from bisect import bisect_right

import pytest

from components.text.coref import Coref
from components.text.ner import NamedEntities
from components.text.pos import PartOfSpeech
from components.text.sentences import Sentences
from components.text.tokenize import Tokenize
from pipeline import Document, Pipeline
from pipeline.config import load_config, resolve_config
from pipeline.language import declared_language, detect_language, document_language
from pipeline.runner import run
from pipeline.store import read_documents

# feed file -> the language of its items: declared by the feed (<language>) or not
FEEDS = {
    "guardian.rss": "en",  # declares en-gb
    "CRE.xml": "de",  # declares de-DE
    "encoding.rss": "pt",  # declares pt-pt
    "heise.atom": "de",  # declares nothing: detected
    "iconv.xml": "ru",  # declares nothing: detected
}
STAGES = [
    {"tokenize": {}},
    {"sentences": {}},
    {"pos": {}},
    {"ner": {}},
    {"coref": {}},
]


@pytest.fixture(scope="module")
def feed_run(shared_data, tmp_path_factory):
    """One run of tokenize → sentences → pos → ner → coref over five real feeds."""
    folder = tmp_path_factory.mktemp("feeds")
    for name in FEEDS:
        shutil.copy(shared_data / "feeds" / "real" / name, folder / name)
    config = resolve_config(
        load_config(
            {
                "name": "languages",
                "corpus": {"reader": "feeds", "path": str(folder)},
                "stages": STAGES,
                "execution": {"shard_size": 40},
                "output": {"dir": str(folder.parent / "run")},
            }
        )
    )
    result = run(config)
    return result.manifest, list(read_documents(result.run_dir))


def _feed(doc: Document) -> str:
    return doc.meta["source"].rsplit("/", 1)[-1]


def test_every_document_gets_its_declared_or_detected_language(feed_run):
    _, docs = feed_run
    assert len(docs) == 55 + 30 + 40 + 15 + 10
    assert {doc.meta["language"] for doc in docs if _feed(doc) == "guardian.rss"} == {"en"}
    for doc in docs:
        assert doc.meta["language"] == FEEDS[_feed(doc)], (doc.id, doc.text[:60])


def test_other_languages_get_no_english_annotations_and_are_counted(feed_run):
    manifest, docs = feed_run
    others = [doc for doc in docs if doc.meta["language"] != "en"]
    assert len(others) == 95
    for doc in others:
        # tokens and sentences are language-neutral; the English model's layers are absent
        assert doc.tokens is not None and doc.sentences
        assert doc.tokens.pos is None and doc.tokens.dep is None
        assert doc.entities is None and doc.coref is None
        assert doc.meta["skipped_stages"] == ["pos", "ner", "coref"]
    rows = {row["name"]: row for row in manifest["stages"]}
    skipped = {"de": 45, "pt": 40, "ru": 10}
    for name in ("pos", "ner", "coref"):
        assert rows[name]["skipped_languages"] == skipped
        assert rows[name]["in"] == rows[name]["out"] == 150  # passed through, not dropped
        assert rows[name]["quarantined"] == 0
    assert "skipped_languages" not in rows["tokenize"]
    assert "skipped_languages" not in rows["sentences"]


def test_other_languages_are_tokenized_with_their_own_rules(feed_run):
    _, docs = feed_run
    words = {
        code: {t for d in docs if d.meta["language"] == code for t in d.tokens.text}
        for code in ("en", "de", "pt")
    }
    # English rules would make "Im" into "I" + "m" and cut words at hyphens
    assert {"Im", "Zeiss-Großplanatariums", "Cochlea-Implantat"} <= words["de"]
    assert {"quarta-feira", "ex-embaixador"} <= words["pt"]
    assert {"'s", "n't"} <= words["en"]  # English items keep the English rules


def test_english_items_still_get_entities_and_coreference(feed_run):
    _, docs = feed_run
    english = [doc for doc in docs if doc.meta["language"] == "en"]
    assert all("skipped_stages" not in doc.meta for doc in english)
    assert all(doc.tokens.pos is not None and doc.coref is not None for doc in english)
    assert sum(bool(doc.entities) for doc in english) >= 50
    people = {e.text for doc in english for e in doc.entities if e.label == "PERSON"}
    assert "Donald Trump" in people


def _title_end(doc: Document) -> int | None:
    """Where the title ends, when the item has a title and a body."""
    title = doc.meta.get("title")
    if not title or not doc.text.startswith(title + "\n\n"):
        return None
    return len(title)


def test_title_and_body_are_separate_paragraphs_to_every_stage(feed_run):
    _, docs = feed_run
    english = [doc for doc in docs if doc.meta["language"] == "en" and _title_end(doc)]
    assert len(english) == 55
    mentions = 0
    for doc in english:
        end = _title_end(doc)
        body = end + 2

        def crosses(start: int, stop: int, end: int = end, body: int = body) -> bool:
            return start < end and stop > body  # text of the title and of the body

        assert not any(crosses(s.start, s.end) for s in doc.sentences)
        assert not any(crosses(e.start, e.end) for e in doc.entities), doc.entities
        assert not any(e.text != e.text.strip() for e in doc.entities), doc.entities
        for cluster in doc.coref:
            for mention in cluster:
                assert not crosses(mention.start, mention.end), mention
                assert mention.text == mention.text.strip(), mention
                mentions += 1
        # no dependency arc joins the title to the body
        body_tokens = bisect_right(doc.tokens.start, end)
        for i, head in enumerate(doc.tokens.head):
            assert (i < body_tokens) == (head < body_tokens), (doc.tokens.text[i], doc.id)
    assert mentions > 100
    # the item whose title used to run into its body in one mention
    item = next(d for d in english if "thinly disguised contempt" in d.text)
    texts = {m.text for cluster in item.coref for m in cluster}
    assert "Donald Trump" in texts
    assert not any("contempt" in t and "Trump" in t for t in texts)


def test_spacy_stages_keep_the_sentences_stage_boundaries(lee_texts):
    stages = [Tokenize(), Sentences(), PartOfSpeech(), NamedEntities()]
    docs = list(
        Pipeline(stages).pipe(Document(id=str(i), text=t) for i, t in enumerate(lee_texts[:40]))
    )
    assert {doc.meta["language"] for doc in docs} == {"en"}
    assert all(doc.entities for doc in docs)
    for doc in docs:
        starts = [s.start for s in doc.sentences]
        sentence = [bisect_right(starts, start) - 1 for start in doc.tokens.start]
        # the parse (and so spaCy's sentences) never joins two of our sentences
        assert all(sentence[i] == sentence[h] for i, h in enumerate(doc.tokens.head))
        assert not any(e.start < s < e.end for e in doc.entities for s in starts)


@pytest.mark.parametrize("prepared", ["text", "tokens"])
def test_coref_alone_respects_paragraphs_and_languages(shared_data, prepared):
    """Coref parsing for itself (from raw text, or from our tokens and sentences)."""
    from corpora.feeds import FeedReader

    docs = [
        d
        for name in ("guardian.rss", "CRE.xml")
        for d in FeedReader(path=str(shared_data / "feeds" / "real" / name)).read()
    ]
    docs = [d for d in docs if isinstance(d, Document)][:20] + docs[-5:]
    stages = [Coref()] if prepared == "text" else [Tokenize(), Sentences(), Coref()]
    out = list(Pipeline(stages).pipe(docs))
    assert [d.id for d in out] == [d.id for d in docs]
    for doc in out:
        if doc.meta["language"] == "de":
            assert doc.coref is None and doc.meta["skipped_stages"] == ["coref"]
            continue
        end = _title_end(doc)
        for cluster in doc.coref:
            for mention in cluster:
                assert "\n\n" not in mention.text
                assert end is None or mention.end <= end or mention.start >= end + 2


def test_declared_language_is_kept_and_normalized_else_detected(lee_texts):
    assert declared_language("de-DE") == "de" and declared_language("en_us") == "en"
    assert declared_language("not a tag") is None
    # the source's word wins over the detector, even on English text
    declared = Document(id="a", text=lee_texts[0], meta={"language": "pt-PT"})
    assert document_language(declared) == "pt" and declared.meta["language"] == "pt"
    out = Pipeline([Tokenize(), NamedEntities()])(declared)
    assert out.entities is None and out.meta["skipped_stages"] == ["ner"]
    # no declaration: detected
    assert detect_language(lee_texts[1]) == "en"
    assert detect_language("Die Bundesregierung hat am Mittwoch neue Regeln beschlossen.") == "de"
    # too short or no letters to tell: unknown, and the English stages annotate it
    assert detect_language("Food for fungi") is None
    assert detect_language("12:30 — 14:45") is None
    short = Pipeline([Tokenize(), NamedEntities()])("Food for fungi")
    assert short.meta["language"] is None and short.entities is not None
