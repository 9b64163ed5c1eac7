"""The image CNN: conv blocks, flatten, dense layers, dropout, a linear output of logits.

An `nn.Module` that defines `forward` and nothing else: the training core trains it with
cross-entropy on the logits (the softmax is applied when probabilities are read). Its
parts are named for the gradient-norm plot and for transfer: `features` (the conv blocks,
the shared `ConvBlock`), `head` (flatten, dense + ReLU + dropout), `output`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from components.models.training.conv import ConvBlock

from .settings import BlockSettings

__all__ = ["ImageCnn"]


class ImageCnn(nn.Module):
    """Conv → ReLU → Pool per block, then Flatten → (Dense → ReLU → Dropout) per width in
    `dense` (Dropout alone when `dense` is empty) → Linear to `num_classes` logits.

    `flat_features` is the flattened width after the blocks (from `shapes.plan_network`).
    Input: `(batch, in_channels, height, width)` float32 in [0, 1].
    """

    def __init__(
        self,
        in_channels: int,
        blocks: Sequence[BlockSettings],
        flat_features: int,
        *,
        dense: Sequence[int] = (128,),
        dropout: float = 0.3,
        num_classes: int = 10,
    ):
        super().__init__()
        layers = []
        channels = in_channels
        for block in blocks:
            layers.append(
                ConvBlock(
                    channels,
                    block.filters,
                    block.kernel,
                    dims=2,
                    stride=block.stride,
                    padding=block.padding,
                    pool=block.pool,
                    pool_size=block.pool_size,
                    pool_stride=block.pool_stride,
                )
            )
            channels = block.filters
        self.features = nn.Sequential(*layers)
        head: list[nn.Module] = [nn.Flatten()]
        width = flat_features
        for units in dense:
            head += [nn.Linear(width, units), nn.ReLU(), nn.Dropout(dropout)]
            width = units
        if not dense:
            head.append(nn.Dropout(dropout))
        self.head = nn.Sequential(*head)
        self.output = nn.Linear(width, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits `(batch, num_classes)`."""
        return self.output(self.head(self.features(images)))
