"""The image CNN's settings as pydantic models: the schema of its config keys.

`BlockSettings` (one conv block), `PixelSettings` (where the pixels are in each row),
`AugmentSettings` and `TransferSettings`, plus `settings_problems`: the cheap checks
that types cannot express, as "key: message" lines. No torch here: the engine imports
this module to validate a config, and `nlp validate` must stay fast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DEFAULT_BLOCKS",
    "AugmentSettings",
    "BlockSettings",
    "PixelSettings",
    "TransferSettings",
    "plain",
    "settings_problems",
]


class BlockSettings(BaseModel):
    """One conv block: `filters` of `kernel` × `kernel` at `stride`, `padding` (same: odd
    kernels, the output keeps the input's size at stride 1 | valid: none | an int per
    side), ReLU, then a `pool` (max | avg | none) of `pool_size` (stride `pool_stride`,
    default the size)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    filters: int = 32
    kernel: int = 3
    stride: int = 1
    padding: int | Literal["same", "valid"] = "same"
    pool: Literal["max", "avg", "none"] = "max"
    pool_size: int = 2
    pool_stride: int | None = None


DEFAULT_BLOCKS = (BlockSettings(filters=32), BlockSettings(filters=64))


class PixelSettings(BaseModel):
    """Where each document's image is: `columns` of `meta["row"]` (a glob such as
    `pixel_*`, matched columns in natural order: pixel_2 before pixel_10; or a list in
    order), row-major, channels last (H, W, C); `shape` [height, width]; `channels`; values
    divided by `scale` (16 for scikit-learn's digits, 255 for 8-bit images) to lie in [0, 1]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: str | list[str] = "pixel_*"
    shape: tuple[int, int] = (8, 8)
    channels: int = 1
    scale: float = 16.0


class AugmentSettings(BaseModel):
    """Training-time augmentation, drawn per image and epoch from the task's seed: a shift
    of up to `shift` pixels along each axis, a rotation of up to `rotate` degrees either
    way, Gaussian `noise` of that standard deviation (on the [0, 1] scale). 0 turns one off."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shift: int = 0
    rotate: float = 0.0
    noise: float = 0.0


class TransferSettings(BaseModel):
    """Start the conv blocks from a fitted image-cnn task folder (`from`: its path, or the
    name of an earlier task of this run); `freeze` keeps them fixed (only the new head
    trains), else they are fine-tuned with the head."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, serialize_by_alias=True
    )

    from_: str = Field(alias="from")
    freeze: bool = True


def settings_problems(params: Mapping[str, Any]) -> list[str]:
    """Problems with validated image-cnn settings that types cannot express (cheap; the
    sizes of each layer are checked by the task before training, with torch loaded)."""
    problems: list[str] = []
    blocks = [BlockSettings.model_validate(b) for b in params.get("blocks") or []]
    if not blocks:
        problems.append("blocks: [] is invalid: list at least one conv block")
    for i, block in enumerate(blocks):
        for key in ("filters", "kernel", "stride", "pool_size"):
            if getattr(block, key) < 1:
                problems.append(f"blocks[{i}].{key}: {getattr(block, key)} must be at least 1")
        if block.pool_stride is not None and block.pool_stride < 1:
            problems.append(f"blocks[{i}].pool_stride: {block.pool_stride} must be at least 1")
        if isinstance(block.padding, int) and block.padding < 0:
            problems.append(f"blocks[{i}].padding: {block.padding} must be >= 0")
        if block.padding == "same" and block.kernel % 2 == 0:
            problems.append(
                f"blocks[{i}].padding: 'same' needs an odd kernel (kernel is {block.kernel}); "
                "use an odd kernel, padding: valid, or an int"
            )
    problems += _pixel_problems(params.get("pixels"))
    dense: Sequence[int] = params.get("dense") or []
    problems += [f"dense[{i}]: {w} must be at least 1" for i, w in enumerate(dense) if w < 1]
    dropout = params.get("dropout", 0.0)
    if not 0.0 <= dropout < 1.0:
        problems.append(f"dropout: {dropout} is invalid: must be in [0, 1)")
    if params.get("augment") is not None:
        augment = AugmentSettings.model_validate(params["augment"])
        if augment.shift < 0 or augment.noise < 0 or not 0 <= augment.rotate <= 180:
            problems.append(
                "augment: shift and noise must be >= 0 and rotate in [0, 180] degrees "
                f"(got {augment.model_dump()})"
            )
    for key in ("epochs", "batch_size"):
        if params.get(key, 1) < 1:
            problems.append(f"{key}: {params[key]} must be at least 1")
    return problems


def _pixel_problems(pixels: Any) -> list[str]:
    settings = PixelSettings.model_validate(pixels or {})
    problems = []
    if min(settings.shape) < 1:
        problems.append(f"pixels.shape: {list(settings.shape)} must be two sizes >= 1")
    if settings.channels < 1:
        problems.append(f"pixels.channels: {settings.channels} must be at least 1")
    if settings.scale <= 0:
        problems.append(f"pixels.scale: {settings.scale} must be > 0")
    if isinstance(settings.columns, list):
        needed = settings.shape[0] * settings.shape[1] * settings.channels
        if len(settings.columns) != needed:
            problems.append(
                f"pixels.columns: {len(settings.columns)} columns listed, but shape "
                f"{list(settings.shape)} × {settings.channels} channel(s) needs {needed}"
            )
    return problems


def plain(value: Any) -> Any:
    """A parameter value as JSON-ready data (settings as mappings by alias, tuples as lists)."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value
