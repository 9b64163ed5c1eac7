"""The pronoun sieves: first/second-person chains and third-person pronoun resolution.

Third-person pronouns are resolved to the most salient agreeing entity, scored in the
manner of Lappin & Leass (1994): each earlier mention adds recency plus a weight for its
grammatical role, halved (here: multiplied by `decay`) per sentence back; syntactic
parallelism, a subject or possessor that dominates the pronoun in its sentence, entity
labels and dependency-tree distance adjust the choice. Candidates must agree in number,
gender, animacy and person, and respect binding (a non-reflexive pronoun is not a
co-argument of its antecedent) and i-within-i.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from .clusters import Clusters, nested
from .lexicon import LOCATION_LABELS
from .mentions import Mention

__all__ = ["WEIGHTS", "pronoun_sieve", "speaker_sieve"]

# Salience weights after Lappin & Leass (1994) (recency 100, subject 80, object 50,
# oblique 40, head noun 80, non-adverbial 50, parallelism 35, cataphora -175, halved
# per sentence), with the extra terms adjusted on GAP development (see README).
WEIGHTS: dict[str, float] = {
    "recency": 100.0,
    "subj": 200.0,
    "obj": 80.0,
    "attr": 100.0,
    "pobj": 0.0,
    "poss": 100.0,
    "root": 50.0,
    "head_noun": 0.0,
    "non_adverbial": 50.0,
    "parallelism": 35.0,
    "cataphora": -175.0,
    "decay": 0.3,
    "person_label": 30.0,
    "other_label": 0.0,
    "place_label": -30.0,
    "tree_distance": 5.0,
    "nominal": -60.0,
    "dominates": 700.0,
    "horizon": 8,
    "dangling_distance": 0,
}
ROLE_KEYS = ("subj", "obj", "attr", "pobj", "poss", "root")


def _base_salience(m: Mention) -> float:
    w = WEIGHTS
    score = w["recency"] + (w[m.role] if m.role in ROLE_KEYS else 0.0)
    if m.role != "poss" and not m.coordinated:
        score += w["head_noun"]
    if m.role != "pobj":
        score += w["non_adverbial"]
    return score


def _tree_distance(a: Mention, b: Mention) -> int:
    """Edges between the heads of two mentions of one sentence in the dependency tree."""
    on_a = {t: i for i, t in enumerate(a.path)}
    for j, t in enumerate(b.path):
        if t in on_a:
            return on_a[t] + j
    return len(a.path) + len(b.path)


def _agrees(clusters: Clusters, pronoun: Mention, candidate: Mention) -> bool:
    for attribute in ("number", "gender", "animacy"):
        mine = getattr(pronoun, attribute)
        if mine == "?":
            continue
        theirs = clusters.values(candidate, attribute)
        if theirs and mine not in theirs:
            return False
    members = clusters.members(candidate)
    if pronoun.person == 3:
        if all(m.kind == "pronoun" and m.person != 3 for m in members):
            return False
    elif candidate.kind != "pronoun" or candidate.person != pronoun.person:
        return False
    return True


def _bound(pronoun: Mention, candidate: Mention) -> bool:
    """Binding: a non-reflexive pronoun cannot corefer with a co-argument of its verb."""
    if pronoun.sent != candidate.sent or pronoun.role in ("poss", "pobj"):
        return False
    if pronoun.pronoun and pronoun.pronoun.endswith(("self", "selves")):
        return False
    return candidate.governor == pronoun.governor and candidate.role in ("subj", "obj")


def _label_score(clusters: Clusters, pronoun: Mention, candidate: Mention) -> float:
    """Entity labels as soft evidence: he/she prefer PERSON entities, "it" avoids them."""
    labels = clusters.values(candidate, "ner")
    if not labels:
        return 0.0
    person = "PERSON" in labels
    if pronoun.gender in ("m", "f"):
        if person:
            return WEIGHTS["person_label"]
        if labels <= LOCATION_LABELS:
            return WEIGHTS["place_label"]
        return WEIGHTS["other_label"]
    if pronoun.gender == "n" and person:
        return WEIGHTS["other_label"]
    return 0.0


def _resolve_pronoun(
    p: Mention,
    clusters: Clusters,
    by_position: dict[int, list[Mention]],
    max_sentence_distance: int,
) -> Mention | None:
    w = WEIGHTS
    salience: dict[int, float] = defaultdict(float)
    nearest: dict[int, Mention] = {}
    for sent in range(max(0, p.sent - int(w["horizon"])), p.sent + 1):
        weight = w["decay"] ** (p.sent - sent)
        in_window = p.sent - sent <= max_sentence_distance
        for c in by_position.get(sent, ()):
            if c is p:
                continue
            root = clusters.find(c)
            before = c.index < p.index
            if before:
                salience[root] += weight * _base_salience(c)
            elif sent != p.sent or c.role != "subj" or p.role == "subj":
                continue
            if not in_window or nested(c, p):
                continue
            previous = nearest.get(root)
            if previous is None or (
                before and (previous.index > p.index or c.index > previous.index)
            ):
                nearest[root] = c
    best, best_score = None, -math.inf
    for root, c in nearest.items():
        if root == clusters.find(p) or not _agrees(clusters, p, c):
            continue
        members = clusters.members(c)
        if any(_bound(p, x) for x in members if x.sent == p.sent):
            continue
        score = salience[root] + _label_score(clusters, p, c)
        if c.role == p.role or (p.role == "poss" and c.role == "subj"):
            score += w["parallelism"]
        if c.index > p.index:
            score += w["cataphora"]
        if c.sent == p.sent:
            score -= w["tree_distance"] * _tree_distance(c, p)
            if c.governor in p.path and c.role in ("subj", "poss"):
                # A subject or possessor of a clause or phrase that contains the pronoun.
                score += w["dominates"]
        if p.gender in ("m", "f") and not any(x.kind == "proper" for x in members):
            if any(x.kind == "nominal" for x in members):
                score += w["nominal"]
        if score > best_score:
            best, best_score = c, score
    return best


def pronoun_sieve(
    mentions: Sequence[Mention],
    clusters: Clusters,
    max_sentence_distance: int,
) -> None:
    """Resolve third-person pronouns to the most salient agreeing entity in the window.

    A he/she chain that finds no antecedent (a passage that opens with "He ...") is
    "dangling": the next proper-noun subject that agrees and starts a new entity
    within `dangling_distance` sentences names it (cataphora across sentences).
    """
    by_position: dict[int, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_position[m.sent].append(m)
    dangling: list[Mention] = []
    for m in mentions:
        if m.kind == "pronoun":
            if m.person != 3:
                continue
            antecedent = _resolve_pronoun(m, clusters, by_position, max_sentence_distance)
            if antecedent is not None:
                clusters.merge(antecedent, m)
            elif m.gender in ("m", "f") and clusters.is_first(m):
                dangling.append(m)
            continue
        if not dangling or m.kind != "proper" or m.role != "subj" or not clusters.is_first(m):
            continue
        for chain in reversed(dangling):
            members = clusters.members(chain)
            if m.sent - members[-1].sent > WEIGHTS["dangling_distance"]:
                continue
            if not all(x.kind == "pronoun" and x.index < m.index for x in members):
                continue
            if _label_score(clusters, chain, m) < 0 or not _agrees(clusters, chain, m):
                continue
            clusters.merge(chain, m)
            dangling.remove(chain)
            break


def speaker_sieve(mentions: Sequence[Mention], clusters: Clusters) -> None:
    """First- and second-person pronouns: "I" outside quotes is the narrator; within one
    quotation, "I"/"we"/"you" forms of the same person and number corefer."""
    last: dict[tuple[int, int, str], Mention] = {}
    for m in mentions:
        if m.kind != "pronoun" or m.person == 3:
            continue
        key = (m.quote, m.person, m.number)
        previous = last.get(key)
        if previous is not None and m.person == 1:
            clusters.merge(previous, m)
        last[key] = m
