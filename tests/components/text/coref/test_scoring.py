"""MUC, B-cubed and CEAF-e on the worked examples of the coreference-metric literature."""

from __future__ import annotations

import pytest

from components.text.coref.scoring import b_cubed, ceaf_e, conll_scores, muc

# Pradhan et al. (2014), "Scoring Coreference Partitions of Predicted Mentions", figure 1:
# key {a b c} {d e f g}; response {a b} {c d} {f g h i} (h and i are spurious mentions).
KEY = [["a", "b", "c"], ["d", "e", "f", "g"]]
RESPONSE = [["a", "b"], ["c", "d"], ["f", "g", "h", "i"]]

# Luo (2005), "On Coreference Resolution Performance Metrics", figure 1: the truth and
# response (a), which merges the second and third entities.
LUO_KEY = [list("12345"), list("67"), list("89ABC")]
LUO_MERGED = [list("12345"), list("6789ABC")]
LUO_SINGLETONS = [[m] for m in "123456789ABC"]


def test_pradhan_example_matches_the_paper():
    scores = conll_scores(KEY, RESPONSE)
    assert scores["muc"]["recall"] == pytest.approx(2 / 5)  # (1 + 1) / (2 + 3)
    assert scores["muc"]["precision"] == pytest.approx(2 / 5)  # (1 + 0 + 1) / (1 + 1 + 3)
    assert scores["b_cubed"]["recall"] == pytest.approx((5 / 3 + 5 / 4) / 7)  # 0.4167
    assert scores["b_cubed"]["precision"] == pytest.approx(4 / 8)
    assert scores["b_cubed"]["f1"] == pytest.approx(0.4545, abs=1e-4)
    # Best alignment {a b c}-{a b} (phi4 = 0.8) and {d e f g}-{f g h i} (0.5): 1.3.
    assert scores["ceaf_e"]["recall"] == pytest.approx(1.3 / 2)
    assert scores["ceaf_e"]["precision"] == pytest.approx(1.3 / 3)
    assert scores["ceaf_e"]["f1"] == pytest.approx(0.52)
    assert scores["conll_f1"] == pytest.approx((0.4 + 0.4545 + 0.52) / 3, abs=1e-4)


def test_luo_example_merged_entities():
    # Luo (2005), table 1, response (a): MUC F 0.947, B-cubed F 0.865, CEAF-e F 0.733.
    assert muc(LUO_KEY, LUO_MERGED)["recall"] == 1.0
    assert muc(LUO_KEY, LUO_MERGED)["precision"] == pytest.approx(0.9)
    assert muc(LUO_KEY, LUO_MERGED).f1 == pytest.approx(0.947, abs=1e-3)
    assert b_cubed(LUO_KEY, LUO_MERGED).f1 == pytest.approx(0.865, abs=1e-3)
    assert ceaf_e(LUO_KEY, LUO_MERGED).f1 == pytest.approx(0.733, abs=1e-3)


def test_luo_example_all_singletons():
    # Every mention alone: no links (MUC 0), B-cubed recall 3/12, CEAF-e (4/3) / 3, / 12.
    assert muc(LUO_KEY, LUO_SINGLETONS).f1 == 0.0
    assert b_cubed(LUO_KEY, LUO_SINGLETONS)["recall"] == pytest.approx(0.25)
    assert b_cubed(LUO_KEY, LUO_SINGLETONS).f1 == pytest.approx(0.4)
    assert ceaf_e(LUO_KEY, LUO_SINGLETONS)["recall"] == pytest.approx(4 / 9)
    assert ceaf_e(LUO_KEY, LUO_SINGLETONS)["precision"] == pytest.approx(1 / 9)


def test_vilain_muc_example():
    # Vilain et al. (1995): key {A B C D}, response {A B} {C D}: recall 2/3, precision 1.
    score = muc([list("ABCD")], [list("AB"), list("CD")])
    assert score["recall"] == pytest.approx(2 / 3)
    assert score["precision"] == 1.0


def test_identical_partitions_score_one_and_empty_response_zero():
    for metric in (muc, b_cubed, ceaf_e):
        assert metric(KEY, KEY).f1 == pytest.approx(1.0)
        assert metric(KEY, []).f1 == 0.0
    assert conll_scores([], [])["conll_f1"] == 0.0
