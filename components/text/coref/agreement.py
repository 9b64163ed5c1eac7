"""Agreement features of a mention (number, gender, animacy), from spaCy tokens and the lexicon.

The pronoun sieve only links mentions whose features agree (Lee et al., 2013); `?` means
unknown and agrees with anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .lexicon import (
    HONORIFICS,
    PRONOUNS,
    SURNAME_LIKE_NAMES,
    name_gender,
    noun_animacy,
    noun_gender,
)
from .syntax import PLURAL_TAGS, PROPER_TAGS

__all__ = ["gender_and_animacy", "mention_number"]


def gender_and_animacy(
    span_tokens: Sequence[Any], head: Any, kind: str, ner: str | None
) -> tuple[str, str]:
    """`(gender, animacy)` of a mention: `m`/`f`/`n`/`?` and `anim`/`inan`/`?`, from the pronoun
    table, honorifics and role nouns before the head, given names (proper mentions), or the
    head noun's lexicon entries."""
    lowered = [t.text.lower() for t in span_tokens]
    if kind == "pronoun":
        info = PRONOUNS[lowered[0]]
        return info.gender, info.animacy
    head_i = head.i - span_tokens[0].i
    # Honorifics and role nouns before the head: "Mr. Obama", "actress Rebecca Romijn".
    for word in lowered[:head_i]:
        gender = HONORIFICS.get(word) or HONORIFICS.get(word.rstrip("."))
        if gender is None:
            gender = noun_gender(word) if noun_gender(word) != "?" else None
        if gender is not None:
            return gender, "anim"
    if kind == "proper":
        # Entity labels are not trusted for agreement (spaCy often labels a foreign
        # person name ORG or GPE): they only weigh in the pronoun ranking.
        # A given name alone decides the gender unless it is also a common surname
        # ("Gordon", "Allen"): then only before another name ("Nina Gordon").
        names = [t for t in span_tokens[: head_i + 1] if t.tag_ in PROPER_TAGS]
        single = len(names) == 1 and ner == "PERSON"
        if names and (len(names) >= 2 or single):
            if len(names) >= 2 or names[0].text.lower() not in SURNAME_LIKE_NAMES:
                gender = name_gender(names[0].text)
                if gender != "?":
                    return gender, "anim"
        return "?", "?"
    gender = noun_gender(lowered[head_i])
    if gender != "?":
        return gender, "anim"
    if ner is not None:
        return "?", "?"
    animacy = noun_animacy(lowered[head_i])
    if animacy == "anim":
        return "?", "anim"
    return "n", "inan"


def mention_number(head: Any, kind: str, ner: str | None, coordinated: bool) -> str:
    """`sg`, `pl` or `?` for a mention: the pronoun table, coordination, the head's tag,
    organisations and nationalities left open."""
    if kind == "pronoun":
        return PRONOUNS[head.text.lower()].number
    if coordinated:
        return "pl"
    if head.tag_ in PLURAL_TAGS:
        return "pl"
    if ner in ("ORG", "NORP"):
        return "?"
    if head.tag_:
        return "sg"
    return "pl" if head.text.lower().endswith("s") else "sg"
