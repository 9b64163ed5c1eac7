"""Losses by name, class weights and the L1 penalty.

Names: `cross_entropy` (class weights, `label_smoothing`), `focal` (`gamma`, class weights;
cross-entropy at gamma=0), `bce` (binary cross-entropy with logits: one logit per class,
the target one-hot), `mse`, `mae`, `huber` (`delta`), `hinge` (multi-class margin:
`MultiMarginLoss`, `margin`). With class-index targets, `mse`/`mae`/`huber` compare the
softmax probabilities with the one-hot target (a Brier-style loss); with float targets
they compare the output itself (regression).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .errors import TrainingError

__all__ = ["LOSSES", "LossName", "balanced_class_weights", "l1_penalty", "make_loss"]

LossName = Literal["cross_entropy", "focal", "bce", "mse", "mae", "huber", "hinge"]
LOSSES: tuple[str, ...] = ("cross_entropy", "focal", "bce", "mse", "mae", "huber", "hinge")


def balanced_class_weights(targets: Sequence[int] | np.ndarray, num_classes: int) -> np.ndarray:
    """`n_samples / (n_classes * count(class))` per class, as scikit-learn's "balanced".

    A class absent from `targets` gets weight 0 (it contributes no loss anyway).
    """
    counts = np.bincount(np.asarray(targets, dtype=np.int64), minlength=num_classes)
    present = int((counts > 0).sum())
    weights = np.zeros(num_classes, dtype=np.float64)
    mask = counts > 0
    weights[mask] = len(targets) / (present * counts[mask])
    return weights


def make_loss(
    name: str,
    *,
    num_classes: int = 0,
    class_weight: str | Sequence[float] | None = None,
    targets: Sequence[int] | np.ndarray | None = None,
    label_smoothing: float = 0.0,
    gamma: float = 2.0,
    **hyper: Any,
) -> Any:
    """The loss module `name` (see `LOSSES`) called as `loss(output, target)` (mean over the batch).

    `class_weight`: None, "balanced" (computed from `targets`) or one weight per class; it
    applies to `cross_entropy`, `focal`, `hinge` and `bce`.
    """
    if name not in LOSSES:
        raise TrainingError(f"loss: unknown {name!r}; choose one of {', '.join(LOSSES)}")
    weight = None
    if class_weight is not None:
        if class_weight == "balanced":
            if targets is None:
                raise TrainingError('class_weight "balanced" needs the training targets')
            weight = torch.tensor(balanced_class_weights(targets, num_classes), dtype=torch.float32)
        elif isinstance(class_weight, str):
            raise TrainingError(
                f'class_weight: {class_weight!r} is not "balanced" nor a list of weights'
            )
        else:
            weight = torch.tensor(list(class_weight), dtype=torch.float32)
            if num_classes and len(weight) != num_classes:
                raise TrainingError(
                    f"class_weight: {len(weight)} weights for {num_classes} classes"
                )
    if name == "cross_entropy":
        return nn.CrossEntropyLoss(weight=weight, label_smoothing=label_smoothing)
    if name == "focal":
        return FocalLoss(weight=weight, gamma=gamma)
    if name == "hinge":
        return nn.MultiMarginLoss(weight=weight, margin=hyper.get("margin", 1.0))
    if name == "bce":
        return OneHotLoss(nn.BCEWithLogitsLoss(pos_weight=weight), probabilities=False)
    if name == "mse":
        return OneHotLoss(nn.MSELoss(), probabilities=True)
    if name == "mae":
        return OneHotLoss(nn.L1Loss(), probabilities=True)
    return OneHotLoss(nn.HuberLoss(delta=hyper.get("delta", 1.0)), probabilities=True)


def l1_penalty(model: Any) -> Any:
    """The sum of absolute values of every trainable parameter (scaled by `l1` in the Trainer)."""
    return sum(p.abs().sum() for p in model.parameters() if p.requires_grad)


class FocalLoss(nn.Module):
    """Focal loss (Lin et al., 2017): `-w_y (1 - p_y)^gamma log p_y`, weighted mean as CE.

    At gamma=0 it equals `cross_entropy` with the same class weights.
    """

    def __init__(self, *, weight: Any = None, gamma: float = 2.0):
        super().__init__()
        self.gamma = gamma
        self.register_buffer("weight", weight)

    def forward(self, logits: Any, target: Any) -> Any:
        """Mean focal loss of `logits` (n, classes) against class indices `target` (n,)."""
        log_p = F.log_softmax(logits, dim=-1).gather(1, target.unsqueeze(1)).squeeze(1)
        loss = -((1 - log_p.exp()) ** self.gamma) * log_p
        if self.weight is None:
            return loss.mean()
        w = self.weight[target]
        return (w * loss).sum() / w.sum()


class OneHotLoss(nn.Module):
    """Applies a regression-style loss to class-index targets through their one-hot encoding."""

    def __init__(self, inner: Any, *, probabilities: bool):
        super().__init__()
        self.inner = inner
        self.probabilities = probabilities

    def forward(self, output: Any, target: Any) -> Any:
        """`inner(output', one_hot(target))`; float targets pass through unchanged."""
        if target.dtype.is_floating_point:
            return self.inner(output, target.reshape(output.shape))
        onehot = F.one_hot(target, output.shape[-1]).to(output.dtype)
        if self.probabilities:
            output = output.softmax(dim=-1)
        return self.inner(output, onehot)
