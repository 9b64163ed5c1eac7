"""Training-time augmentation (shifts, small rotations, Gaussian noise) and the image batcher.

`augment_images` moves each image by a random affine map (rotation about the centre,
then a whole-pixel shift) with `affine_grid` / `grid_sample` (bilinear, zeros outside),
then adds noise and clips to [0, 1]. Every draw comes from the `torch.Generator` it is
given, so the same seed gives the same images. torchvision is not used: two torch calls
do what it would.

`ImageBatcher` yields the training core's `Batch`es of images; with `augment` set it
augments each training batch afresh every epoch from its own seeded generator, whose state
goes into the Trainer's checkpoints (a resumed run draws what an unbroken one would).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from components.models.training import Batch

from .settings import AugmentSettings

__all__ = ["ImageBatcher", "augment_images"]


def augment_images(
    images: torch.Tensor,
    *,
    shift: int = 0,
    rotate: float = 0.0,
    noise: float = 0.0,
    generator: torch.Generator,
) -> torch.Tensor:
    """A new tensor of `images` (batch, channels, height, width) each shifted by a whole
    number of pixels in [-shift, shift] per axis, rotated by an angle in [-rotate, rotate]
    degrees and given Gaussian noise of standard deviation `noise`, clipped to [0, 1].
    Same shape and dtype; the input is not changed."""
    n, _, height, width = images.shape
    out = images
    if shift or rotate:
        angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(rotate)
        dx = torch.randint(-shift, shift + 1, (n,), generator=generator).float()
        dy = torch.randint(-shift, shift + 1, (n,), generator=generator).float()
        cos, sin = torch.cos(angle), torch.sin(angle)
        theta = torch.zeros(n, 2, 3)
        # affine_grid's coordinates run over [-1, 1] on each axis: a pixel is 2 / size;
        # the aspect ratio keeps the rotation a rotation on non-square images
        theta[:, 0, 0], theta[:, 0, 1] = cos, -sin * height / width
        theta[:, 1, 0], theta[:, 1, 1] = sin * width / height, cos
        theta[:, 0, 2], theta[:, 1, 2] = 2 * dx / width, 2 * dy / height
        theta = theta.to(images.device, images.dtype)
        grid = F.affine_grid(theta, list(images.shape), align_corners=False)
        out = F.grid_sample(
            images, grid, mode="bilinear", padding_mode="zeros", align_corners=False
        )
    if noise:
        draw = torch.randn(images.shape, generator=generator).to(images.device, images.dtype)
        out = out + noise * draw
    if out is images:
        return images.clone()
    return out.clamp(0.0, 1.0)


class ImageBatcher:
    """Mini-batches `Batch((images,), target, index)` of an image array (N, C, H, W).

    With `shuffle`, each epoch permutes the images with the batcher's seeded generator;
    with `augment` (an `AugmentSettings` whose values are not all 0), each batch is
    augmented with the same generator. Every `iter()` is one epoch.
    """

    def __init__(
        self,
        images: np.ndarray,
        targets: Sequence[int] | np.ndarray | None = None,
        *,
        batch_size: int = 64,
        shuffle: bool = True,
        augment: AugmentSettings | None = None,
        seed: int = 0,
    ):
        self.images = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
        self.targets = None if targets is None else torch.as_tensor(np.asarray(targets))
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.augment = augment
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-len(self.images) // self.batch_size)

    def state_dict(self) -> dict[str, Any]:
        """The generator's state (a byte tensor), for checkpoints."""
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore `state_dict()`'s output."""
        self.generator.set_state(state["generator"])

    def __iter__(self) -> Iterator[Batch]:
        n = len(self.images)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        augment = self.augment
        active = augment is not None and (augment.shift or augment.rotate or augment.noise)
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]
            images = self.images[rows]
            if active:
                assert augment is not None
                images = augment_images(
                    images,
                    shift=augment.shift,
                    rotate=augment.rotate,
                    noise=augment.noise,
                    generator=self.generator,
                )
            target = None if self.targets is None else self.targets[rows]
            yield Batch((images,), target, rows)
