"""Coreference resolution: the `coref` stage, its gold-data readers, metrics and evaluator.

- `Coref` (stage "coref"): deterministic multi-sieve resolver (Lee et al., 2013 style)
  on the spaCy parse; sets `doc.coref`.
- `CorefEvaluator` (evaluator "coref"): GAP or CoNLL gold data -> metrics.
- `muc`, `b_cubed`, `ceaf_e`, `conll_scores`: the standard coreference metrics;
  `gap_scores`: the GAP pronoun-name F1 by gender.
"""

from .conll import ConllDocument, read_conll
from .evaluate import CorefEvaluator
from .gap import GapExample, gap_decisions, gap_scores, read_gap
from .resolver import Coref
from .scoring import b_cubed, ceaf_e, conll_scores, muc

__all__ = [
    "ConllDocument",
    "Coref",
    "CorefEvaluator",
    "GapExample",
    "b_cubed",
    "ceaf_e",
    "conll_scores",
    "gap_decisions",
    "gap_scores",
    "muc",
    "read_conll",
    "read_gap",
]
