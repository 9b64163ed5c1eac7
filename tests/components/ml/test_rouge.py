"""`rouge_scores` and `RougeMeans`: the means of the `rouge-score` package's own per-pair
scores, on real text (Lee news articles and, when the shared data is there, BBC pairs)."""

from __future__ import annotations

import json

import pytest
from rouge_score import rouge_scorer

from components.ml.rouge import RougeMeans, rouge_scores


def _package_means(predictions, references, types, stemmer):
    scorer = rouge_scorer.RougeScorer(list(types), use_stemmer=stemmer)
    pairs = [scorer.score(r, p) for p, r in zip(predictions, references, strict=True)]
    n = len(pairs)
    return {
        t: {
            "precision": sum(s[t].precision for s in pairs) / n,
            "recall": sum(s[t].recall for s in pairs) / n,
            "f1": sum(s[t].fmeasure for s in pairs) / n,
        }
        for t in types
    }


@pytest.mark.parametrize("stemmer", [True, False])
def test_the_means_are_the_packages_per_pair_scores_averaged(lee_texts, stemmer):
    # the first half of each article against the whole of the next one and of itself
    references = lee_texts[:20]
    predictions = [text[: len(text) // 2] for text in lee_texts[1:21]]
    types = ("rouge1", "rouge2", "rougeL")
    scores = rouge_scores(predictions, references, stemmer=stemmer)
    assert scores["documents"] == 20
    expected = _package_means(predictions, references, types, stemmer)
    for rouge_type in types:
        assert scores[rouge_type] == pytest.approx(expected[rouge_type], abs=1e-12)


def test_precision_is_of_the_prediction_and_recall_of_the_reference(lee_texts):
    # a prediction cut from its reference at a space: every predicted word is in it
    article = lee_texts[0]
    prefix = article[:300].rsplit(" ", 1)[0]
    scores = rouge_scores([prefix], [article], types=("rouge1",), stemmer=False)
    assert scores["rouge1"]["precision"] == pytest.approx(1.0)
    assert 0 < scores["rouge1"]["recall"] < 0.5


def test_the_accumulator_streams_the_same_means(lee_texts):
    predictions, references = lee_texts[10:16], lee_texts[:6]
    means = RougeMeans(types=("rouge2", "rougeLsum"))
    pair = means.add(predictions[0], references[0])
    for p, r in zip(predictions[1:], references[1:], strict=True):
        means.add(p, r)
    direct = rouge_scores(predictions, references, types=("rouge2", "rougeLsum"))
    assert means.result() == direct
    assert set(pair) == {"rouge2", "rougeLsum"} and set(pair["rouge2"]) == {
        "precision",
        "recall",
        "f1",
    }


def test_bbc_reference_summaries_score_against_lead_sentences(shared_data):
    path = shared_data / "summarization" / "bbc_news_summary_first_half.jsonl"
    rows = [json.loads(line) for line in path.open(encoding="utf-8")][:15]
    # the reference summaries are sentences of the articles: an article's body holds them all
    bodies = [row["article"].split("\n", 1)[1] for row in rows]
    summaries = [row["summary"] for row in rows]
    scores = rouge_scores(summaries, bodies, types=("rouge1",), stemmer=False)
    assert scores["rouge1"]["precision"] > 0.99
    assert scores == {
        "rouge1": _package_means(summaries, bodies, ("rouge1",), False)["rouge1"],
        "documents": 15,
    }


def test_bad_input_is_refused_with_what_to_do():
    with pytest.raises(ValueError, match="2 predictions for 1 references"):
        rouge_scores(["a b", "c d"], ["a b"])
    with pytest.raises(ValueError, match="unknown ROUGE type.*'rougeX'"):
        rouge_scores(["a b"], ["a b"], types=("rouge1", "rougeX"))
    assert rouge_scores([], [])["documents"] == 0
