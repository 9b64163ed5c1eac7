"""The CoNLL reader and the evaluator on LitBank gold documents."""

from __future__ import annotations

import pytest

from components.text.coref.conll import read_conll
from components.text.coref.evaluate import CorefEvaluator

SAMPLE = """#begin document (sample); part 0
sample\t0\t0\tAnne\t(0
sample\t0\t1\tElliot\t0)
sample\t0\t2\tloved\t_
sample\t0\t3\ther\t(0)|(1
sample\t0\t4\tfather\t1)
sample\t0\t5\t.\t_

sample\t0\t0\tShe\t(0)
sample\t0\t1\twrote\t_
sample\t0\t2\tto\t_
sample\t0\t3\thim\t(1)
sample\t0\t4\t.\t_
#end document
"""


def test_reads_tokens_sentences_and_nested_mentions(tmp_path):
    path = tmp_path / "sample.conll"
    path.write_text(SAMPLE, encoding="utf-8")
    (doc,) = read_conll(path)
    assert doc.name == "sample"
    assert doc.sentence_starts == [0, 6]
    assert doc.clusters == [[(0, 2), (3, 4), (6, 7)], [(3, 5), (9, 10)]]
    text, starts, ends = doc.text()
    assert text == "Anne Elliot loved her father .\nShe wrote to him ."
    assert [text[s:e] for s, e in zip(starts, ends, strict=True)] == doc.tokens


def test_unbalanced_brackets_name_the_line(tmp_path):
    path = tmp_path / "bad.conll"
    path.write_text("doc\t0\t0\tword\t3)\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.conll:1"):
        list(read_conll(path))


def test_litbank_scores(shared_data):
    folder = shared_data / "coref" / "litbank"
    if not folder.is_dir():
        pytest.skip(f"LitBank CoNLL files not found at {folder}")
    metrics = CorefEvaluator(gold=str(folder), limit=2).evaluate()
    assert metrics["documents"] == 2
    assert metrics["mentions"]["matched"] > 0.5 * metrics["mentions"]["gold"]
    # Measured CoNLL F1 0.42 on all five documents; a loose floor for two of them.
    assert metrics["conll_f1"] > 0.3
    assert metrics["muc"]["f1"] > metrics["ceaf_e"]["f1"]


def test_missing_gold_path_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="gold coreference data not found"):
        CorefEvaluator(gold=str(tmp_path / "nope.tsv")).evaluate()
