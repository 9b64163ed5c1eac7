"""The shared side of the torch text classifiers: settings, fit, predict, save and load.

`NeuralTextClassifier` trains any network through `components.models.training.Trainer`
(checkpointing into `context.workdir`), predicts probabilities, and saves `weights.pt` (a
state dict), `estimator.json` and the input side as JSON / `.npy`: nothing is pickled. An
architecture subclass (`components.models.neural` for the token-sequence networks,
`components.models.neural_mlp` for the MLP) provides the input side and the network.
"""

# No `from __future__ import annotations` here: the fields' types stay objects, so the
# dataclass `__init__` of a subclass defined in another module (whose signature is the
# config schema, read with `typing.get_type_hints`) needs none of these names in scope.

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import numpy as np

from .estimator import FitContext, Tokens

__all__ = ["ESTIMATOR_FILE", "VOCAB_FILE", "WEIGHTS_FILE", "NeuralTextClassifier"]

log = logging.getLogger(__name__)

# The training core's choices (kept equal to its tuples by a test; no torch import here).
Optimizer = Literal["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
Schedule = Literal["none", "step", "exponential", "cosine", "plateau"]
Loss = Literal["cross_entropy", "focal", "bce", "mse", "mae", "huber", "hinge"]
Monitor = Literal["val_loss", "val_accuracy", "val_macro_f1"]
Device = Literal["auto", "cpu", "cuda"]

WEIGHTS_FILE = "weights.pt"
ESTIMATOR_FILE = "estimator.json"
VOCAB_FILE = "vocab.json"


@dataclass(kw_only=True, eq=False)
class NeuralTextClassifier:
    """Shared training settings and fit / predict / save of the torch classifiers.

    Training: `epochs` of `batch_size`, `optimizer` at `lr` with `schedule` (after
    `warmup_epochs`), `loss` (`class_weight` "balanced", `label_smoothing`, `focal_gamma`),
    `weight_decay` (L2), `l1`, `dropout`, `grad_clip`; early stopping on `monitor` after
    `patience` epochs (without a validation set it monitors the training loss), the best
    weights kept. `seed`: None takes the fit context's seed. `device`: auto | cpu | cuda.
    `threads`: CPU threads torch uses while this model trains and predicts (default 1: these
    small networks gain little from more, and lose much when another process holds a core;
    0 leaves torch's own setting).
    """

    architecture: ClassVar[str] = ""
    #: token-position networks: `fit` records `gradient_by_position.json` / `.png`
    probes_positions: ClassVar[bool] = False
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: Optimizer = "adam"
    schedule: Schedule = "none"
    warmup_epochs: int = 0
    loss: Loss = "cross_entropy"
    class_weight: Literal["balanced"] | None = None
    label_smoothing: float = 0.0
    focal_gamma: float = 2.0
    weight_decay: float = 0.0
    l1: float = 0.0
    dropout: float = 0.5
    grad_clip: float = 5.0
    patience: int = 3
    monitor: Monitor = "val_loss"
    min_count: int = 2
    max_vocab: int = 50000
    device: Device = "auto"
    threads: int = 1
    seed: int | None = None

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """The constructor parameters and their values (as scikit-learn's `get_params`)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # -- what each architecture provides --------------------------------------------------
    def _fit_features(self, texts: Sequence[Tokens], context: FitContext, seed: int) -> Any:
        """Learn the input side (vocabulary, vectorizer); return a pretrained matrix or None."""
        raise NotImplementedError

    def _batches(self, texts: Sequence[Tokens], y: Any, *, shuffle: bool, seed: int = 0) -> Any:
        raise NotImplementedError

    def _network(self, num_classes: int, pretrained: Any = None) -> Any:
        raise NotImplementedError

    def _save_features(self, folder: Path) -> dict[str, Any]:
        raise NotImplementedError

    def _load_features(self, folder: Path, record: dict[str, Any]) -> None:
        raise NotImplementedError

    # -- the protocol ---------------------------------------------------------------------
    def fit(
        self,
        texts: Sequence[Tokens],
        labels: Sequence[str],
        *,
        validation: tuple[Sequence[Tokens], Sequence[str]] | None = None,
        context: FitContext,
    ) -> Self:
        """Build the vocabulary and network on `texts`, train (resuming a checkpoint of
        `context.workdir` saved under `context.key`), keep the best epoch's weights, and write
        `history.json`, `learning_curve.png` and `gradient_norms.png` into the workdir (and,
        for token-sequence networks, `gradient_by_position.json` / `.png`: the gradient
        reaching each position after epoch 1 and after training)."""
        from .training import cpu_threads

        with cpu_threads(self.threads):
            return self._fit(texts, labels, validation, context)

    def _fit(
        self,
        texts: Sequence[Tokens],
        labels: Sequence[str],
        validation: tuple[Sequence[Tokens], Sequence[str]] | None,
        context: FitContext,
    ) -> Self:
        from .training import Trainer, plot_gradient_norms, plot_learning_curve, seed_everything

        seed = context.seed if self.seed is None else self.seed
        seed_everything(seed)
        self.classes_ = sorted({str(label) for label in labels})
        if len(self.classes_) < 2:
            raise ValueError(
                f"{self.architecture}: the training labels hold {len(self.classes_)} class; "
                "a classifier needs at least two"
            )
        index = {c: i for i, c in enumerate(self.classes_)}
        y = np.asarray([index[str(label)] for label in labels], dtype=np.int64)
        pretrained = self._fit_features(texts, context, seed)
        train = self._batches(texts, y, shuffle=True, seed=seed)
        val = None
        probe_texts, probe_y = texts, y
        if validation is not None and len(validation[0]):
            keep = [i for i, label in enumerate(validation[1]) if str(label) in index]
            if len(keep) < len(validation[1]):
                log.warning(
                    "%d validation documents have labels unseen in training; left out",
                    len(validation[1]) - len(keep),
                )
            val_y = np.asarray([index[str(validation[1][i])] for i in keep], dtype=np.int64)
            val = self._batches([validation[0][i] for i in keep], val_y, shuffle=False)
            if keep:
                probe_texts, probe_y = [validation[0][i] for i in keep], val_y
        self.model_ = self._network(len(self.classes_), pretrained)
        loss_params: dict[str, Any] = {"num_classes": len(self.classes_), "targets": y}
        if self.class_weight is not None:
            loss_params["class_weight"] = self.class_weight
        if self.loss == "cross_entropy":
            loss_params["label_smoothing"] = self.label_smoothing
        if self.loss == "focal":
            loss_params["gamma"] = self.focal_gamma
        trainer = Trainer(
            epochs=self.epochs,
            optimizer=self.optimizer,
            lr=self.lr,
            weight_decay=self.weight_decay,
            schedule=self.schedule,
            warmup_epochs=self.warmup_epochs,
            loss=self.loss,
            loss_params=loss_params,
            l1=self.l1,
            grad_clip=self.grad_clip,
            monitor=self.monitor,
            patience=self.patience,
            device=self.device,
            seed=None,  # seeded above, before the network's initialisation
        )
        workdir = Path(context.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        probe = self._position_probe(probe_texts, probe_y, len(texts), loss_params, context)
        self.history_ = trainer.fit(
            self.model_, train, val, workdir=workdir, key=context.key, log_epoch=probe
        )
        self.device_ = trainer.device_
        self.best_epoch_ = trainer.best_epoch_
        plot_learning_curve(
            self.history_,
            workdir / "learning_curve.png",
            monitor=trainer.monitor if val else "train_loss",
        )
        plot_gradient_norms(self.history_, workdir / "gradient_norms.png")
        if self.probes_positions:
            self._write_position_probe(probe, trainer.best_epoch_, workdir)
        return self

    def _position_probe(
        self, texts: Sequence[Tokens], y: Any, n_train: int, loss_params: Any, context: FitContext
    ) -> Any:
        """The Trainer's `log_epoch`: `context.log`, wrapped (for token-position networks) in
        a `PositionGradientRecorder` of the first documents of `texts` (validation, else
        training): n_train / 20 of them (8 to 64), so a probe costs ~5% of an epoch."""
        from .training import PositionGradientRecorder, make_loss, resolve_device

        if not self.probes_positions:
            return context.log
        n = min(64, max(8, n_train // 20), len(texts))
        return PositionGradientRecorder(
            model=self.model_,
            batches=self._batches(texts[:n], y[:n], shuffle=False),
            loss_fn=make_loss(self.loss, **loss_params).to(resolve_device(self.device)),
            max_documents=n,
            epochs=(1,),
            then=context.log,
        )

    def _write_position_probe(self, probe: Any, best_epoch: int | None, workdir: Path) -> None:
        """Measure the trained network too; write `gradient_by_position.json` and `.png`."""
        from .training import plot_gradient_by_position

        final = probe.record(f"after training (best epoch {best_epoch})", epoch=best_epoch)
        self.gradient_by_position_ = probe.records_
        pooling = getattr(self, "pooling", None)
        name = self.architecture + (f", pooling {pooling}" if pooling else "")
        record = {"architecture": self.architecture, "records": self.gradient_by_position_}
        (workdir / "gradient_by_position.json").write_text(json.dumps(record), "utf-8")
        plot_gradient_by_position(
            self.gradient_by_position_,
            workdir / "gradient_by_position.png",
            title=f"Gradient reaching each position: {name}",
        )
        norms = final["mean_norm"]
        far = min(50, len(norms) - 1)
        log.info(
            "%s: gradient %d tokens before the last is %.2g of the last token's",
            self.architecture,
            far,
            norms[far] / norms[0] if norms[0] else float("nan"),
        )

    def predict_proba(self, texts: Sequence[Tokens]) -> np.ndarray:
        """Class probabilities `(len(texts), len(classes_))` in input order (eval mode, batched)."""
        from .training import cpu_threads, predict_outputs

        if len(texts) == 0:
            return np.zeros((0, len(self.classes_)))
        batches = self._batches(texts, None, shuffle=False)
        with cpu_threads(self.threads):
            outputs = predict_outputs(self.model_, batches, device=self.device_)
        logits = outputs.astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        return probs / probs.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[Tokens]) -> list[str]:
        """The most probable class name of each text."""
        return [self.classes_[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def save(self, folder: Path) -> None:
        """Write `weights.pt` (state dict), `estimator.json` (architecture, parameters,
        classes, network sizes) and the input side (vocabulary / vectorizer as JSON, .npy)."""
        import torch

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu() for k, v in self.model_.state_dict().items()}
        torch.save(state, folder / WEIGHTS_FILE)
        record = {
            "architecture": self.architecture,
            "params": _plain(self.get_params()),
            "classes": self.classes_,
            "best_epoch": getattr(self, "best_epoch_", None),
            **self._save_features(folder),
        }
        (folder / ESTIMATOR_FILE).write_text(json.dumps(record, indent=1), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> Self:
        """Rebuild an estimator saved by `save` (weights read with `weights_only=True`)."""
        import torch

        from .training import resolve_device

        folder = Path(folder)
        record = json.loads((folder / ESTIMATOR_FILE).read_text("utf-8"))
        klass = _architecture_class(cls, str(record.get("architecture", "")))
        if klass is None:
            raise ValueError(
                f"{folder}: holds a {record.get('architecture')!r} model, not {cls.__name__}"
            )
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in record["params"].items()}
        est = klass(**params)
        est.classes_ = list(record["classes"])
        est.history_ = []
        est.best_epoch_ = record.get("best_epoch")
        est._load_features(folder, record)
        est.model_ = est._network(len(est.classes_))
        est.model_.load_state_dict(torch.load(folder / WEIGHTS_FILE, weights_only=True))
        est.device_ = resolve_device(est.device)
        est.model_.to(est.device_).eval()
        return est  # type: ignore[return-value]


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def _architecture_class(
    cls: type[NeuralTextClassifier], architecture: str
) -> type[NeuralTextClassifier] | None:
    """`cls` or the subclass of it (at any depth) whose `architecture` is `architecture`.
    Subclasses register by being defined: `components.models.neural` imports them all."""
    pending = [cls]
    while pending:
        klass = pending.pop()
        if klass.architecture == architecture:
            return klass
        pending.extend(klass.__subclasses__())
    return None
