"""Documents to and from spaCy: `to_spacy`, `from_spacy`, and a run folder as a spaCy `DocBin`.

A converted spaCy `Doc` carries our tokens (original text and offsets), lemmas, POS,
tags, the dependency parse, sentences and entities; `Doc.user_data["nlp_pipeline"]`
keeps the id, metadata, sentence spans and normalized token forms, so
`from_spacy(to_spacy(doc, nlp))` gives back the same layers.
"""

from __future__ import annotations

from bisect import bisect_left
from pathlib import Path
from typing import Any

from pipeline.document import Document, Span, TokenTable, content_id

__all__ = ["USER_DATA_KEY", "export_docbin", "from_spacy", "to_spacy"]

USER_DATA_KEY = "nlp_pipeline"


def _vocab_and_tokenizer(vocab_or_nlp: Any) -> tuple[Any, Any]:
    from spacy.language import Language

    if isinstance(vocab_or_nlp, Language):
        return vocab_or_nlp.vocab, vocab_or_nlp.tokenizer
    return vocab_or_nlp, None


def to_spacy(doc: Document, vocab_or_nlp: Any) -> Any:
    """Convert a document to a spaCy `Doc` over `vocab_or_nlp` (a `Vocab` or a `Language`).

    Token `i` of the result is token `i` of `doc.tokens`; its text is the original text
    of the token and its whitespace the gap to the next token (gaps other than one
    space or nothing cannot be represented in spaCy and become one space). Without a
    token layer, the `Language`'s tokenizer (or a blank one for the vocab's language)
    splits the text. Lemmas, POS, tags, dependency heads and labels, entities and
    sentences are set where the document has them (sentence starts only without a
    parse: spaCy derives sentences from the parse).
    """
    from spacy.tokens import Doc
    from spacy.tokens import Span as SpacySpan

    vocab, tokenizer = _vocab_and_tokenizer(vocab_or_nlp)
    user_data: dict[str, Any] = {"id": doc.id, "meta": doc.meta}
    tokens = doc.tokens
    if tokens is None:
        if tokenizer is None:
            import spacy

            tokenizer = spacy.blank(vocab.lang or "xx", vocab=vocab).tokenizer
        sdoc = tokenizer(doc.text)
        starts = [t.idx for t in sdoc]
        tokens = TokenTable(
            doc.text, starts, [s + len(t) for s, t in zip(starts, sdoc, strict=True)]
        )
    starts, ends, text = tokens.start, tokens.end, doc.text
    n = len(tokens)
    words = tokens.text
    spaces = [ends[i] < starts[i + 1] for i in range(n - 1)] + ([ends[-1] < len(text)] if n else [])
    kwargs: dict[str, Any] = {}
    for column, argument in (("lemma", "lemmas"), ("pos", "pos"), ("tag", "tags"), ("dep", "deps")):
        values = getattr(tokens, column)
        if values is not None:
            kwargs[argument] = [v or None for v in values] if column == "pos" else list(values)
    if tokens.head is not None and tokens.dep is not None:
        kwargs["heads"] = list(tokens.head)
    elif doc.sentences is not None and n:
        firsts = {bisect_left(starts, s.start) for s in doc.sentences}
        kwargs["sent_starts"] = [i in firsts for i in range(n)]
    if doc.sentences is not None:
        user_data["sentences"] = [[s.start, s.end] for s in doc.sentences]
    if tokens.norm is not None:
        user_data["norm"] = list(tokens.norm)
    sdoc = Doc(vocab, words=words, spaces=spaces, user_data={USER_DATA_KEY: user_data}, **kwargs)
    if doc.entities:
        ents = []
        for ent in doc.entities:
            first = bisect_left(ends, ent.start + 1)  # the first token ending after the start
            last = bisect_left(starts, ent.end)  # the first token starting at or after the end
            if first < last:
                ents.append(SpacySpan(sdoc, first, last, label=ent.label or ""))
        sdoc.ents = ents
    return sdoc


def from_spacy(spacy_doc: Any, id: str | None = None) -> Document:
    """Convert a spaCy `Doc` to a document (the text is the spaCy doc's text).

    Tokens (with spaCy's whitespace tokens), and lemma, POS, tag, dep/head columns where
    spaCy has those annotations; sentences when the doc is parsed or has sentence
    starts; entities. The id is `id`, else the one `to_spacy` stored, else a hash of
    the text.
    """
    data = spacy_doc.user_data.get(USER_DATA_KEY, {}) if spacy_doc.user_data else {}
    text = spacy_doc.text
    doc = Document(
        id=id if id is not None else data.get("id") or content_id(text),
        text=text,
        meta=dict(data.get("meta") or {}),
    )
    starts = [t.idx for t in spacy_doc]
    ends = [t.idx + len(t) for t in spacy_doc]
    tokens = TokenTable(text, starts, ends)
    norms = data.get("norm")
    if norms is not None and len(norms) == len(starts):
        tokens.norm = norms
    has = spacy_doc.has_annotation
    if has("LEMMA"):
        tokens.lemma = [t.lemma_ for t in spacy_doc]
    if has("POS"):
        tokens.pos = [t.pos_ for t in spacy_doc]
    if has("TAG"):
        tokens.tag = [t.tag_ for t in spacy_doc]
    if has("DEP"):
        tokens.dep = [t.dep_ for t in spacy_doc]
        tokens.head = [t.head.i for t in spacy_doc]
    doc.tokens = tokens
    if data.get("sentences") is not None:
        doc.sentences = [Span(s, e, text[s:e]) for s, e in data["sentences"]]
    elif has("SENT_START") or has("DEP"):
        doc.sentences = [doc.span(s.start_char, s.end_char) for s in spacy_doc.sents]
    doc.entities = [doc.span(e.start_char, e.end_char, e.label_) for e in spacy_doc.ents]
    return doc


def export_docbin(
    run_dir: str | Path, path: str | Path, *, nlp: Any = None, allow_partial: bool = False
) -> int:
    """Write every document of a run folder to a spaCy `DocBin` file at `path`.

    `nlp` (a `Language`) supplies the vocabulary and, for documents without tokens, the
    tokenizer; a blank English pipeline by default. User data (ids, metadata) is kept.
    Load the file with `DocBin().from_disk(path).get_docs(nlp.vocab)`. Returns the
    number of documents written. A run that did not complete is refused unless
    `allow_partial` (as `read_documents`).
    """
    import spacy
    from spacy.tokens import DocBin

    from pipeline.store import read_documents

    nlp = nlp if nlp is not None else spacy.blank("en")
    docbin = DocBin(store_user_data=True)
    count = 0
    for doc in read_documents(run_dir, allow_partial=allow_partial):
        docbin.add(to_spacy(doc, nlp))
        count += 1
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    docbin.to_disk(path)
    return count
