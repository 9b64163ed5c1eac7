"""The deterministic sieves of a Lee et al. (2013)-style coreference resolver.

Sieves run from the most precise to the least precise; each merges clusters, and
later sieves see the attributes (gender, number, animacy, entity label, words) that
earlier merges pooled at the cluster level:

1. `exact_match`: identical non-pronominal mention text; then the relaxed string
   match (identical text up to the head word: "Clinton" / "Clinton, whose term...").
2. `precise_constructs`: appositives, predicate nominatives, acronyms
   ("the International Monetary Fund" / "IMF"). Role appositives ("actress Rebecca
   Romijn") are one mention whose role noun sets the gender.
3. `strict_head_match`: the same head word, word inclusion and compatible
   modifiers, in three passes of decreasing strictness (Lee's sieves 5-7).
4. `proper_head_match`: two proper-noun mentions with the same head word and no
   location or number mismatch.
5. `relaxed_head_match`: the head matches any word of the antecedent cluster, with
   word inclusion and the same entity label (also links "Cheryl" to "Cheryl Cassidy").
6. `pronouns`: agreement filters (number, gender, animacy, person), binding and
   i-within-i constraints, then salience ranking of candidate entities in the manner
   of Lappin & Leass (1994): recency, subject > object > oblique, head-noun and
   syntactic parallelism, accumulated over the entity's mentions with a decay of one
   half per sentence.
"""

from __future__ import annotations

import typing
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from .clusters import (
    STOP_WORDS,
    Clusters,
    candidates,
    compatible,
    group_by_sentence,
    name_words,
    names_conflict,
    nested,
)
from .lexicon import LOCATION_LABELS
from .mentions import Mention
from .pronouns import pronoun_sieve, speaker_sieve

__all__ = ["SIEVES", "Clusters", "SieveName", "run_sieves"]

#: The sieves by name, in the order they run: the one list of them (the `coref`
#: stage's `sieves` parameter is typed with it).
SieveName = Literal[
    "speaker",
    "exact_match",
    "precise_constructs",
    "strict_head_match",
    "proper_head_match",
    "relaxed_head_match",
    "pronouns",
]
SIEVES: tuple[SieveName, ...] = typing.get_args(SieveName)


def _string_key(mention: Mention, relaxed: bool) -> tuple[str, ...]:
    words = mention.extent_words
    if relaxed:
        head_pos = mention.head - mention.start
        words = tuple(w for w in words[: head_pos + 1] if w not in ("the", "a", "an"))
    return words


def exact_match(mentions: Sequence[Mention], clusters: Clusters) -> None:
    """Merge non-pronominal mentions with the same text (then the same text up to the head)."""
    for relaxed in (False, True):
        first_of: dict[tuple[str, ...], Mention] = {}
        for m in mentions:
            if m.kind == "pronoun" or m.coordinated:
                continue
            if relaxed and m.kind != "proper":
                continue
            key = _string_key(m, relaxed)
            if not key or all(w in STOP_WORDS for w in key):
                continue
            antecedent = first_of.get(key)
            if antecedent is None:
                first_of[key] = m
            elif not m.indefinite and not nested(antecedent, m):
                clusters.merge(antecedent, m)


def precise_constructs(
    mentions: Sequence[Mention], clusters: Clusters, links: Sequence[tuple[Mention, Mention, str]]
) -> None:
    """Merge appositives, predicate nominatives and acronyms that agree."""
    for a, b, _kind in links:
        if a.kind == "pronoun" and b.kind == "pronoun":
            continue
        if a.coordinated or b.coordinated:
            continue
        if compatible(clusters, a, b, ("number", "gender", "animacy", "ner")):
            clusters.merge(a, b)
    acronyms: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        if m.kind == "proper" and len(m.proper_words) == 1:
            word = m.proper_words[0]
            if 2 <= len(word) <= 6 and word.isupper() and word.isalpha():
                acronyms[word].append(m)
    if not acronyms:
        return
    for m in mentions:
        if m.kind != "proper" or len(m.proper_words) < 2:
            continue
        initials = "".join(w[0] for w in m.proper_words if w[:1].isupper())
        for short in acronyms.get(initials, ()):
            clusters.merge(m, short)


def _head_candidates(
    m: Mention, clusters: Clusters, by_head: dict[str, list[Mention]]
) -> list[Mention]:
    """Earlier non-pronominal mentions whose cluster has a mention with `m`'s head word,
    in the order of `candidates` (same sentence by depth, then nearest sentences)."""
    roots = {clusters.find(x) for x in by_head.get(m.head_word, ()) if x is not m}
    roots.discard(clusters.find(m))
    found = []
    for root in roots:
        for c in clusters.members_of(root):
            if c.index >= m.index or c.kind == "pronoun" or c.coordinated or nested(c, m):
                continue
            found.append(c)
    found.sort(key=lambda c: (m.sent - c.sent, c.depth, c.start))
    return found


def strict_head_match(mentions: Sequence[Mention], clusters: Clusters) -> None:
    """Lee's sieves 5-7: entity head match with word inclusion and compatible modifiers."""
    by_head: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        if m.kind != "pronoun" and not m.coordinated:
            by_head[m.head_word].append(m)
    for pass_ in ("A", "B", "C"):
        for m in mentions:
            if m.kind == "pronoun" or m.indefinite or m.coordinated or not clusters.is_first(m):
                continue
            candidates = _head_candidates(m, clusters, by_head)
            if not candidates:
                continue
            m_words = clusters.words(m)
            for c in candidates:
                if clusters.same(m, c):
                    continue
                c_members = clusters.members(c)
                if pass_ != "C" and not m_words <= clusters.words(c):
                    continue
                if pass_ == "A":
                    c_modifiers = set().union(*(x.modifiers for x in c_members))
                    if not m.modifiers <= c_modifiers:
                        continue
                if not compatible(clusters, m, c, ("number", "gender", "animacy", "ner")):
                    continue
                if names_conflict(clusters, m, c):
                    continue
                clusters.merge(c, m)
                break


def proper_head_match(
    mentions: Sequence[Mention], clusters: Clusters, by_sentence: dict[int, list[Mention]]
) -> None:
    """Lee's sieve 8: proper heads that match, without location or number mismatch.

    A second pass links person names where one name's words are part of the other's,
    whichever comes first ("Mr Thaksin" ... "Thaksin Shinawatra").
    """
    _proper_heads(mentions, clusters, by_sentence)
    for m in mentions:
        if m.kind != "proper" or m.coordinated or m.ner not in (None, "PERSON"):
            continue
        m_names = name_words(m)
        if not m_names:
            continue
        for c in candidates(m, by_sentence):
            if c.kind != "proper" or c.coordinated or c.ner not in (None, "PERSON"):
                continue
            if clusters.same(m, c):
                continue
            c_names = name_words(c)
            if not c_names or not (m_names <= c_names or c_names <= m_names):
                continue
            if c_names < m_names and m.head_word not in c_names:
                # An earlier first name ("Janet") is not a later full name's short form
                # ("Janet Auchincloss"); an earlier surname ("Howard" ... "John Howard") may be.
                continue
            if not compatible(clusters, m, c, ("number", "gender", "animacy")):
                continue
            if names_conflict(clusters, m, c):
                continue
            clusters.merge(c, m)
            break


def _proper_heads(
    mentions: Sequence[Mention], clusters: Clusters, by_sentence: dict[int, list[Mention]]
) -> None:
    for m in mentions:
        if m.kind != "proper" or m.coordinated or not clusters.is_first(m):
            continue
        m_numbers = {w for w in m.words if any(ch.isdigit() for ch in w)}
        for c in candidates(m, by_sentence):
            if c.kind != "proper" or c.coordinated or c.head_word != m.head_word:
                continue
            if clusters.same(m, c):
                continue
            c_numbers = {w for w in c.words if any(ch.isdigit() for ch in w)}
            if m_numbers and c_numbers and m_numbers != c_numbers:
                continue
            if m.ner in LOCATION_LABELS and c.ner in LOCATION_LABELS and m.words != c.words:
                continue
            if not compatible(clusters, m, c, ("number", "gender", "animacy")):
                continue
            if names_conflict(clusters, m, c):
                continue
            clusters.merge(c, m)
            break


def relaxed_head_match(
    mentions: Sequence[Mention], clusters: Clusters, by_sentence: dict[int, list[Mention]]
) -> None:
    """Lee's sieve 9: the head matches any word of the antecedent cluster, same entity label."""
    for m in mentions:
        if m.kind == "pronoun" or m.indefinite or m.coordinated or not clusters.is_first(m):
            continue
        if m.ner is None and m.kind != "proper":
            continue
        m_words = clusters.words(m)
        for c in candidates(m, by_sentence):
            if c.kind == "pronoun" or c.coordinated or clusters.same(m, c):
                continue
            if m.head_word not in clusters.words(c):
                continue
            if not m_words <= clusters.words(c):
                continue
            c_labels = clusters.values(c, "ner")
            m_labels = clusters.values(m, "ner")
            if m_labels and c_labels and not m_labels & c_labels:
                continue
            if not compatible(clusters, m, c, ("number", "gender", "animacy")):
                continue
            if names_conflict(clusters, m, c):
                continue
            clusters.merge(c, m)
            break


def run_sieves(
    mentions: list[Mention],
    links: Sequence[tuple[Mention, Mention, str]],
    *,
    sieves: Iterable[str] = SIEVES,
    max_sentence_distance: int = 3,
) -> Clusters:
    """Run the selected sieves (always in the canonical order) and return the clusters."""
    selected = set(sieves)
    unknown = selected - set(SIEVES)
    if unknown:
        raise ValueError(f"unknown coreference sieve(s): {', '.join(sorted(unknown))}")
    for i, m in enumerate(mentions):
        m.index = i
    clusters = Clusters(mentions)
    inputs = _SieveInput(
        mentions, clusters, links, group_by_sentence(mentions), max_sentence_distance
    )
    for name in SIEVES:
        if name in selected:
            _RUN_SIEVE[name](inputs)
    return clusters


@dataclass
class _SieveInput:
    """What the sieves of one document work on; each takes the parts it needs."""

    mentions: list[Mention]
    clusters: Clusters
    links: Sequence[tuple[Mention, Mention, str]]
    by_sentence: dict[int, list[Mention]]
    max_sentence_distance: int


_RUN_SIEVE: dict[SieveName, Callable[[_SieveInput], None]] = {
    "speaker": lambda s: speaker_sieve(s.mentions, s.clusters),
    "exact_match": lambda s: exact_match(s.mentions, s.clusters),
    "precise_constructs": lambda s: precise_constructs(s.mentions, s.clusters, s.links),
    "strict_head_match": lambda s: strict_head_match(s.mentions, s.clusters),
    "proper_head_match": lambda s: proper_head_match(s.mentions, s.clusters, s.by_sentence),
    "relaxed_head_match": lambda s: relaxed_head_match(s.mentions, s.clusters, s.by_sentence),
    "pronouns": lambda s: pronoun_sieve(s.mentions, s.clusters, s.max_sentence_distance),
}
