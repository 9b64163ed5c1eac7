"""Checkpoints and final weights: `torch.save` of plain data, written atomically.

Files hold only tensors, dicts, lists, strings, ints, floats, bools and None, and are read
with `torch.load(weights_only=True)`, which refuses anything else: loading never unpickles
code. A write goes to a temporary file in the same folder, then `os.replace`, so a run
killed mid-write leaves the previous checkpoint whole.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

__all__ = ["CHECKPOINT_FILE", "load_checkpoint", "save_atomic"]

CHECKPOINT_FILE = "checkpoint.pt"


def save_atomic(data: Any, path: Path) -> None:
    """`torch.save(data)` into `path` through a temporary file and `os.replace`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: Path, key: str) -> dict[str, Any] | None:
    """The checkpoint at `path` when it exists and was saved under `key`; None otherwise."""
    if not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("key") != key:
        return None
    return state
