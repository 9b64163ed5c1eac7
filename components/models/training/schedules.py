"""Learning-rate schedules by name, stepped once per epoch, with an optional linear warm-up.

Names: `none` (constant), `step` (`step_size`, `gamma`: multiply by gamma every step_size
epochs), `exponential` (`gamma` each epoch), `cosine` (`T_max`, `eta_min`: cosine from lr
down to eta_min over T_max epochs), `plateau` (`factor`, `patience`, `threshold`, `min_lr`:
reduce when the monitored metric stops improving; its mode follows the metric).

Warm-up is counted in epochs: with `warmup_epochs=W`, epoch e < W trains at lr*(e+1)/(W+1),
and the named schedule starts at epoch W from the full lr (its epochs count from there:
cosine's `T_max` defaults to `epochs - W`).
"""

from __future__ import annotations

from typing import Any, Literal

from .errors import TrainingError

__all__ = ["SCHEDULES", "EpochSchedule", "ScheduleName"]

ScheduleName = Literal["none", "step", "exponential", "cosine", "plateau"]
SCHEDULES: tuple[str, ...] = ("none", "step", "exponential", "cosine", "plateau")


class EpochSchedule:
    """The learning rate of `optimizer` over epochs: call `step(metric)` after every epoch.

    `metric` is the monitored value of the epoch just finished (used by `plateau` only;
    `mode` is "min" for losses, "max" for accuracy/F1). `state_dict`/`load_state_dict`
    hold plain data, for checkpoints.
    """

    def __init__(
        self,
        optimizer: Any,
        name: str = "none",
        *,
        epochs: int,
        warmup_epochs: int = 0,
        mode: str = "min",
        **hyper: Any,
    ):
        import torch.optim.lr_scheduler as sched

        if name not in SCHEDULES:
            raise TrainingError(f"schedule: unknown {name!r}; choose one of {', '.join(SCHEDULES)}")
        if warmup_epochs < 0:
            raise TrainingError(f"warmup_epochs must be >= 0, got {warmup_epochs}")
        self.optimizer = optimizer
        self.name = name
        self.warmup_epochs = warmup_epochs
        self.epochs_done = 0
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        allowed = {
            "none": set(),
            "step": {"step_size", "gamma"},
            "exponential": {"gamma"},
            "cosine": {"T_max", "eta_min"},
            "plateau": {"factor", "patience", "threshold", "min_lr"},
        }[name]
        unknown = sorted(set(hyper) - allowed)
        if unknown:
            raise TrainingError(
                f"schedule {name!r}: unknown hyperparameter(s) {', '.join(unknown)}; "
                f"valid: {', '.join(sorted(allowed)) or 'none'}"
            )
        self.plateau: Any = None
        main: Any
        if name == "plateau":
            self.plateau = sched.ReduceLROnPlateau(optimizer, mode=mode, **hyper)
            self.torch_schedule = None
            if warmup_epochs:
                self._set_warmup_lr(0)
            return
        if name == "none":
            main = sched.LambdaLR(optimizer, _constant)
        elif name == "step":
            main = sched.StepLR(
                optimizer, step_size=hyper.get("step_size", 10), gamma=hyper.get("gamma", 0.1)
            )
        elif name == "exponential":
            main = sched.ExponentialLR(optimizer, gamma=hyper.get("gamma", 0.95))
        else:
            t_max = hyper.get("T_max") or max(1, epochs - warmup_epochs)
            main = sched.CosineAnnealingLR(
                optimizer, T_max=t_max, eta_min=hyper.get("eta_min", 0.0)
            )
        if warmup_epochs:
            warm = sched.LinearLR(
                optimizer, start_factor=1 / (warmup_epochs + 1), total_iters=warmup_epochs
            )
            main = sched.SequentialLR(optimizer, [warm, main], milestones=[warmup_epochs])
        self.torch_schedule = main

    def _set_warmup_lr(self, epoch: int) -> None:
        factor = min(1.0, (epoch + 1) / (self.warmup_epochs + 1))
        for group, base in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = base * factor

    def step(self, metric: float | None = None) -> None:
        """Advance one epoch; `metric` is the monitored value (plateau only)."""
        self.epochs_done += 1
        if self.torch_schedule is not None:
            self.torch_schedule.step()
        elif self.epochs_done <= self.warmup_epochs:
            self._set_warmup_lr(self.epochs_done)
        elif metric is not None:
            self.plateau.step(metric)

    def state_dict(self) -> dict[str, Any]:
        """Plain data: epochs done, base rates, the torch scheduler's state."""
        inner = self.torch_schedule if self.torch_schedule is not None else self.plateau
        return {
            "epochs_done": self.epochs_done,
            "base_lrs": list(self.base_lrs),
            "inner": inner.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore `state_dict()`'s output."""
        self.epochs_done = state["epochs_done"]
        self.base_lrs = list(state["base_lrs"])
        inner = self.torch_schedule if self.torch_schedule is not None else self.plateau
        inner.load_state_dict(state["inner"])


def _constant(epoch: int) -> float:
    return 1.0
