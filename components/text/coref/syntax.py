"""Syntactic tests on the spaCy dependency parse that mention detection relies on.

Grammatical role, governing verb and path to the root of a mention's head; noun-phrase
extents; pleonastic "it"; quotations; appositives that rename rather than list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "ALIAS_VERBS",
    "BE_FORMS",
    "NOUN_TAGS",
    "PLURAL_TAGS",
    "PROPER_TAGS",
    "clause",
    "governor",
    "is_pleonastic",
    "np_left",
    "np_right",
    "path",
    "quote_ids",
    "role",
    "true_appositive",
]

NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})
PROPER_TAGS = frozenset({"NNP", "NNPS"})
PLURAL_TAGS = frozenset({"NNS", "NNPS"})
SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass", "csubj", "csubjpass", "expl"})
OBJECT_DEPS = frozenset({"dobj", "obj", "iobj", "dative"})
BE_FORMS = frozenset({"be", "is", "was", "are", "were", "been", "being", "am", "'s", "'re", "'m"})
# Verbs (all inflections: the lemmatizer may be off) that take a pleonastic "it" subject.
PLEONASTIC_VERBS = frozenset(
    """
    be is was are were been being 's seem seems seemed appear appears appeared happen
    happens happened become becomes became remain remains remained matter matters
    mattered turn turns turned occur occurs occurred take takes took make makes made
    """.split()
)
WEATHER_VERBS = frozenset(
    "rain rains rained raining snow snows snowed snowing hail hailed drizzle drizzling".split()
)
# "Shaira Roberto, known as Sanya Lopez"; "Bonnie Tyler (born Gaynor Hopkins)".
ALIAS_VERBS = frozenset(
    "known called named nicknamed dubbed styled credited billed renamed born nee née".split()
)
OPEN_QUOTES = frozenset({"\u201c", "``", "\u00ab"})
CLOSE_QUOTES = frozenset({"\u201d", "''", "\u00bb"})
NP_LEFT_DEPS = frozenset(
    {"det", "amod", "compound", "poss", "nummod", "nmod", "predet", "quantmod"}
)


def is_pleonastic(token: Any) -> bool:
    """Pleonastic "it": "it is clear that", "it seems to", "it is said that", "it rains"."""
    if token.dep_ == "expl":
        return True
    if token.dep_ not in ("nsubj", "nsubjpass"):
        return False
    verb = token.head
    form = verb.text.lower()
    nearby = [verb, *verb.children]
    if verb.dep_ in ("aux", "auxpass"):  # "It/nsubj was/aux raining": the parser's quirk
        nearby.append(verb.head)
    if any(t.text.lower() in WEATHER_VERBS for t in nearby):
        return True
    if token.dep_ == "nsubj" and form not in PLEONASTIC_VERBS:
        if not any(c.dep_ == "acomp" for c in verb.children):
            return False
    for child in verb.children:
        if child.i < token.i:
            continue
        targets = [child]
        if child.dep_ == "acomp":
            targets.extend(child.children)
        for target in targets:
            if target.dep_ not in ("ccomp", "xcomp", "csubj", "advcl"):
                continue
            for grand in target.children:
                if grand.dep_ in ("mark", "aux") and grand.text.lower() in (
                    "that",
                    "to",
                    "whether",
                    "if",
                ):
                    return True
    return False


def quote_ids(sdoc: Any, char_starts: Sequence[int]) -> list[int]:
    """For each token, the character offset of the quotation mark opening the quote it
    lies in ("..." or curly quotes), or -1 outside quotes."""
    current = -1
    ids = []
    for token in sdoc:
        text = token.text
        if text in OPEN_QUOTES or (text == '"' and current < 0):
            current = char_starts[token.i]
            ids.append(-1)
        elif text in CLOSE_QUOTES or text == '"':
            current = -1
            ids.append(-1)
        else:
            ids.append(current)
    return ids


def role(token: Any) -> str:
    while token.dep_ == "conj" and token.head.i != token.i:
        token = token.head
    dep = token.dep_
    if dep in SUBJECT_DEPS:
        return "subj"
    if dep in OBJECT_DEPS:
        return "obj"
    if dep in ("pobj", "poss", "attr", "appos"):
        return dep
    if dep == "ROOT":
        return "root"
    return "other"


def governor(token: Any) -> int:
    while token.dep_ in ("conj", "appos") and token.head.i != token.i:
        token = token.head
    head = token.head
    if token.dep_ == "pobj" and head.head.i != head.i:
        return head.head.i
    return head.i


def clause(token: Any) -> int:
    """The nearest verbal ancestor (the clause the token belongs to)."""
    node = token.head
    for _ in range(64):
        if node.pos_ in ("VERB", "AUX") or node.head.i == node.i:
            return node.i
        node = node.head
    return node.i


def path(token: Any) -> tuple[int, ...]:
    """Token indices from `token` up to its sentence root."""
    path = [token.i]
    while token.head.i != token.i and len(path) < 64:
        token = token.head
        path.append(token.i)
    return tuple(path)


def np_left(token: Any) -> int:
    """Leftmost token of the noun phrase headed by `token` (its NP-internal left dependents)."""
    left = token.i
    for child in token.lefts:
        if child.dep_ in NP_LEFT_DEPS:
            left = min(left, child.left_edge.i)
    return left


def np_right(token: Any, *, with_of: bool = True) -> int:
    """One past the last token of the noun phrase: the head, its right compounds and,
    `with_of`, an attached "of" phrase ("the president of France")."""
    right = token.i + 1
    for child in token.rights:
        if child.dep_ in ("compound", "nummod", "amod", "flat", "nmod") and child.i == right:
            right = child.right_edge.i + 1
        elif with_of and child.dep_ == "prep" and child.i == right and child.text.lower() == "of":
            right = child.right_edge.i + 1
        else:
            break
    return right


def true_appositive(token: Any, sdoc: Any) -> bool:
    """An appositive that renames its head ("Merkel, the chancellor,"), not an item of a
    list ("Elizabeth, Anne, and Mary"): neither side is coordinated, and two proper
    names must be set off by a parenthesis ("Bonnie Tyler (Gaynor Hopkins)")."""
    head = token.head
    for side in (token, head):
        if any(c.dep_ in ("conj", "cc") for c in side.children):
            return False
    if head.dep_ == "conj" or any(c.dep_ == "appos" and c.i != token.i for c in head.children):
        return False
    if token.tag_ in PROPER_TAGS and head.tag_ in PROPER_TAGS:
        low, high = sorted((token.i, head.i))
        return any(sdoc[i].text == "(" for i in range(low, high))
    return True
