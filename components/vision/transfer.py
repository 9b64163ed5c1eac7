"""Transfer: the conv blocks of a fitted image-cnn task folder copied into a new network.

The source folder's `weights.pt` (a state dict, read with `weights_only=True`) gives the
`features.*` tensors; each must have the shape of the new network's tensor of the same
name (same filters, kernels and input channels), else one `ConfigError` at
`tasks.NAME.transfer.from` lists the mismatches. The head and the output are new (the new
task's classes); `freeze` stops the copied blocks' training.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.config import ConfigError

__all__ = ["MODEL_FILE", "WEIGHTS_FILE", "copy_conv_blocks", "resolve_source"]

WEIGHTS_FILE = "weights.pt"
MODEL_FILE = "model.json"


def resolve_source(source: str, task_folder: Path, *, where: str) -> Path:
    """The fitted task folder `source` names: a path, else an earlier task of this run
    (`RUN/tasks/SOURCE`). A folder without an image-cnn model is a `ConfigError`."""
    path = Path(source).expanduser()
    sibling = Path(task_folder).parent / source
    if not (path / MODEL_FILE).is_file() and (sibling / MODEL_FILE).is_file():
        path = sibling
    if not (path / MODEL_FILE).is_file() or not (path / WEIGHTS_FILE).is_file():
        raise ConfigError(
            f"{where}.transfer.from: {source!r} is not a fitted image-cnn task folder (no "
            f"{MODEL_FILE} and {WEIGHTS_FILE} in {path}); give RUN/tasks/NAME of a fitted "
            "image-cnn task, or the name of an earlier image-cnn task of this run"
        )
    record = json.loads((path / MODEL_FILE).read_text(encoding="utf-8"))
    if record.get("kind") != "image-cnn":
        raise ConfigError(f"{where}.transfer.from: {path} holds no image-cnn model")
    return path


def copy_conv_blocks(network: Any, source: Path, *, freeze: bool, where: str) -> dict[str, Any]:
    """Copy the source's conv-block weights into `network.features` (shapes checked) and
    freeze them when asked; returns what was copied (for metrics.json)."""
    import torch

    state = torch.load(Path(source) / WEIGHTS_FILE, map_location="cpu", weights_only=True)
    theirs = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
    ours = network.features.state_dict()
    problems = []
    for name, tensor in ours.items():
        shown = "blocks[{}] {}".format(*name.split(".", 1))  # "0.conv.weight"
        if name not in theirs:
            problems.append(f"{shown}: missing in the source (it has {len(theirs)} conv tensors)")
        elif tuple(theirs[name].shape) != tuple(tensor.shape):
            problems.append(
                f"{shown}: source {list(theirs[name].shape)} vs here {list(tensor.shape)}"
            )
    extra = sorted(set(theirs) - set(ours))
    if extra:
        problems.append(f"the source has more conv blocks ({len(extra)} more tensors)")
    if problems:
        raise ConfigError(
            f"{where}.transfer.from: the conv blocks of {source} do not fit this task's "
            f"blocks: {'; '.join(problems[:4])}. Use the same filters, kernels and channels "
            "as the source task"
        )
    network.features.load_state_dict(theirs)
    for param in network.features.parameters():
        param.requires_grad_(not freeze)
    return {
        "from": str(source),
        "freeze": freeze,
        "tensors": sorted(ours),
        "parameters": int(sum(t.numel() for t in ours.values())),
    }
