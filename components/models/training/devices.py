"""Which device a model trains on: `auto` takes CUDA when torch sees one, else the CPU."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import torch

from .errors import TrainingError

__all__ = ["DeviceName", "cpu_threads", "resolve_device"]

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


@contextmanager
def cpu_threads(threads: int) -> Iterator[None]:
    """Run the block with torch using `threads` CPU threads (0: leave torch's setting), then
    restore the previous count.

    Why not torch's default (one thread per core): the models here are small, so a second
    thread buys little, and when another process holds a core, torch's threads wait on each
    other. Measured on 2 cores with one busy: a GRU's 3 epochs on 160 posts took 8.9 s on one
    thread and 70 s on two.
    """
    if threads <= 0:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
