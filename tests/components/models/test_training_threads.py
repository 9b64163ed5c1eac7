"""`threads`: a model trains and predicts on the CPU threads it asks for, and gives them back."""

from __future__ import annotations

import torch

from components.models.estimator import FitContext
from components.models.neural import NEURAL


def test_training_uses_the_models_thread_count_and_restores_the_callers(tmp_path, lee_texts):
    texts = [text.lower().split()[:60] for text in lee_texts[:40]]
    labels = ["australia" if "australia" in t else "other" for t in texts]
    seen: list[int] = []
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        model = NEURAL["textcnn"](epochs=2, threads=1, embed_dim=16, num_filters=8, seed=1)
        context = FitContext(
            workdir=tmp_path, seed=1, log=lambda row: seen.append(torch.get_num_threads())
        )
        model.fit(texts, labels, context=context)
        assert seen == [1, 1]  # every epoch ran on one thread
        assert torch.get_num_threads() == 2  # the caller's setting is back
        model.predict_proba(texts[:5])
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
