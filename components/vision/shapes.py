"""Every layer's output shape and parameter count, computed before any training.

`plan_network` walks the conv blocks with the training core's `plan_conv_block`
(`(n - f + 2p)/s + 1` per axis, for every conv and pool), then the flatten, dense and
output layers. A layer that does not fit is one `ConfigError` naming the block's key
(`tasks.NAME.blocks[1].kernel: ...`) and the sizes; the result is the summary table that
the task writes into `metrics.json` and its report section.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pipeline.config import ConfigError

from .settings import BlockSettings

__all__ = ["LayerRow", "plan_network", "summary_rows"]


@dataclass(frozen=True)
class LayerRow:
    """One row of the summary: the layer's name, its output shape (channels first, no
    batch), its trainable parameters, and a note (positions a pool leaves out)."""

    layer: str
    output: tuple[int, ...]
    parameters: int
    note: str = ""


def plan_network(
    input_shape: Sequence[int],
    blocks: Sequence[BlockSettings],
    dense: Sequence[int],
    num_classes: int,
    *,
    where: str,
) -> list[LayerRow]:
    """The layers of the image CNN over `input_shape` (channels, height, width), in order.

    Raises `ConfigError` at `{where}.blocks[i].KEY` for a conv or pool that does not fit.
    """
    from components.models.training.conv import (
        ConvShapeError,
        conv_parameter_count,
        plan_conv_block,
    )

    channels, *sizes = (int(n) for n in input_shape)
    rows = [LayerRow("input", (channels, *sizes), 0)]
    for i, block in enumerate(blocks):
        try:
            plan = plan_conv_block(
                sizes,
                kernel=block.kernel,
                stride=block.stride,
                padding=block.padding,
                pool=block.pool,
                pool_size=block.pool_size,
                pool_stride=block.pool_stride,
            )
        except ConvShapeError as exc:
            shown = f"{channels}×{'×'.join(map(str, sizes))}"
            raise ConfigError(
                f"{where}.blocks[{i}].{exc.key}: block {i} (input {shown}): {exc}"
            ) from None
        params = conv_parameter_count(channels, block.filters, block.kernel, dims=2)
        channels = block.filters
        conv = plan[0]
        rows.append(LayerRow(f"blocks[{i}].conv+relu", (channels, *conv.size), params))
        sizes = list(conv.size)
        if len(plan) > 1:
            pool = plan[1]
            note = ""
            if any(pool.dropped):
                note = (
                    f"pool floors {'×'.join(f'{e:g}' for e in pool.exact)}: the last "
                    f"{max(pool.dropped)} row(s)/column(s) are left out"
                )
            rows.append(LayerRow(f"blocks[{i}].{block.pool}pool", (channels, *pool.size), 0, note))
            sizes = list(pool.size)
    width = channels
    for n in sizes:
        width *= n
    rows.append(LayerRow("flatten", (width,), 0))
    for j, units in enumerate(dense):
        rows.append(LayerRow(f"dense[{j}]+relu+dropout", (units,), width * units + units))
        width = units
    rows.append(
        LayerRow("output (logits; softmax)", (num_classes,), width * num_classes + num_classes)
    )
    return rows


def summary_rows(rows: Sequence[LayerRow]) -> list[dict[str, Any]]:
    """The summary as JSON-ready dicts (shapes as lists)."""
    return [{**asdict(row), "output": list(row.output)} for row in rows]
