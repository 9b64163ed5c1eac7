"""Optimizers and learning-rate schedules of the training core follow their formulas."""

from __future__ import annotations

import math

import pytest
import torch

from components.models.training import (
    OPTIMIZERS,
    EpochSchedule,
    TrainingError,
    make_optimizer,
)
from tests.components.models.training_fixtures import one_torch_thread  # noqa: F401


def _param(values=(1.0, -2.0, 3.0)):
    return torch.nn.Parameter(torch.tensor(values))


def _step(opt, p, grad):
    opt.zero_grad()
    p.grad = torch.tensor(grad)
    opt.step()


def test_sgd_step_is_w_minus_lr_times_gradient():
    p = _param()
    opt = make_optimizer("sgd", [p], lr=0.1)
    _step(opt, p, [0.5, 1.0, -2.0])
    assert torch.equal(
        p.detach(), torch.tensor([1.0, -2.0, 3.0]) - 0.1 * torch.tensor([0.5, 1.0, -2.0])
    )


def test_momentum_and_nesterov_accumulate_velocity():
    g = torch.tensor([1.0, 1.0, 1.0])
    w0 = torch.tensor([1.0, -2.0, 3.0])
    p = _param()
    opt = make_optimizer("momentum", [p], lr=0.1)
    _step(opt, p, g.tolist())
    _step(opt, p, g.tolist())
    # v1 = g, v2 = 0.9 v1 + g
    assert torch.allclose(p.detach(), w0 - 0.1 * g - 0.1 * (0.9 * g + g))
    p = _param()
    opt = make_optimizer("nesterov", [p], lr=0.1)
    _step(opt, p, g.tolist())
    # nesterov: step with g + 0.9 v1 = 1.9 g
    assert torch.allclose(p.detach(), w0 - 0.1 * 1.9 * g)


def test_adam_first_step_moves_each_weight_by_lr():
    p = _param()
    opt = make_optimizer("adam", [p], lr=0.01)
    _step(opt, p, [0.5, -3.0, 1e-2])
    # bias-corrected m/sqrt(v) = sign(g) on the first step
    assert torch.allclose(p.detach(), torch.tensor([0.99, -1.99, 2.99]), atol=1e-6)


def test_weight_decay_adds_l2_gradient_and_adamw_decouples_it():
    p = _param()
    opt = make_optimizer("sgd", [p], lr=0.1, weight_decay=0.5)
    _step(opt, p, [0.0, 0.0, 0.0])
    assert torch.allclose(p.detach(), torch.tensor([1.0, -2.0, 3.0]) * (1 - 0.1 * 0.5))
    p = _param()
    opt = make_optimizer("adamw", [p], lr=0.1, weight_decay=0.5)
    _step(opt, p, [0.0, 0.0, 0.0])
    assert torch.allclose(p.detach(), torch.tensor([1.0, -2.0, 3.0]) * (1 - 0.1 * 0.5))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_lowers_a_quadratic(name):
    p = _param()
    opt = make_optimizer(name, [p], lr=0.05)
    start = float((p.detach() ** 2).sum())
    for _ in range(20):
        opt.zero_grad()
        (p**2).sum().backward()
        opt.step()
    assert float((p.detach() ** 2).sum()) < start


def test_unknown_optimizer_and_hyperparameter_are_clear_errors():
    with pytest.raises(TrainingError, match="choose one of sgd, momentum"):
        make_optimizer("lbfgs2", [_param()], lr=0.1)
    with pytest.raises(TrainingError, match="unknown hyperparameter.*betas"):
        make_optimizer("sgd", [_param()], lr=0.1, betas=(0.9, 0.99))


def _lrs(name, epochs, *, metrics=None, **kwargs):
    p = _param()
    opt = torch.optim.SGD([p], lr=1.0)
    schedule = EpochSchedule(opt, name, epochs=epochs, **kwargs)
    lrs = []
    for e in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        schedule.step(None if metrics is None else metrics[e])
    return lrs


def test_step_schedule_halves_every_step_size_epochs():
    assert _lrs("step", 6, step_size=2, gamma=0.5) == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_exponential_schedule_multiplies_each_epoch():
    assert _lrs("exponential", 4, gamma=0.9) == pytest.approx([1.0, 0.9, 0.81, 0.729])


def test_cosine_reaches_eta_min_at_t_max():
    lrs = _lrs("cosine", 6, T_max=4, eta_min=0.1)
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(5)]
    assert lrs[:5] == pytest.approx(expected)
    assert lrs[4] == pytest.approx(0.1)


def test_warmup_rises_linearly_then_hands_over():
    lrs = _lrs("step", 6, warmup_epochs=3, step_size=2, gamma=0.5)
    assert lrs[:3] == pytest.approx([0.25, 0.5, 0.75])
    assert lrs[3:] == pytest.approx([1.0, 1.0, 0.5])
    cosine = _lrs("cosine", 6, warmup_epochs=2, eta_min=0.0)  # T_max = 6 - 2 epochs
    assert cosine[2] == pytest.approx(1.0)
    assert cosine[3] == pytest.approx((1 + math.cos(math.pi / 4)) / 2)


def test_plateau_reduces_after_patience_and_follows_the_metric_mode():
    flat = [1.0] * 6
    assert _lrs("plateau", 6, metrics=flat, factor=0.5, patience=2) == [
        1.0,
        1.0,
        1.0,
        1.0,
        0.5,
        0.5,
    ]
    rising = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]  # an accuracy that keeps improving: no reduction
    assert _lrs("plateau", 6, metrics=rising, mode="max", factor=0.5, patience=1) == [1.0] * 6
    # warm-up handled before the plateau logic starts
    warm = _lrs("plateau", 6, metrics=flat, warmup_epochs=2, factor=0.5, patience=1)
    assert warm == pytest.approx([1 / 3, 2 / 3, 1.0, 1.0, 1.0, 0.5])


def test_schedule_state_round_trips():
    p = _param()
    opt = torch.optim.SGD([p], lr=1.0)
    a = EpochSchedule(opt, "step", epochs=6, warmup_epochs=1, step_size=1, gamma=0.5)
    for _ in range(3):
        opt.step()
        a.step()
    # the Trainer's order on resume: build both, then load the optimizer, then the schedule
    opt2 = torch.optim.SGD([_param()], lr=1.0)
    b = EpochSchedule(opt2, "step", epochs=6, warmup_epochs=1, step_size=1, gamma=0.5)
    opt2.load_state_dict(opt.state_dict())
    b.load_state_dict(a.state_dict())
    opt.step()
    a.step()
    opt2.step()
    b.step()
    assert opt.param_groups[0]["lr"] == opt2.param_groups[0]["lr"] == pytest.approx(0.125)


def test_unknown_schedule_is_a_clear_error():
    opt = torch.optim.SGD([_param()], lr=1.0)
    with pytest.raises(TrainingError, match="choose one of none, step"):
        EpochSchedule(opt, "linear", epochs=3)
    with pytest.raises(TrainingError, match="valid: gamma, step_size"):
        EpochSchedule(opt, "step", epochs=3, T_max=3)
