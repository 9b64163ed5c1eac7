"""The training loop every torch model of the project uses (the network only defines `forward`).

`Trainer.fit(model, train_batches, val_batches)` runs epochs of mini-batches (see
`batching`), records a history row per epoch, stops early on the monitored metric,
checkpoints each epoch into `workdir/checkpoint.pt` and resumes from it, and ends with
the best epoch's weights in the model (and in `workdir/trained.pt`), however it ends.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .batching import Batch
from .checkpoint import CHECKPOINT_FILE, load_checkpoint, save_atomic
from .devices import resolve_device
from .early_stopping import EarlyStopping, monitor_mode
from .losses import l1_penalty, make_loss
from .metrics import accuracy, macro_f1
from .optimizers import make_optimizer
from .schedules import EpochSchedule
from .seeding import rng_state, seed_everything, set_rng_state

__all__ = ["HISTORY_FILE", "TRAINED_FILE", "Trainer", "evaluate", "predict_outputs"]

log = logging.getLogger(__name__)

HISTORY_FILE = "history.json"
TRAINED_FILE = "trained.pt"


class Trainer:
    """Trains an `nn.Module` on batches of `Batch(inputs, target, index)`; `model(*inputs)`.

    Optimizer, schedule and loss are picked by name (see `make_optimizer`, `EpochSchedule`,
    `make_loss`; `*_params` pass their hyperparameters). `l1` adds `l1 * sum|w|` to the
    training loss; `grad_clip` clips the gradients' global L2 norm (0: off). `monitor`
    (val_loss | val_accuracy | val_macro_f1) drives early stopping after `patience` epochs
    without a `min_delta` improvement (0: never) and the plateau schedule; without
    validation batches it is `train_loss`. `seed` seeds every generator when `fit` starts.
    """

    def __init__(
        self,
        *,
        epochs: int = 10,
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        optimizer_params: Mapping[str, Any] | None = None,
        schedule: str = "none",
        schedule_params: Mapping[str, Any] | None = None,
        warmup_epochs: int = 0,
        loss: str = "cross_entropy",
        loss_params: Mapping[str, Any] | None = None,
        l1: float = 0.0,
        grad_clip: float = 5.0,
        monitor: str = "val_loss",
        patience: int = 3,
        min_delta: float = 0.0,
        device: str = "auto",
        seed: int | None = 0,
    ):
        self.epochs = epochs
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.optimizer_params = optimizer_params
        self.schedule = schedule
        self.schedule_params = schedule_params
        self.warmup_epochs = warmup_epochs
        self.loss = loss
        self.loss_params = loss_params
        self.l1 = l1
        self.grad_clip = grad_clip
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        self.device = device
        self.seed = seed

    def fit(
        self,
        model: torch.nn.Module,
        train_batches: Iterable[Batch],
        val_batches: Iterable[Batch] | None = None,
        *,
        workdir: Path | None = None,
        key: str = "",
        log_epoch: Callable[[dict[str, Any]], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Train `model` in place; return the history (one dict per epoch), also in `history_`.

        With `workdir`, each epoch writes `history.json` and `checkpoint.pt`; a checkpoint
        saved under the same `key` is resumed, another is ignored; at the end the best
        weights go to `trained.pt` (a later fit with the same key just loads them) and the
        checkpoint is deleted. `log_epoch` gets each epoch's row after its checkpoint.
        """
        device = resolve_device(self.device)
        self.device_ = device
        if self.seed is not None:
            seed_everything(self.seed)
        model.to(device)
        monitor = self.monitor
        if val_batches is None and monitor != "train_loss":
            log.info("no validation batches: early stopping monitors train_loss")
            monitor = "train_loss"
        optimizer = make_optimizer(
            self.optimizer,
            model.parameters(),
            lr=self.lr,
            weight_decay=self.weight_decay,
            **dict(self.optimizer_params or {}),
        )
        schedule = EpochSchedule(
            optimizer,
            self.schedule,
            epochs=self.epochs,
            warmup_epochs=self.warmup_epochs,
            mode=monitor_mode(monitor),
            **dict(self.schedule_params or {}),
        )
        loss_fn = make_loss(self.loss, **dict(self.loss_params or {})).to(device)
        stopper = EarlyStopping(monitor=monitor, patience=self.patience, min_delta=self.min_delta)
        history: list[dict[str, Any]] = []
        start = 1
        ckpt_path = None if workdir is None else Path(workdir) / CHECKPOINT_FILE
        if workdir is not None:
            trained = load_checkpoint(Path(workdir) / TRAINED_FILE, key)
            if trained is not None:
                model.load_state_dict(trained["weights"])
                log.info("%s: already trained under this key; weights loaded", workdir)
                self.history_ = list(trained["history"])
                self.best_epoch_ = int(trained["best_epoch"])
                return self.history_
            state = load_checkpoint(ckpt_path, key)  # type: ignore[arg-type]
            if state is not None:
                model.load_state_dict(state["model"])
                optimizer.load_state_dict(state["optimizer"])
                schedule.load_state_dict(state["schedule"])
                stopper.load_state_dict(state["early_stopping"])
                history = list(state["history"])
                set_rng_state(state["rng"])
                if hasattr(train_batches, "load_state_dict"):
                    train_batches.load_state_dict(state["batcher"])
                start = int(state["epoch"]) + 1
                log.info("%s: resuming after epoch %d", workdir, state["epoch"])
        groups = _parameter_groups(model)
        for epoch in range(start, self.epochs + 1):
            if stopper.should_stop:
                break
            t0 = time.perf_counter()
            lr = float(optimizer.param_groups[0]["lr"])
            train_loss, grad_norms = self._train_epoch(
                model, train_batches, optimizer, loss_fn, groups, device
            )
            row: dict[str, Any] = {"epoch": epoch, "train_loss": train_loss}
            if val_batches is not None:
                row.update(evaluate(model, val_batches, loss_fn, device))
            row["lr"] = lr
            improved = stopper.update(row[monitor], epoch, model)
            schedule.step(row[monitor])
            row["best"] = improved
            row["seconds"] = round(time.perf_counter() - t0, 4)
            row["grad_norms"] = grad_norms
            history.append(row)
            if workdir is not None:
                _write_history(Path(workdir), history)
                save_atomic(
                    {
                        "key": key,
                        "epoch": epoch,
                        "model": _cpu_state(model),
                        "optimizer": optimizer.state_dict(),
                        "schedule": schedule.state_dict(),
                        "early_stopping": stopper.state_dict(),
                        "history": history,
                        "rng": rng_state(),
                        "batcher": train_batches.state_dict()
                        if hasattr(train_batches, "state_dict")
                        else {},
                    },
                    ckpt_path,  # type: ignore[arg-type]
                )
            if log_epoch is not None:
                log_epoch(dict(row))
        stopper.restore_best(model)
        self.history_ = history
        self.best_epoch_ = stopper.best_epoch
        if workdir is not None:
            save_atomic(
                {
                    "key": key,
                    "weights": _cpu_state(model),
                    "history": history,
                    "best_epoch": stopper.best_epoch,
                },
                Path(workdir) / TRAINED_FILE,
            )
            ckpt_path.unlink(missing_ok=True)  # type: ignore[union-attr]
        return history

    def _train_epoch(
        self,
        model: torch.nn.Module,
        batches: Iterable[Batch],
        optimizer: Any,
        loss_fn: Any,
        groups: dict[str, list[torch.nn.Parameter]],
        device: torch.device,
    ) -> tuple[float, dict[str, float]]:
        model.train()
        total = torch.zeros((), device=device)
        norms = {name: torch.zeros((), device=device) for name in groups}
        seen = steps = 0
        for batch in batches:
            inputs = tuple(t.to(device, non_blocking=True) for t in batch.inputs)
            target = batch.target.to(device, non_blocking=True)  # type: ignore[union-attr]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(*inputs), target)
            objective = loss + self.l1 * l1_penalty(model) if self.l1 else loss
            objective.backward()
            with torch.no_grad():
                for name, params in groups.items():
                    grads = [p.grad for p in params if p.grad is not None]
                    if grads:
                        norms[name] += torch.linalg.vector_norm(
                            torch.stack([torch.linalg.vector_norm(g) for g in grads])
                        )
            if self.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), self.grad_clip)
            optimizer.step()
            total += loss.detach() * len(target)
            seen += len(target)
            steps += 1
        return (
            float(total) / max(seen, 1),
            {name: float(value) / max(steps, 1) for name, value in norms.items()},
        )


def evaluate(
    model: torch.nn.Module, batches: Iterable[Batch], loss_fn: Any, device: torch.device
) -> dict[str, float]:
    """`val_loss` (mean over examples) and, for class-index targets, `val_accuracy` and
    `val_macro_f1` of `model` on `batches` (eval mode, no gradients)."""
    model.eval()
    total, seen = 0.0, 0
    truth, predicted = [], []
    with torch.no_grad():
        for batch in batches:
            target = batch.target.to(device)  # type: ignore[union-attr]
            output = model(*(t.to(device) for t in batch.inputs))
            total += float(loss_fn(output, target)) * len(target)
            seen += len(target)
            if not target.dtype.is_floating_point:
                truth.append(target.cpu().numpy())
                predicted.append(output.argmax(dim=-1).cpu().numpy())
    row = {"val_loss": total / max(seen, 1)}
    if truth:
        y, p = np.concatenate(truth), np.concatenate(predicted)
        row["val_accuracy"] = accuracy(y, p)
        row["val_macro_f1"] = macro_f1(y, p)
    return row


def predict_outputs(
    model: torch.nn.Module, batches: Iterable[Batch], *, device: torch.device | str = "cpu"
) -> np.ndarray:
    """The model's outputs for every row of `batches`, in input order (by `Batch.index`)."""
    model.eval()
    device = torch.device(device)
    rows: list[np.ndarray] = []
    index: list[np.ndarray] = []
    with torch.no_grad():
        for batch in batches:
            rows.append(model(*(t.to(device) for t in batch.inputs)).float().cpu().numpy())
            index.append(batch.index.numpy())
    if not rows:
        return np.zeros((0, 0), dtype=np.float32)
    out = np.empty((sum(len(r) for r in rows), rows[0].shape[1]), dtype=np.float32)
    out[np.concatenate(index)] = np.concatenate(rows)
    return out


def _parameter_groups(model: torch.nn.Module) -> dict[str, list[torch.nn.Parameter]]:
    """Trainable parameters grouped by top-level module name (`embedding`, `encoder`, ...)."""
    groups: dict[str, list[torch.nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if param.requires_grad:
            groups.setdefault(name.split(".", 1)[0], []).append(param)
    return groups


def _cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def _write_history(workdir: Path, history: list[dict[str, Any]]) -> None:
    tmp = workdir / f".{HISTORY_FILE}.tmp"
    tmp.write_text(json.dumps(history, indent=1), encoding="utf-8")
    os.replace(tmp, workdir / HISTORY_FILE)
