"""Mention detection on a spaCy parse: named entities, noun phrases and pronouns.

Each `Mention` carries everything the sieves need (head, sentence, grammatical role,
number, gender, animacy, person, words), so the sieves never touch spaCy objects.
Detection follows Lee et al. (2013): take every noun phrase (spaCy noun chunks, plus
possessive nouns and coordinated phrases), named entity and pronoun; drop numeric
entities, quantifiers, duplicates with the same head and pleonastic "it"
("it is likely that...", "it rains").

`detect_mentions` also returns the precise syntactic links between mentions that the
`precise_constructs` sieve uses: appositives ("Angela Merkel, the chancellor,") and
predicate nominatives ("Merkel is the chancellor").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .agreement import gender_and_animacy, mention_number
from .lexicon import (
    NUMERIC_ENTITY_LABELS,
    PRONOUNS,
)
from .syntax import (
    ALIAS_VERBS,
    BE_FORMS,
    NOUN_TAGS,
    PROPER_TAGS,
    clause,
    governor,
    is_pleonastic,
    np_left,
    np_right,
    path,
    quote_ids,
    role,
    true_appositive,
)

__all__ = ["Detection", "Mention", "detect_mentions"]

INDEFINITE_STARTS = frozenset(
    {"a", "an", "some", "any", "another", "no", "every", "each", "several", "many", "few", "such"}
)
# Noun-phrase heads that never refer to an entity.
NON_REFERRING = frozenset(
    """
    something anything nothing everything someone anyone everyone nobody somebody
    anybody everybody none one ones lot lots kind sort type part number couple all
    both each either neither most more less much few several other others way time
    times thing things year years day days
    """.split()
)


@dataclass(eq=False, slots=True)
class Mention:
    """One mention: token span `[start, end)`, original-text offsets and agreement features.

    `kind` is "proper", "nominal" or "pronoun"; `number` "sg" | "pl" | "?";
    `gender` "m" | "f" | "n" | "?"; `animacy` "anim" | "inan" | "?"; `role` the
    grammatical role of the head ("subj", "obj", "pobj", "poss", "attr", "appos",
    "other"); `governor` the token the head depends on as an argument (for binding);
    `quote` the offset of the opening quotation mark when inside a quote, else -1;
    `words` the lowercased words of the reported span, `extent_words` those of the
    whole noun phrase (with its "of" phrase), used for exact string match.
    """

    start: int
    end: int
    head: int
    sent: int
    char_start: int
    char_end: int
    text: str
    kind: str
    ner: str | None
    number: str
    gender: str
    animacy: str
    person: int
    role: str
    governor: int
    clause: int
    path: tuple[int, ...]
    words: tuple[str, ...]
    extent_words: tuple[str, ...]
    head_word: str
    modifiers: frozenset[str]
    indefinite: bool
    pronoun: str | None
    quote: int
    coordinated: bool = False
    index: int = -1
    proper_words: tuple[str, ...] = field(default=())

    @property
    def key(self) -> tuple[int, int]:
        """Token span, the mention's identity within one document."""
        return (self.start, self.end)

    @property
    def depth(self) -> int:
        """Distance of the head from its sentence root."""
        return len(self.path) - 1

    def __repr__(self) -> str:
        return f"Mention({self.text!r}, {self.char_start}, {self.kind})"


@dataclass
class Detection:
    """Mentions in textual order and precise-construct links `(mention, mention, kind)`."""

    mentions: list[Mention]
    links: list[tuple[Mention, Mention, str]]


def detect_mentions(
    sdoc: Any,
    *,
    char_starts: Sequence[int],
    char_ends: Sequence[int],
    text: str,
    token_base: int = 0,
    sent_base: int = 0,
) -> Detection:
    """Find the mentions of a parsed spaCy `Doc`.

    `char_starts`/`char_ends` give each token's offsets in the original `text`;
    `token_base`/`sent_base` shift token and sentence indices, so that the chunks of
    a long document share one numbering. Returns mentions in textual order.

    The phases: candidate spans by head token (`_candidate_spans`, then
    `_coordinated_spans`), filtering by what the head is (`_mention_kind`), span
    trimming (`_mention_extent`), attributes (`_make_mention`), and the links between
    mentions (`_precise_links`).
    """
    if len(sdoc) == 0:
        return Detection([], [])
    spans, ner_of = _candidate_spans(sdoc)
    coordinated = _coordinated_spans(sdoc, spans)
    chunk = _Chunk(
        sdoc=sdoc,
        ner_of=ner_of,
        sent_of=_sentence_of_tokens(sdoc),
        quote_of=quote_ids(sdoc, char_starts),
        char_starts=char_starts,
        char_ends=char_ends,
        text=text,
        token_base=token_base,
        sent_base=sent_base,
    )
    mentions: list[Mention] = []
    by_head: dict[int, Mention] = {}
    entries = [(h, s, e, False) for h, (s, e) in spans.items()]
    entries += [(h, s, e, True) for h, s, e in coordinated]
    for head_i, start, end, is_coord in entries:
        kind = _mention_kind(sdoc[head_i], ner_of)
        if kind is None:
            continue
        start, end = _mention_extent(sdoc, head_i, start, end, kind)
        mention = _make_mention(chunk, head_i, start, end, kind, is_coord)
        mentions.append(mention)
        if not is_coord:
            by_head[head_i] = mention
    mentions.sort(key=lambda m: (m.start, -m.end))
    return Detection(mentions, _precise_links(sdoc, by_head))


@dataclass
class _Chunk:
    """One parsed chunk of a document and where its tokens lie in the whole document:
    what every mention of the chunk is built from."""

    sdoc: Any
    ner_of: dict[int, str]  # entity head token -> entity label
    sent_of: list[int]  # token -> sentence index within the chunk
    quote_of: list[int]  # token -> offset of the opening quotation mark, or -1
    char_starts: Sequence[int]
    char_ends: Sequence[int]
    text: str
    token_base: int
    sent_base: int


def _sentence_of_tokens(sdoc: Any) -> list[int]:
    """The sentence index of each token."""
    sent_of = [0] * len(sdoc)
    for s_i, sent in enumerate(sdoc.sents):
        for i in range(sent.start, sent.end):
            sent_of[i] = s_i
    return sent_of


def _candidate_spans(sdoc: Any) -> tuple[dict[int, tuple[int, int]], dict[int, str]]:
    """Candidate mentions as `{head token: (start, end)}`, and the entity label of each
    head that heads a named entity.

    Named entities (numeric ones left out), then noun chunks (widened to cover an
    entity with the same head, and to the right edge of the noun phrase), then the
    pronouns and the nouns that noun chunks miss (possessives, conjuncts, appositives,
    subjects, prepositional objects).
    """
    spans: dict[int, tuple[int, int]] = {}
    ner_of: dict[int, str] = {}

    for ent in sdoc.ents:
        if ent.label_ in NUMERIC_ENTITY_LABELS:
            continue
        root = ent.root
        if root.tag_ not in NOUN_TAGS:
            # A mis-tagged token ("Barack/IN Obama") must not head the entity.
            nouns = [t for t in ent if t.tag_ in NOUN_TAGS]
            root = nouns[-1] if nouns else root
        spans[root.i] = (ent.start, ent.end)
        ner_of[root.i] = ent.label_

    for chunk in sdoc.noun_chunks:
        root = chunk.root
        start, end = chunk.start, max(chunk.end, np_right(root))
        if root.i in spans:
            e_start, e_end = spans[root.i]
            start, end = min(start, e_start), max(end, e_end)
        spans[root.i] = (start, end)

    for token in sdoc:
        if token.i in spans:
            continue
        lower = token.text.lower()
        if token.tag_ in ("PRP", "PRP$") and lower in PRONOUNS:
            spans[token.i] = (token.i, token.i + 1)
        elif token.tag_ in NOUN_TAGS and token.dep_ in ("poss", "conj", "appos", "nsubj", "pobj"):
            if token.ent_type_ and token.ent_iob_ != "B" and token.head.ent_type_:
                continue
            spans[token.i] = (np_left(token), np_right(token))
    return spans, ner_of


def _coordinated_spans(sdoc: Any, spans: dict[int, tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Coordinated noun phrases ("Fred and Gordon") as `(head, start, end)`: plural
    mentions of their own, next to those of their conjuncts."""
    coordinated: list[tuple[int, int, int]] = []
    for head_i in list(spans):
        token = sdoc[head_i]
        conjuncts = [c for c in token.children if c.dep_ == "conj" and c.i in spans]
        has_cc = any(c.dep_ == "cc" and c.text.lower() in ("and", "&") for c in token.children)
        if conjuncts and has_cc and token.tag_ in NOUN_TAGS:
            start = spans[head_i][0]
            end = max(spans[c.i][1] for c in conjuncts)
            coordinated.append((head_i, start, end))
    return coordinated


def _mention_kind(head: Any, ner_of: dict[int, str]) -> str | None:
    """ "pronoun", "proper" or "nominal" for a candidate with this head token, or None
    when it is no mention: punctuation, an unknown or pleonastic pronoun ("it rains"),
    a non-referring or numeric noun, or a head that is neither noun nor pronoun."""
    lower = head.text.lower()
    if head.is_punct or head.is_space or not head.text.strip():
        return None
    if head.tag_ in ("PRP", "PRP$") or (head.pos_ == "PRON" and lower in PRONOUNS):
        if lower not in PRONOUNS:
            return None
        if lower in ("it", "its") and is_pleonastic(head):
            return None
        return "pronoun"
    if head.tag_ in NOUN_TAGS or head.pos_ in ("NOUN", "PROPN") or head.i in ner_of:
        if lower in NON_REFERRING or head.like_num or head.ent_type_ in NUMERIC_ENTITY_LABELS:
            return None
        return "proper" if (head.tag_ in PROPER_TAGS or head.pos_ == "PROPN") else "nominal"
    return None


def _mention_extent(sdoc: Any, head_i: int, start: int, end: int, kind: str) -> tuple[int, int]:
    """The mention's token span: a pronoun alone; otherwise the candidate span without
    punctuation and the possessive marker at its edges (the head alone if that loses it)."""
    if kind == "pronoun":
        start, end = head_i, head_i + 1
    while start < end - 1 and (sdoc[start].is_punct or sdoc[start].is_space):
        start += 1
    while end - 1 > start and (
        sdoc[end - 1].is_punct or sdoc[end - 1].is_space or sdoc[end - 1].tag_ == "POS"
    ):
        end -= 1
    if not start <= head_i < end:
        start, end = head_i, head_i + 1
    return start, end


def _shown_end(sdoc: Any, head_i: int, end: int, kind: str, is_coord: bool) -> int:
    """Where the reported span ends: before an "of" phrase, so that "the daughter of
    Peter Keith" does not stand for "Peter Keith" (matching still uses all its words)."""
    if kind == "pronoun" or is_coord:
        return end
    head = sdoc[head_i]
    base = np_right(head, with_of=False)
    if head.ent_type_:
        while base < end and sdoc[base].ent_iob_ == "I":
            base += 1
    shown_end = max(head_i + 1, min(end, base))
    while shown_end - 1 > head_i and (
        sdoc[shown_end - 1].is_punct or sdoc[shown_end - 1].tag_ == "POS"
    ):
        shown_end -= 1
    return shown_end


def _make_mention(
    chunk: _Chunk, head_i: int, start: int, end: int, kind: str, is_coord: bool
) -> Mention:
    """The `Mention` spanning tokens `[start, end)` of the chunk, with its attributes:
    entity label, agreement features, grammatical role, words and offsets."""
    sdoc, base = chunk.sdoc, chunk.token_base
    head = sdoc[head_i]
    lower = head.text.lower()
    span_tokens = [sdoc[i] for i in range(start, end)]
    shown_end = _shown_end(sdoc, head_i, end, kind, is_coord)
    ner = chunk.ner_of.get(head_i) or (head.ent_type_ or None)
    if ner in NUMERIC_ENTITY_LABELS:
        ner = None
    gender, animacy = gender_and_animacy(span_tokens, head, kind, ner)
    if is_coord:
        gender = "?" if gender not in ("n",) else "n"
    extent_words = tuple(
        t.text.lower() for t in span_tokens if not t.is_punct and t.tag_ != "POS" and t.text.strip()
    )
    words = tuple(
        t.text.lower()
        for t in span_tokens
        if t.i < shown_end and not t.is_punct and t.tag_ != "POS" and t.text.strip()
    )
    modifiers = frozenset(
        t.text.lower()
        for t in span_tokens
        if t.i < head_i and t.pos_ in ("ADJ", "NOUN", "PROPN", "NUM")
    )
    info = PRONOUNS.get(lower) if kind == "pronoun" else None
    c_start = chunk.char_starts[start]
    c_end = chunk.char_ends[shown_end - 1]
    return Mention(
        start=start + base,
        end=end + base,
        head=head_i + base,
        sent=chunk.sent_of[head_i] + chunk.sent_base,
        char_start=c_start,
        char_end=c_end,
        text=chunk.text[c_start:c_end],
        kind=kind,
        ner=ner,
        number=mention_number(head, kind, ner, is_coord),
        gender=gender,
        animacy=animacy,
        person=info.person if info else 3,
        role=role(head),
        governor=governor(head) + base,
        clause=clause(head) + base,
        path=tuple(i + base for i in path(head)),
        words=words,
        extent_words=extent_words,
        head_word=lower,
        modifiers=modifiers,
        indefinite=bool(words) and words[0] in INDEFINITE_STARTS,
        pronoun=lower if kind == "pronoun" else None,
        quote=chunk.quote_of[head_i],
        coordinated=is_coord,
        proper_words=tuple(
            t.text
            for t in span_tokens
            if t.i <= head_i
            and t.text[:1].isupper()
            and (t.tag_ in PROPER_TAGS or (ner is not None and t.ent_type_ == ner))
            and t.tag_ not in ("DT", "POS")
        ),
    )


def _precise_links(sdoc: Any, by_head: dict[int, Mention]) -> list[tuple[Mention, Mention, str]]:
    """The links the `precise_constructs` sieve uses, as `(antecedent, mention, kind)`:
    "appositive" ("Angela Merkel, the chancellor,"), "alias" ("known as ...") and
    "predicate" (nominative: "Merkel is the chancellor")."""
    links: list[tuple[Mention, Mention, str]] = []
    for head_i, mention in by_head.items():
        token = sdoc[head_i]
        if token.dep_ == "appos" and token.head.i in by_head and true_appositive(token, sdoc):
            links.append((by_head[token.head.i], mention, "appositive"))
        alias_verb = (
            token.head.head
            if token.dep_ == "pobj" and token.head.text.lower() == "as"
            else token.head
        )
        if (
            token.dep_ in ("pobj", "oprd", "attr", "dobj", "npadvmod", "appos")
            and alias_verb.text.lower() in ALIAS_VERBS
            and alias_verb.dep_ in ("acl", "advcl", "relcl", "appos", "amod")
            and alias_verb.head.i in by_head
            and alias_verb.head.i != head_i
        ):
            links.append((by_head[alias_verb.head.i], mention, "alias"))
        if token.dep_ == "attr" and token.head.text.lower() in BE_FORMS | {"became", "become"}:
            subjects = [c for c in token.head.children if c.dep_ in ("nsubj", "nsubjpass")]
            if subjects and subjects[0].i in by_head:
                links.append((by_head[subjects[0].i], mention, "predicate"))
    return links
