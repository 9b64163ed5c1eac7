"""Which device a model trains on: `auto` takes CUDA when torch sees one, else the CPU."""

from __future__ import annotations

from typing import Literal

import torch

from .errors import TrainingError

__all__ = ["DeviceName", "resolve_device"]

DeviceName = Literal["auto", "cpu", "cuda"]


def resolve_device(device: str) -> torch.device:
    """`auto` -> cuda when `torch.cuda.is_available()`, else cpu; `cpu`/`cuda[:N]` as given.

    Asking for `cuda` on a machine without one is a `TrainingError` (use `auto` or `cpu`).
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise TrainingError(
                f"device: {device!r} asked for but torch sees no CUDA device; use 'auto' or 'cpu'"
            )
        return torch.device(device)
    raise TrainingError(f"device: unknown {device!r}; choose auto, cpu or cuda")
