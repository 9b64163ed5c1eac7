"""A transformer over pretrained vectors whose width does not split between its heads."""

from __future__ import annotations

import numpy as np

from components.models.estimator import FitContext
from components.models.neural import NEURAL


def test_glove_50d_under_four_heads_is_projected_and_trains(tmp_path, lee_texts):
    texts = [text.lower().split()[:80] for text in lee_texts[:60]]
    labels = ["australia" if "australia" in t else "other" for t in texts]
    model = NEURAL["transformer"](embeddings="glove-6b-50d", heads=4, epochs=2, seed=1)
    model.fit(texts[:48], labels[:48], context=FitContext(workdir=tmp_path, seed=1))
    proba = model.predict_proba(texts[48:])
    assert proba.shape == (12, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert model.model_.project.in_features == 50 and model.model_.project.out_features == 52
    model.save(tmp_path / "saved")
    again = type(model).load(tmp_path / "saved").predict_proba(texts[48:])
    assert np.array_equal(again, proba)
