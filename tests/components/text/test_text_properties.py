"""Property tests: normalize + tokenize never fail and always give offsets into the original."""

from __future__ import annotations

import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components import Normalize, Sentences, Tokenize
from components.text.edits import compose
from pipeline.document import Alignment, Document

BACKENDS = ["spacy", "regex", "nltk-treebank", "nltk-tweet", "whitespace"]
STAGES = {backend: Tokenize(backend=backend) for backend in BACKENDS}

#: Any code point, lone surrogates and control characters included, mixed with
#: pieces every rewrite acts on.
PIECES = [
    "<URL>", "<NUM>", "don't", "I'M", "won\u2019t", "\ufb01", "\u2026", "\u00bd", "e\u0301", "  ",
    "\n\n", "http://x.org/a?b=1", "a.b@c.com", "1,234.5", "\u0130", "Mr.", "U.S.", "&amp;", ":)",
    "\ud800", "\u0301", "\u1100\u1161\u11a8", "\t", "\u00a0", "'s", "\u05e9\u05dc\u05d5\u05dd", "\U0001f600",
]  # fmt: skip
texts = st.lists(
    st.one_of(st.text(st.characters(blacklist_categories=()), max_size=6), st.sampled_from(PIECES)),
    max_size=10,
).map("".join)
options = st.fixed_dictionaries(
    {
        "unicode": st.sampled_from(["NFKC", "NFC", "NFKD", "NFD", "none"]),
        "whitespace": st.booleans(),
        "lowercase": st.booleans(),
        "strip_accents": st.booleans(),
        "expand_contractions": st.booleans(),
        "mask_urls": st.booleans(),
        "mask_emails": st.booleans(),
        "mask_numbers": st.booleans(),
    }
)
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_alignment_is_consistent(doc: Document) -> None:
    """Edits are ordered, in range, and the text between them has equal length on both sides."""
    prev_norm = prev_orig = 0
    for ns, ne, os_, oe in doc.alignment.edits:
        assert prev_norm <= ns <= ne <= len(doc.normalized)
        assert prev_orig <= os_ <= oe <= len(doc.text)
        assert ns - prev_norm == os_ - prev_orig
        prev_norm, prev_orig = ne, oe
    assert len(doc.normalized) - prev_norm == len(doc.text) - prev_orig


def assert_tokens_slice_the_original(doc: Document) -> None:
    previous_end = 0
    for token in doc.tokens:
        assert previous_end <= token.start < token.end <= len(doc.text)
        assert token.text == doc.text[token.start : token.end]
        previous_end = token.end


@SETTINGS
@given(texts, options, st.sampled_from(BACKENDS))
def test_normalize_then_tokenize_any_text(text, params, backend):
    doc = Normalize(**params)(Document.from_text(text))
    assert doc.text == text
    assert_alignment_is_consistent(doc)
    STAGES[backend](doc)
    assert_tokens_slice_the_original(doc)
    for placeholder in ("<URL>", "<EMAIL>", "<NUM>"):
        # never cut: each one lies whole inside a token (alone, unless one original
        # character became several, as "½" -> "<NUM>⁄<NUM>")
        assert sum(n.count(placeholder) for n in doc.tokens.norm) == doc.normalized.count(
            placeholder
        )


@SETTINGS
@given(texts, options, options, st.sampled_from(BACKENDS))
def test_normalizing_twice_then_tokenizing_any_text(text, first, second, backend):
    doc = Normalize(**second)(Normalize(**first)(Document.from_text(text)))
    assert_alignment_is_consistent(doc)
    STAGES[backend](doc)
    assert_tokens_slice_the_original(doc)
    Sentences()(doc)
    tokens = list(zip(doc.tokens.start, doc.tokens.end, strict=True))
    assert [t for s in doc.sentences for t in tokens if s.start <= t[0] and t[1] <= s.end] == tokens


@SETTINGS
@given(texts, st.sampled_from(BACKENDS))
def test_tokenize_raw_text(text, backend):
    doc = STAGES[backend](Document.from_text(text))
    assert_tokens_slice_the_original(doc)


TOKENIZER = spacy.blank("en").tokenizer


@SETTINGS
@given(texts.map(lambda t: "".join(c for c in t if not "\ud800" <= c <= "\udfff")))
def test_spacy_backend_equals_spacy_on_any_text(text):
    doc = STAGES["spacy"](Document.from_text(text))
    expected = TOKENIZER(text)
    assert doc.tokens.start == [t.idx for t in expected]
    assert doc.tokens.end == [t.idx + len(t) for t in expected]


# -- alignment composition -----------------------------------------------------------


@st.composite
def rewrites(draw, text: str):
    """A random rewrite of `text`: new text, its edits, and each new character's origin."""
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=8)))
    pieces = []
    pos = 0
    for a, b in zip(cuts[0::2], cuts[1::2], strict=False):
        if a < pos:
            continue
        pieces.append((pos, a, None))
        pieces.append((a, b, draw(st.text("xyz ", max_size=3))))
        pos = b
    pieces.append((pos, len(text), None))
    new, edits, origin = [], [], []
    for a, b, replacement in pieces:
        if replacement is None or (b - a == 1 and len(replacement) == 1):
            kept = text[a:b] if replacement is None else replacement
            origin.extend(range(a, a + len(kept)))
            new.append(kept)
            continue
        start = sum(map(len, new))
        edits.append((start, start + len(replacement), a, b))
        origin.extend([(a, b)] * len(replacement))
        new.append(replacement)
    return "".join(new), edits, origin


@settings(max_examples=300, deadline=None)
@given(st.data(), st.text("abcdef", max_size=12))
def test_composed_alignment_maps_every_character_to_where_it_came_from(data, text0):
    text1, edits1, origin1 = data.draw(rewrites(text0))
    text2, edits2, origin2 = data.draw(rewrites(text1))
    composed = Alignment(compose(edits1, edits2))
    for pos, via in enumerate(origin2):
        # where text2[pos] came from in text0: a span, from one or two replacements
        lo, hi = via if isinstance(via, tuple) else (via, via + 1)
        sources = [origin1[p] for p in range(lo, hi)]
        spans = [s if isinstance(s, tuple) else (s, s + 1) for s in sources]
        start, end = composed.span(pos, pos + 1)
        assert all(start <= a and b <= max(end, start) for a, b in spans if b > a), (
            pos,
            spans,
            start,
            end,
        )
        if not isinstance(via, tuple) and not isinstance(origin1[via], tuple):
            inside = any(ns <= pos < ne for ns, ne, _, _ in composed.edits)
            if not inside:
                assert (start, end) == (origin1[via], origin1[via] + 1)
