"""Early stopping on a monitored metric, keeping the best epoch's weights."""

from __future__ import annotations

from typing import Any, Literal

import torch

from .errors import TrainingError

__all__ = ["MONITORS", "EarlyStopping", "Monitor", "monitor_mode"]

Monitor = Literal["val_loss", "val_accuracy", "val_macro_f1", "train_loss"]
MONITORS: tuple[str, ...] = ("val_loss", "val_accuracy", "val_macro_f1", "train_loss")


def monitor_mode(monitor: str) -> str:
    """ "min" for a loss, "max" for accuracy and F1."""
    if monitor not in MONITORS:
        raise TrainingError(f"monitor: unknown {monitor!r}; choose one of {', '.join(MONITORS)}")
    return "min" if monitor.endswith("loss") else "max"


class EarlyStopping:
    """Tracks the best value of `monitor` and a CPU copy of the weights it was reached with.

    An epoch improves when it beats the best by more than `min_delta`; after `patience`
    epochs without improvement `should_stop` is true (patience 0: never stop early).
    """

    def __init__(self, *, monitor: str = "val_loss", patience: int = 3, min_delta: float = 0.0):
        self.monitor = monitor
        self.mode = monitor_mode(monitor)
        self.patience = patience
        self.min_delta = min_delta
        self.best_score: float | None = None
        self.best_epoch = 0
        self.bad_epochs = 0
        self.best_weights: dict[str, torch.Tensor] | None = None

    def update(self, score: float, epoch: int, model: torch.nn.Module) -> bool:
        """Record one epoch's score; keep the weights when it improves; return whether it did."""
        better = self.best_score is None or (
            score < self.best_score - self.min_delta
            if self.mode == "min"
            else score > self.best_score + self.min_delta
        )
        if better:
            self.best_score = float(score)
            self.best_epoch = epoch
            self.bad_epochs = 0
            self.best_weights = {
                k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()
            }
        else:
            self.bad_epochs += 1
        return better

    @property
    def should_stop(self) -> bool:
        """Whether `patience` epochs in a row failed to improve."""
        return self.patience > 0 and self.bad_epochs >= self.patience

    def restore_best(self, model: torch.nn.Module) -> None:
        """Load the best weights into `model` (no-op before the first epoch)."""
        if self.best_weights is not None:
            model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        """Plain data: best score, best epoch, bad epochs, best weights."""
        return {
            "best_score": self.best_score,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore `state_dict()`'s output."""
        self.best_score = state["best_score"]
        self.best_epoch = state["best_epoch"]
        self.bad_epochs = state["bad_epochs"]
        self.best_weights = state["best_weights"]
