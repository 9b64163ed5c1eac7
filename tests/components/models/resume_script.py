"""Trains a small LSTM on Lee news sentences (labelled by their article's half of the corpus)
into WORKDIR; with KILL_AFTER set, kills itself with SIGKILL once that epoch's checkpoint is
written. Run by test_training_trainer.py in a subprocess; prints nothing on success."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path

import torch

from components.models.estimator import FitContext
from components.models.neural import LSTMClassifier
from tests.components.models.training_fixtures import words


def main(workdir: str, out: str, kill_after: int) -> None:
    from gensim.test.utils import datapath

    torch.set_num_threads(1)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    with open(datapath("lee_background.cor"), encoding="utf-8") as fh:
        texts = [words(line) for line in fh if line.strip()][:240]
    labels = ["first" if i < 120 else "second" for i in range(len(texts))]

    def kill(row: dict) -> None:
        if kill_after and row["epoch"] == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    est = LSTMClassifier(
        epochs=5, embed_dim=16, hidden=16, batch_size=16, max_length=60, patience=0, seed=3
    )
    est.fit(
        texts[::2] + texts[1::4],
        labels[::2] + labels[1::4],
        validation=(texts[3::4], labels[3::4]),
        context=FitContext(workdir=Path(workdir), key="resume-test", log=kill),
    )
    est.save(Path(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
