"""Optimizers by name: every one is a `torch.optim` class with its hyperparameters.

Names: `sgd`, `momentum` (SGD with momentum, default 0.9), `nesterov` (SGD with Nesterov
momentum, default 0.9), `adagrad`, `rmsprop`, `adam`, `adamw`. Weight decay is the L2
penalty of each optimizer (decoupled for `adamw`, as AdamW defines it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from .errors import TrainingError

__all__ = ["OPTIMIZERS", "OptimizerName", "make_optimizer"]

OptimizerName = Literal["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")


def make_optimizer(
    name: str, params: Iterable[Any], *, lr: float, weight_decay: float = 0.0, **hyper: Any
) -> Any:
    """A `torch.optim` optimizer over `params`, picked by `name` (see `OPTIMIZERS`).

    `hyper` passes the optimizer's own hyperparameters (`momentum`, `betas`, `eps`, `alpha`,
    ...); an unknown one is a `TrainingError` naming the optimizer's valid keys.
    """
    import inspect

    import torch

    classes = {
        "sgd": (torch.optim.SGD, {}),
        "momentum": (torch.optim.SGD, {"momentum": 0.9}),
        "nesterov": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True}),
        "adagrad": (torch.optim.Adagrad, {}),
        "rmsprop": (torch.optim.RMSprop, {}),
        "adam": (torch.optim.Adam, {}),
        "adamw": (torch.optim.AdamW, {}),
    }
    if name not in classes:
        raise TrainingError(f"optimizer: unknown {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    cls, defaults = classes[name]
    accepted = set(inspect.signature(cls).parameters) - {"params", "lr", "weight_decay"}
    unknown = sorted(set(hyper) - accepted)
    if unknown:
        raise TrainingError(
            f"optimizer {name!r}: unknown hyperparameter(s) {', '.join(unknown)}; "
            f"valid: {', '.join(sorted(accepted))}"
        )
    return cls(params, lr=lr, weight_decay=weight_decay, **{**defaults, **hyper})
