"""The shared torch training core: every torch model of the project trains through it.

A network is an `nn.Module` that only defines `forward`; the `Trainer` owns the loop:
optimizers, learning-rate schedules and losses by name, L1/L2 penalties, gradient
clipping, early stopping with the best weights restored, per-epoch history with
per-layer gradient norms, the gradient reaching each input position (`gradient_probe`),
atomic checkpoints resumed after a kill, CPU or CUDA.
Batchers pad and bucket token-id sequences; `plots` draws the learning curve and the
gradient norms. Everything saved is plain tensors/JSON, loaded with `weights_only=True`.
"""

from __future__ import annotations

from .batching import Batch, BucketBatcher, FeatureBatcher
from .checkpoint import CHECKPOINT_FILE, load_checkpoint, save_atomic
from .devices import DeviceName, cpu_threads, resolve_device
from .early_stopping import MONITORS, EarlyStopping, Monitor, monitor_mode
from .errors import TrainingError
from .gradient_probe import GradientByPosition, PositionGradientRecorder, gradient_by_position
from .losses import LOSSES, LossName, balanced_class_weights, l1_penalty, make_loss
from .metrics import accuracy, macro_f1
from .optimizers import OPTIMIZERS, OptimizerName, make_optimizer
from .plots import plot_gradient_by_position, plot_gradient_norms, plot_learning_curve
from .schedules import SCHEDULES, EpochSchedule, ScheduleName
from .seeding import rng_state, seed_everything, set_rng_state
from .trainer import HISTORY_FILE, TRAINED_FILE, Trainer, evaluate, predict_outputs

__all__ = [
    "CHECKPOINT_FILE",
    "HISTORY_FILE",
    "LOSSES",
    "MONITORS",
    "OPTIMIZERS",
    "SCHEDULES",
    "TRAINED_FILE",
    "Batch",
    "BucketBatcher",
    "DeviceName",
    "EarlyStopping",
    "EpochSchedule",
    "FeatureBatcher",
    "GradientByPosition",
    "LossName",
    "Monitor",
    "OptimizerName",
    "PositionGradientRecorder",
    "ScheduleName",
    "Trainer",
    "TrainingError",
    "accuracy",
    "balanced_class_weights",
    "evaluate",
    "gradient_by_position",
    "l1_penalty",
    "load_checkpoint",
    "macro_f1",
    "make_loss",
    "make_optimizer",
    "monitor_mode",
    "plot_gradient_by_position",
    "plot_gradient_norms",
    "plot_learning_curve",
    "predict_outputs",
    "cpu_threads",
    "resolve_device",
    "rng_state",
    "save_atomic",
    "seed_everything",
    "set_rng_state",
]
