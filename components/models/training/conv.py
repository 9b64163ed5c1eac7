"""Convolution blocks shared by the image CNN (`components.vision`) and the text CNN.

`conv_output_size(n, f, p, s)` is the textbook `(n - f + 2p) / s + 1`, exact (a float
when the stride does not tile the input). `plan_conv_block` computes a block's output
sizes before any tensor exists and refuses one that does not fit (`ConvShapeError`, which
names the setting to change); `ConvBlock` is the block itself: Conv1d/Conv2d, ReLU, then
an optional max or average pool.

What does not fit: an output below 1 (the kernel or pool window is wider than its input),
and a convolution whose stride leaves real input positions that no filter ever sees
(PyTorch would floor the size and drop them silently; positions of zero padding may go).
A pool window that does not tile its input is allowed, floored as PyTorch does, and
reported in `dropped`: halving an odd-sized map is a usual, deliberate choice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from torch import Tensor, nn

__all__ = [
    "ConvBlock",
    "ConvShapeError",
    "LayerSize",
    "Padding",
    "PoolName",
    "conv_output_size",
    "conv_parameter_count",
    "plan_conv_block",
    "resolve_padding",
]

Padding = int | Literal["same", "valid"]
PoolName = Literal["max", "avg", "none"]


class ConvShapeError(ValueError):
    """A convolution or pool that does not fit its input; `key` names the setting to change
    (`kernel`, `stride`, `padding`, `pool_size`), the message gives the sizes."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


def conv_output_size(n: int, f: int, p: int = 0, s: int = 1) -> float:
    """`(n - f + 2p) / s + 1`: the output length of a window `f` wide moved by stride `s`
    over `n` positions padded by `p` on each side; a float when the stride does not tile
    (PyTorch floors it), below 1 when the window does not fit."""
    return (n - f + 2 * p) / s + 1


def resolve_padding(padding: Padding, kernel: int) -> int:
    """Padding per side: `valid` -> 0, `same` -> (kernel - 1) / 2 (odd kernels only, so the
    padding is symmetric and a stride-1 output keeps the input's size), an int as given."""
    if padding == "valid":
        return 0
    if padding == "same":
        if kernel % 2 == 0:
            raise ConvShapeError(
                "padding",
                f"'same' needs an odd kernel (got {kernel}): the padding (kernel - 1) / 2 "
                "must be whole; use an odd kernel, padding: valid, or an int",
            )
        return (kernel - 1) // 2
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ConvShapeError("padding", f"{padding!r} is invalid: use same, valid or an int >= 0")
    return padding


@dataclass(frozen=True)
class LayerSize:
    """One layer's output along each spatial axis: `size` (what PyTorch gives), `exact`
    (the formula's value) and `dropped` (input positions at the far edge left out)."""

    layer: Literal["conv", "pool"]
    size: tuple[int, ...]
    exact: tuple[float, ...]
    dropped: tuple[int, ...]


def _axis(n: int, f: int, p: int, s: int) -> tuple[int, float, int]:
    """(floored size, exact size, positions beyond the last window) along one axis."""
    exact = conv_output_size(n, f, p, s)
    size = math.floor(exact)
    leftover = (n + 2 * p - f) % s if n + 2 * p >= f else 0
    return size, exact, leftover


def plan_conv_block(
    sizes: Sequence[int],
    *,
    kernel: int,
    stride: int = 1,
    padding: Padding = "same",
    pool: PoolName = "max",
    pool_size: int = 2,
    pool_stride: int | None = None,
) -> list[LayerSize]:
    """The conv (and pool) output sizes of one block over an input of spatial `sizes`
    ((H, W) for images, (T,) for text), computed with `conv_output_size` per axis.

    Raises `ConvShapeError` when a layer does not fit (see the module docstring).
    """
    if kernel < 1 or stride < 1:
        key = "kernel" if kernel < 1 else "stride"
        raise ConvShapeError(
            key, f"must be at least 1 (got {kernel if key == 'kernel' else stride})"
        )
    p = resolve_padding(padding, kernel)
    shown = "×".join(map(str, sizes))
    conv = [_axis(n, kernel, p, stride) for n in sizes]
    if any(size < 1 for size, _, _ in conv):
        exact = min(e for _, e, _ in conv)
        raise ConvShapeError(
            "kernel",
            f"a {kernel}-wide kernel does not fit the {shown} input with padding {p}, stride "
            f"{stride}: (n - f + 2p)/s + 1 = {exact:g} < 1; use a smaller kernel, padding: "
            "same, or fewer pools before this block",
        )
    unseen = [max(0, leftover - p) for _, _, leftover in conv]
    if any(unseen):
        exact = [round(e, 3) for _, e, _ in conv]
        raise ConvShapeError(
            "stride",
            f"stride {stride} over the {shown} input (kernel {kernel}, padding {p}) gives "
            f"(n - f + 2p)/s + 1 = {exact}, not whole: the last {max(unseen)} row(s)/column(s) "
            "of real input would never be seen (PyTorch floors silently); change the stride, "
            "kernel or padding so the windows tile the input",
        )
    plan = [
        LayerSize(
            "conv", tuple(s for s, _, _ in conv), tuple(e for _, e, _ in conv), (0,) * len(sizes)
        )
    ]
    if pool == "none":
        return plan
    step = pool_stride or pool_size
    if pool_size < 1 or step < 1:
        raise ConvShapeError("pool_size", f"must be at least 1 (got {pool_size}, stride {step})")
    after = [_axis(n, pool_size, 0, step) for n in plan[0].size]
    if any(size < 1 for size, _, _ in after):
        raise ConvShapeError(
            "pool_size",
            f"a {pool_size}-wide {pool} pool does not fit the {'×'.join(map(str, plan[0].size))} "
            f"map of the conv before it: (n - f)/s + 1 < 1; use a smaller pool_size, "
            "pool: none, or padding: same in the earlier blocks",
        )
    plan.append(
        LayerSize(
            "pool",
            tuple(s for s, _, _ in after),
            tuple(e for _, e, _ in after),
            tuple(left for _, _, left in after),
        )
    )
    return plan


def conv_parameter_count(in_channels: int, out_channels: int, kernel: int, dims: int = 2) -> int:
    """Weights plus biases of a Conv{dims}d: `in * out * kernel**dims + out`."""
    return in_channels * out_channels * kernel**dims + out_channels


class ConvBlock(nn.Module):
    """Conv1d (`dims=1`) or Conv2d (`dims=2`), ReLU, then a `max` / `avg` pool of
    `pool_size` (stride `pool_stride`, default the size) or none. `padding`: same (odd
    kernels), valid, or an int per side. Parameters: `conv.weight`, `conv.bias`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        *,
        dims: int = 2,
        stride: int = 1,
        padding: Padding = "valid",
        pool: PoolName = "none",
        pool_size: int = 2,
        pool_stride: int | None = None,
    ):
        super().__init__()
        if dims not in (1, 2):
            raise ValueError(f"dims must be 1 or 2, got {dims}")
        conv_class = nn.Conv1d if dims == 1 else nn.Conv2d
        self.conv = conv_class(
            in_channels,
            out_channels,
            kernel,
            stride=stride,
            padding=resolve_padding(padding, kernel),
        )
        self.activation = nn.ReLU()
        self.pool: nn.Module
        if pool == "none":
            self.pool = nn.Identity()
        else:
            pools = {
                ("max", 1): nn.MaxPool1d,
                ("max", 2): nn.MaxPool2d,
                ("avg", 1): nn.AvgPool1d,
                ("avg", 2): nn.AvgPool2d,
            }
            self.pool = pools[(pool, dims)](pool_size, stride=pool_stride or pool_size)

    @property
    def kernel_size(self) -> int:
        """The convolution's window width."""
        return int(self.conv.kernel_size[0])

    def forward(self, x: Tensor) -> Tensor:
        """`pool(relu(conv(x)))`: (batch, channels, *sizes) -> (batch, out_channels, *sizes')."""
        return self.pool(self.activation(self.conv(x)))
