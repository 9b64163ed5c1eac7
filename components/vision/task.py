"""The `image-cnn` task: a CNN trained on images read from table rows, by the shared core.

Each document's image is its pixel columns (`meta["row"]`, as the `table` reader gives
them, e.g. `dataset: sklearn:digits`); its class is `meta[label]`. The task checks every
layer's output size before training (`shapes.plan_network`), splits the images
(seeded, stratified holdout of `components.ml.splits`), trains `network.ImageCnn` with
`components.models.training.Trainer` (optional augmentation, optional conv blocks from
another fitted image-cnn task), and writes `metrics.json`, `predictions.jsonl`,
`confusion_matrix.png`, `learning_curve.png` and its report section. `save` writes
`weights.pt` (a state dict), `model.json` and `task.json`: nothing is pickled.

Dependency rule (decisions_vision): this package imports `pipeline`, `components.ml` and
`components.models.training` only, never other parts of `components.models`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import numpy as np

from components.ml.curves import CurveSettings
from components.ml.splits import HoldoutSettings, SplitError, holdout_split, split_problems
from pipeline.config import ConfigError
from pipeline.document import Document
from pipeline.registry import register

from .outputs import pixel_baseline, prediction, split_scores, write_json, write_outputs
from .pixels import ImageData, collect_images, document_image, natural_key
from .settings import (
    DEFAULT_BLOCKS,
    AugmentSettings,
    BlockSettings,
    PixelSettings,
    TransferSettings,
    plain,
    settings_problems,
)
from .transfer import MODEL_FILE, WEIGHTS_FILE

__all__ = ["ImageCnnTask"]

logger = logging.getLogger(__name__)

# The training core's choices (kept equal to its tuples by a test; no torch import here).
Optimizer = Literal["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
Schedule = Literal["none", "step", "exponential", "cosine", "plateau"]
Monitor = Literal["val_loss", "val_accuracy", "val_macro_f1"]
Device = Literal["auto", "cpu", "cuda"]

TASK_FILE = "task.json"
PREDICT_BATCH = 256
TRAINING_FOLDER = "training"  # the Trainer's checkpoint and trained weights (resume)
DEFAULT_SPLIT = HoldoutSettings(test=0.2, validation=0.1, seed=1)


@register("task", "image-cnn")
class ImageCnnTask:
    """An image classifier: a CNN over images held as pixel columns of table rows.

    Conv → ReLU → Pool per block, Flatten → Dense → Dropout → Softmax.

    `pixels` (columns, shape, channels, scale), `label` (the meta key of the class),
    `blocks` (per block: filters, kernel, stride, padding same|valid|int, pool
    max|avg|none, pool_size, pool_stride), `dense` widths, `dropout`; `augment` (shift
    pixels, rotate degrees, noise std; training only, seeded); `transfer` (`from`: a fitted
    image-cnn task folder or an earlier task's name, `freeze`); `split` (test, validation,
    seed, stratify). Training: `epochs`, `batch_size`, `optimizer`, `lr`, `weight_decay`,
    `schedule`, `warmup_epochs`, early stopping on `monitor` after `patience` epochs (best
    weights kept), `device` (auto|cpu|cuda), `threads` (CPU threads, default 1), `seed`.
    `baseline`: also fit scikit-learn's logistic regression on the raw pixels of the same
    training part and report its test accuracy beside the CNN's. `curves`: learning /
    validation curves with a bias/variance verdict (`components.vision.curves`; each point
    is a full training from scratch: costly).
    """

    model: ClassVar[str] = "image-cnn"
    version: ClassVar[str] = "1"

    def __init__(
        self,
        *,
        label: str = "label",
        pixels: PixelSettings = PixelSettings(),  # noqa: B008 - frozen settings
        blocks: tuple[BlockSettings, ...] = DEFAULT_BLOCKS,
        dense: tuple[int, ...] = (128,),
        dropout: float = 0.3,
        augment: AugmentSettings | None = None,
        transfer: TransferSettings | None = None,
        split: HoldoutSettings = DEFAULT_SPLIT,
        epochs: int = 30,
        batch_size: int = 32,
        optimizer: Optimizer = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        schedule: Schedule = "none",
        warmup_epochs: int = 0,
        patience: int = 5,
        monitor: Monitor = "val_loss",
        device: Device = "auto",
        threads: int = 1,
        baseline: bool = True,
        seed: int = 1,
        curves: CurveSettings | None = None,
    ):
        self.label = label
        self.pixels = pixels
        self.blocks = blocks
        self.dense = dense
        self.dropout = dropout
        self.augment = augment
        self.transfer = transfer
        self.split = split
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.warmup_epochs = warmup_epochs
        self.patience = patience
        self.monitor = monitor
        self.device = device
        self.threads = threads
        self.baseline = baseline
        self.seed = seed
        self.curves = curves

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """Cheap checks of validated parameters (no torch): sizes and fractions in range.
        The layer sizes are checked by `fit`, before it reads or trains anything."""
        from .curves import image_curve_problems

        return [
            *settings_problems(params),
            *split_problems(params.get("split")),
            *image_curve_problems(params.get("curves")),
        ]

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters, JSON-ready (settings as plain mappings)."""
        from pipeline.registry import parameters

        return {name: plain(getattr(self, name)) for name in parameters(type(self))}

    def _settings(self) -> tuple[PixelSettings, list[BlockSettings], AugmentSettings | None]:
        pixels = PixelSettings.model_validate(plain(self.pixels))
        blocks = [BlockSettings.model_validate(plain(b)) for b in self.blocks]
        augment = (
            None if self.augment is None else AugmentSettings.model_validate(plain(self.augment))
        )
        return pixels, blocks, augment

    def _input_shape(self, pixels: PixelSettings) -> tuple[int, int, int]:
        return (pixels.channels, *pixels.shape)

    # ------------------------------------------------------------------ fit

    def fit(self, corpus: Iterable[Document], run_dir: Path) -> Self:
        """Check the layer sizes, read the images, split, train and write the outputs into
        `run_dir` (the task folder). Settings or data it cannot use are a `ConfigError`
        naming `tasks.NAME.KEY`, raised before anything is written."""
        from components.models.training import cpu_threads

        folder = Path(run_dir)
        where = f"tasks.{folder.name}"
        problems = self.check_params(self.get_params())
        if problems:
            raise ConfigError.of([ConfigError(f"{where}.{p}") for p in problems])
        pixels, blocks, augment = self._settings()
        from .shapes import plan_network

        plan_network(self._input_shape(pixels), blocks, self.dense, 2, where=where)  # sizes first
        with cpu_threads(self.threads):
            return self._fit(corpus, folder, where, pixels, blocks, augment)

    def _fit(
        self,
        corpus: Iterable[Document],
        folder: Path,
        where: str,
        pixels: PixelSettings,
        blocks: list[BlockSettings],
        augment: AugmentSettings | None,
    ) -> Self:
        from components.models.training import seed_everything

        from .shapes import plan_network, summary_rows

        data, self.columns_ = collect_images(corpus, pixels=pixels, label=self.label, where=where)
        self.classes_ = sorted(set(data.labels), key=natural_key)
        if len(self.classes_) < 2:
            raise ConfigError(f"{where}.label: the images hold {len(self.classes_)} class; need 2+")
        split = HoldoutSettings.model_validate(plain(self.split))
        try:
            holdout = holdout_split(
                data.labels, test=split.test, validation=split.validation,
                seed=split.seed, stratify=split.stratify,
            )  # fmt: skip
        except SplitError as exc:
            raise ConfigError(f"{where}.{exc}") from None
        rows = plan_network(
            self._input_shape(pixels), blocks, self.dense, len(self.classes_), where=where
        )
        source = None
        if self.transfer is not None:
            from .transfer import resolve_source

            transfer = TransferSettings.model_validate(plain(self.transfer))
            source = (resolve_source(transfer.from_, folder, where=where), transfer.freeze)
        index = {c: i for i, c in enumerate(self.classes_)}
        y = np.asarray([index[label] for label in data.labels], dtype=np.int64)
        seed_everything(self.seed)
        self.network_ = self._network(blocks, rows)
        self.transfer_ = None
        if source is not None:
            from .transfer import copy_conv_blocks

            self.transfer_ = copy_conv_blocks(
                self.network_, source[0], freeze=source[1], where=where
            )
        workdir = folder / TRAINING_FOLDER
        workdir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        trainer, history = self._train(
            data.images, y, holdout.train, holdout.validation, augment, workdir,
            self._fit_key(data, holdout.train),
        )  # fmt: skip
        seconds = time.perf_counter() - t0
        proba = self._proba(data.images)
        scores = {
            "test": split_scores(data.labels, proba, holdout.test, self.classes_),
            "validation": split_scores(data.labels, proba, holdout.validation, self.classes_),
        }
        self.summary_ = summary_rows(rows)
        metrics: dict[str, Any] = {
            "model": self.model,
            "accuracy": scores["test"]["accuracy"] if scores["test"] else None,
            "f1_macro": scores["test"]["f1_macro"] if scores["test"] else None,
            "test": scores["test"],
            "validation": scores["validation"],
            "baseline": pixel_baseline(data.images, data.labels, holdout.train, holdout.test)
            if self.baseline and len(holdout.test)
            else None,
            "split": {"settings": split.model_dump(), "sizes": holdout.sizes()},
            "images": len(data),
            "skipped": dict(data.skipped),
            "input_shape": list(self._input_shape(pixels)),
            "summary": self.summary_,
            "parameters": sum(r["parameters"] for r in self.summary_),
            "trainable_parameters": sum(
                p.numel() for p in self.network_.parameters() if p.requires_grad
            ),
            "augment": augment.model_dump() if augment is not None else None,
            "transfer": self.transfer_,
            "training_seconds": round(seconds, 3),
            "epochs_run": len(history),
            "best_epoch": trainer.best_epoch_,
            "device": str(self.device_),
            "history": [{k: v for k, v in h.items() if k != "grad_norms"} for h in history],
        }
        if self.curves is not None:
            from .curves import image_curves

            train_labels = [data.labels[i] for i in holdout.train]
            metrics["curves"] = image_curves(
                self, data.images[holdout.train], train_labels, split.seed, where
            )
        monitor = trainer.monitor if len(holdout.validation) else "train_loss"
        parts = np.full(len(data), "train", dtype=object)
        parts[holdout.validation], parts[holdout.test] = "validation", "test"
        write_outputs(folder, metrics, data, proba, self.classes_, list(parts), history, monitor)
        self.metrics_ = metrics
        logger.info(
            "task %s (image-cnn): test accuracy %s on %d images; trained in %.1f s",
            folder.name, metrics["accuracy"], len(holdout.test), seconds,
        )  # fmt: skip
        return self

    def _train(
        self,
        images: np.ndarray,
        y: np.ndarray,
        train: np.ndarray,
        validation: np.ndarray,
        augment: AugmentSettings | None,
        workdir: Path,
        key: str,
    ) -> tuple[Any, list[dict[str, Any]]]:
        """Train `network_` (built and seeded by the caller) on `images[train]`, early stopping
        on `images[validation]` (on the training loss when empty); returns (trainer, history)."""
        from components.models.training import Trainer

        from .augment import ImageBatcher

        batches = ImageBatcher(
            images[train], y[train], batch_size=self.batch_size, shuffle=True, augment=augment,
            seed=self.seed,
        )  # fmt: skip
        val = None
        if len(validation):
            val = ImageBatcher(images[validation], y[validation], batch_size=256, shuffle=False)
        trainer = Trainer(
            epochs=self.epochs, optimizer=self.optimizer, lr=self.lr,
            weight_decay=self.weight_decay, schedule=self.schedule,
            warmup_epochs=self.warmup_epochs, monitor=self.monitor, patience=self.patience,
            device=self.device, seed=None,  # seeded before the network's initialisation
        )  # fmt: skip
        history = trainer.fit(self.network_, batches, val, workdir=workdir, key=key)
        self.device_ = trainer.device_
        return trainer, history

    def _network(self, blocks: list[BlockSettings], rows: list[Any]) -> Any:
        from .network import ImageCnn

        flatten = next(r for r in rows if r.layer == "flatten")
        return ImageCnn(
            self._settings()[0].channels,
            blocks,
            flatten.output[0],
            dense=self.dense,
            dropout=self.dropout,
            num_classes=len(self.classes_),
        )

    def _fit_key(self, data: ImageData, train: np.ndarray) -> str:
        """A fit's fingerprint: the training ids and labels and the parameters (a resumed
        training checkpoint must be of the same fit)."""
        blob = json.dumps(
            [[data.ids[i] for i in train], [data.labels[i] for i in train], self.get_params()],
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    # ------------------------------------------------------------- use

    def _proba(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (softmax of the logits), in input order."""
        from components.models.training import predict_outputs

        from .augment import ImageBatcher

        if len(images) == 0:
            return np.zeros((0, len(self.classes_)))
        batches = ImageBatcher(images, batch_size=256, shuffle=False)
        logits = predict_outputs(self.network_, batches, device=self.device_).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        return proba / proba.sum(axis=1, keepdims=True)

    def evaluate(self, corpus: Iterable[Document]) -> dict[str, Any]:
        """Scores of the fitted task on labelled image documents."""
        from components.ml.metrics import classification_metrics
        from components.models.training import cpu_threads

        pixels, _, _ = self._settings()
        data, _ = collect_images(corpus, pixels=pixels, label=self.label, where="evaluate")
        with cpu_threads(self.threads):
            proba = self._proba(data.images)
        predicted = [self.classes_[i] for i in proba.argmax(axis=1)]
        return classification_metrics(data.labels, predicted, proba, classes=self.classes_)

    def predict(self, texts_or_docs: Iterable[str | Document]) -> Iterator[dict[str, Any]]:
        """`{"label", "probabilities"}` per document with pixel columns, in input order; a
        document without a usable image gets `{"label": None, "skipped": reason}`."""
        pixels, _, _ = self._settings()
        pending: list[tuple[np.ndarray | None, str]] = []
        for item in texts_or_docs:
            if not isinstance(item, Document):
                raise TypeError("image-cnn predicts Documents whose meta['row'] holds the pixels")
            pending.append(document_image(item, self.columns_, pixels))
            if len(pending) == PREDICT_BATCH:
                yield from self._predict_images(pending)
                pending = []
        yield from self._predict_images(pending)

    def _predict_images(
        self, items: list[tuple[np.ndarray | None, str]]
    ) -> Iterator[dict[str, Any]]:
        from components.models.training import cpu_threads

        images = [image for image, _ in items if image is not None]
        with cpu_threads(self.threads):
            proba = iter(self._proba(np.stack(images)) if images else [])
        for image, reason in items:
            if image is None:
                yield {"label": None, "skipped": reason}
            else:
                yield prediction(next(proba), self.classes_)

    # ------------------------------------------------------------- files

    def save(self, folder: Path) -> None:
        """Write `weights.pt` (state dict), `model.json` (input, layers, classes, pixel
        columns) and `task.json` (the parameters)."""
        import torch

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu() for k, v in self.network_.state_dict().items()}
        torch.save(state, folder / WEIGHTS_FILE)
        record = {
            "kind": "image-cnn",
            "classes": self.classes_,
            "columns": self.columns_,
            "summary": self.summary_,
        }
        write_json(folder / MODEL_FILE, record)
        write_json(
            folder / TASK_FILE,
            {"model": self.model, "version": self.version, "params": self.get_params()},
        )

    @classmethod
    def load(cls, folder: Path) -> Self:
        """A fitted task read back from `folder` (weights read with `weights_only=True`)."""
        import torch

        from components.models.training import resolve_device

        from .shapes import plan_network

        folder = Path(folder)
        record = json.loads((folder / TASK_FILE).read_text(encoding="utf-8"))
        if record.get("model") != cls.model:
            raise ValueError(
                f"{folder / TASK_FILE} holds a {record.get('model')!r} task, not image-cnn"
            )
        task = cls(**record["params"])
        model = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
        task.classes_, task.columns_, task.summary_ = (
            model["classes"],
            model["columns"],
            model["summary"],
        )
        pixels, blocks, _ = task._settings()
        rows = plan_network(
            task._input_shape(pixels), blocks, task.dense, len(task.classes_), where=str(folder)
        )
        task.network_ = task._network(blocks, rows)
        task.network_.load_state_dict(torch.load(folder / WEIGHTS_FILE, weights_only=True))
        task.device_ = resolve_device(task.device)
        task.network_.to(task.device_).eval()
        return task
