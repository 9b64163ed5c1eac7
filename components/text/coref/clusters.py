"""Clusters of mentions and the agreement checks the sieves share.

`Clusters` is a union-find over the mentions of one document that pools agreement
attributes (number, gender, animacy, entity label) and words per cluster, so that a
sieve compares whole entities, not single mentions (Lee et al., 2013).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from .lexicon import HONORIFICS
from .mentions import Mention

__all__ = [
    "STOP_WORDS",
    "Clusters",
    "group_by_sentence",
    "candidates",
    "compatible",
    "given_names",
    "name_words",
    "names_conflict",
    "nested",
]

STOP_WORDS = frozenset(
    "the a an this that these those his her its their our my your some any of and or "
    "'s ' mr. mrs. ms. mr mrs ms dr. dr".split()
)


class Clusters:
    """Union-find over mentions that pools agreement attributes per cluster."""

    def __init__(self, mentions: Sequence[Mention]):
        self.mentions = list(mentions)
        self._parent = list(range(len(self.mentions)))
        self._members: dict[int, list[Mention]] = {i: [m] for i, m in enumerate(self.mentions)}

    def find(self, mention: Mention) -> int:
        """The id of the cluster `mention` belongs to."""
        i = mention.index
        parent = self._parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def members(self, mention: Mention) -> list[Mention]:
        """Mentions of `mention`'s cluster, in textual order."""
        return self._members[self.find(mention)]

    def members_of(self, root: int) -> list[Mention]:
        """Mentions of the cluster with id `root` (see `find`)."""
        return self._members[root]

    def same(self, a: Mention, b: Mention) -> bool:
        return self.find(a) == self.find(b)

    def merge(self, a: Mention, b: Mention) -> None:
        """Put `a` and `b` (and their clusters) into one cluster."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if ra > rb:
            ra, rb = rb, ra
        self._parent[rb] = ra
        merged = self._members[ra] + self._members.pop(rb)
        merged.sort(key=lambda m: m.index)
        self._members[ra] = merged

    def is_first(self, mention: Mention) -> bool:
        """Whether `mention` is the earliest mention of its cluster."""
        return self.members(mention)[0] is mention

    def values(self, mention: Mention, attribute: str) -> set[str]:
        """Known values of an agreement attribute over `mention`'s cluster."""
        out = set()
        for m in self.members(mention):
            value = getattr(m, attribute)
            if value is not None and value != "?":
                out.add(value)
        return out

    def words(self, mention: Mention, content_only: bool = True) -> set[str]:
        out: set[str] = set()
        for m in self.members(mention):
            if m.kind != "pronoun" and not m.coordinated:
                out.update(w for w in m.words if not content_only or w not in STOP_WORDS)
        return out

    def clusters(self) -> list[list[Mention]]:
        """All clusters with at least two mentions, ordered by their first mention."""
        groups = [ms for ms in self._members.values() if len(ms) > 1]
        groups.sort(key=lambda ms: ms[0].index)
        return groups


def compatible(clusters: Clusters, a: Mention, b: Mention, attributes: Iterable[str]) -> bool:
    for attribute in attributes:
        va = clusters.values(a, attribute)
        vb = clusters.values(b, attribute)
        if va and vb and not va & vb:
            return False
    return True


def nested(a: Mention, b: Mention) -> bool:
    """i-within-i: one mention's span contains the other's."""
    return (a.start <= b.start and b.end <= a.end) or (b.start <= a.start and a.end <= b.end)


def candidates(mention: Mention, by_sentence: dict[int, list[Mention]]) -> Iterator[Mention]:
    """Earlier mentions in Lee et al.'s order: this sentence left to right by depth
    (breadth first, favouring subjects), then earlier sentences, nearest first."""
    for sent in range(mention.sent, -1, -1):
        for candidate in by_sentence.get(sent, ()):
            if candidate.index < mention.index and not nested(candidate, mention):
                yield candidate


def group_by_sentence(mentions: Sequence[Mention]) -> dict[int, list[Mention]]:
    groups: dict[int, list[Mention]] = defaultdict(list)
    for m in mentions:
        groups[m.sent].append(m)
    for group in groups.values():
        group.sort(key=lambda m: (m.depth, m.start))
    return groups


def name_words(m: Mention) -> frozenset[str]:
    return frozenset(w.lower() for w in m.proper_words if w.lower().rstrip(".") not in HONORIFICS)


def given_names(m: Mention) -> frozenset[str]:
    """Name words before the head ("barack" in "Barack Obama")."""
    if m.kind != "proper" or m.ner not in (None, "PERSON") or len(m.proper_words) < 2:
        return frozenset()
    return name_words(m) - {m.head_word}


def names_conflict(clusters: Clusters, a: Mention, b: Mention) -> bool:
    """Two clusters hold full names that differ before a shared surname ("Barack Obama" /
    "Michelle Obama"): different people."""
    given_a = [g for g in map(given_names, clusters.members(a)) if g]
    if not given_a:
        return False
    for other in map(given_names, clusters.members(b)):
        if other and any(not (g & other) for g in given_a):
            return True
    return False
