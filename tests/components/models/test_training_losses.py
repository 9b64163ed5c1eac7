"""The training core's losses equal their formulas; class weights match scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from components.models.training import (
    LOSSES,
    TrainingError,
    balanced_class_weights,
    l1_penalty,
    make_loss,
)
from tests.components.models.training_fixtures import one_torch_thread  # noqa: F401

LOGITS = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [-1.0, 3.0, 0.0], [0.0, 0.0, 4.0]])
TARGET = torch.tensor([0, 2, 1, 0])


def _log_p():
    return LOGITS.log_softmax(dim=1)


def test_cross_entropy_with_class_weights_is_the_weighted_mean_of_minus_log_p():
    w = torch.tensor([1.0, 2.0, 0.5])
    loss = make_loss("cross_entropy", num_classes=3, class_weight=w.tolist())(LOGITS, TARGET)
    nll = -_log_p()[range(4), TARGET]
    assert loss.item() == pytest.approx(float((w[TARGET] * nll).sum() / w[TARGET].sum()), rel=1e-6)


def test_label_smoothing_mixes_in_the_uniform_distribution():
    eps = 0.2
    loss = make_loss("cross_entropy", label_smoothing=eps)(LOGITS, TARGET)
    q = F.one_hot(TARGET, 3).float() * (1 - eps) + eps / 3
    assert loss.item() == pytest.approx(float(-(q * _log_p()).sum(1).mean()), rel=1e-6)


def test_focal_loss_formula_and_cross_entropy_at_gamma_zero():
    w = [1.0, 2.0, 0.5]
    focal0 = make_loss("focal", num_classes=3, class_weight=w, gamma=0.0)(LOGITS, TARGET)
    ce = make_loss("cross_entropy", num_classes=3, class_weight=w)(LOGITS, TARGET)
    assert focal0.item() == pytest.approx(ce.item(), rel=1e-6)
    log_p = _log_p()[range(4), TARGET]
    expected = (-((1 - log_p.exp()) ** 2) * log_p).mean()
    assert make_loss("focal", gamma=2.0)(LOGITS, TARGET).item() == pytest.approx(expected.item())
    assert make_loss("focal", gamma=2.0)(LOGITS, TARGET) < make_loss("focal", gamma=0.0)(
        LOGITS, TARGET
    )


def test_bce_uses_one_logit_per_class_against_the_one_hot_target():
    loss = make_loss("bce")(LOGITS, TARGET)
    expected = F.binary_cross_entropy_with_logits(LOGITS, F.one_hot(TARGET, 3).float())
    assert loss.item() == pytest.approx(expected.item())


@pytest.mark.parametrize(
    ("name", "reference"),
    [("mse", F.mse_loss), ("mae", F.l1_loss), ("huber", F.huber_loss)],
)
def test_regression_losses_compare_probabilities_with_one_hot_or_values(name, reference):
    probs = LOGITS.softmax(1)
    loss = make_loss(name)(LOGITS, TARGET)
    assert loss.item() == pytest.approx(reference(probs, F.one_hot(TARGET, 3).float()).item())
    values = torch.tensor([[0.5], [1.5], [-2.0], [3.0]])
    guess = torch.tensor([[0.0], [2.0], [-2.5], [0.0]])
    assert make_loss(name)(guess, values.flatten()).item() == pytest.approx(
        reference(guess, values).item()
    )


def test_hinge_is_the_multiclass_margin_formula():
    loss = make_loss("hinge")(LOGITS, TARGET)
    rows = []
    for x, y in zip(LOGITS, TARGET, strict=True):
        rows.append(sum(max(0.0, 1 - x[y] + x[j]) for j in range(3) if j != y) / 3)
    assert loss.item() == pytest.approx(float(np.mean(rows)), rel=1e-6)


def test_balanced_class_weights_match_scikit_learn():
    from sklearn.utils.class_weight import compute_class_weight

    y = np.array([0, 0, 0, 0, 1, 2, 2, 0, 1, 0])
    ours = balanced_class_weights(y, 3)
    theirs = compute_class_weight("balanced", classes=np.arange(3), y=y)
    assert np.allclose(ours, theirs)
    loss = make_loss("cross_entropy", num_classes=3, class_weight="balanced", targets=y)
    assert np.allclose(loss.weight.numpy(), theirs)


def test_l1_penalty_sums_absolute_weights():
    layer = torch.nn.Linear(3, 2)
    expected = layer.weight.abs().sum() + layer.bias.abs().sum()
    assert l1_penalty(layer).item() == pytest.approx(expected.item())


def test_loss_errors_name_the_valid_choices():
    with pytest.raises(TrainingError, match="choose one of " + ", ".join(LOSSES)):
        make_loss("nll")
    with pytest.raises(TrainingError, match="2 weights for 3 classes"):
        make_loss("cross_entropy", num_classes=3, class_weight=[1.0, 2.0])
    with pytest.raises(TrainingError, match="needs the training targets"):
        make_loss("cross_entropy", num_classes=3, class_weight="balanced")
