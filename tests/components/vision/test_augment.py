"""Augmentation keeps shapes, changes pixels, is reproducible from its seed, and trains only."""

from __future__ import annotations

import numpy as np
import torch

from components.vision.augment import ImageBatcher, augment_images
from components.vision.settings import AugmentSettings


def _digits(n: int = 16) -> torch.Tensor:
    from sklearn.datasets import load_digits

    return torch.from_numpy(load_digits().images[:n, None].astype(np.float32) / 16.0)


def test_keeps_shapes_and_range_and_changes_pixels():
    images = _digits()
    out = augment_images(
        images, shift=1, rotate=10, noise=0.05, generator=torch.Generator().manual_seed(0)
    )
    assert out.shape == images.shape and out.dtype == images.dtype
    assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0
    changed = (out - images).abs().flatten(1).max(dim=1).values
    assert bool((changed > 0.01).all())  # every image differs
    assert torch.equal(images, _digits())  # the input is not modified


def test_same_seed_same_images_other_seed_other_images():
    images = _digits()

    def draw(seed):
        return augment_images(
            images, shift=1, rotate=15, noise=0.05, generator=torch.Generator().manual_seed(seed)
        )

    assert torch.equal(draw(3), draw(3))
    assert not torch.equal(draw(3), draw(4))


def test_a_shift_alone_moves_whole_pixels():
    images = _digits(64)
    out = augment_images(images, shift=2, generator=torch.Generator().manual_seed(1))
    for before, after in zip(images[:, 0], out[:, 0], strict=True):
        # each output is the input moved by some (dy, dx) in [-2, 2]², zeros coming in
        matches = []
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                moved = torch.zeros_like(before)
                src = before[max(0, -dy) : 8 - max(0, dy), max(0, -dx) : 8 - max(0, dx)]
                moved[max(0, dy) : 8 - max(0, -dy), max(0, dx) : 8 - max(0, -dx)] = src
                matches.append(torch.allclose(after, moved, atol=1e-5))
        assert any(matches)


def test_rotation_preserves_most_of_the_ink():
    images = _digits(64)
    out = augment_images(images, rotate=10, generator=torch.Generator().manual_seed(2))
    ratio = out.sum(dim=(1, 2, 3)) / images.sum(dim=(1, 2, 3))
    assert float(ratio.min()) > 0.8 and float(ratio.max()) < 1.2


def test_batcher_augments_training_batches_only_and_resumes_its_draws():
    images = _digits(40).numpy()
    targets = np.arange(40) % 10
    settings = AugmentSettings(shift=1, rotate=10, noise=0.05)
    plain = ImageBatcher(images, targets, batch_size=16, shuffle=False)
    first = next(iter(plain))
    assert torch.equal(first.inputs[0], torch.from_numpy(images[:16]))
    train = ImageBatcher(images, targets, batch_size=16, augment=settings, seed=5)
    state = train.state_dict()
    epoch1 = [b.inputs[0].clone() for b in train]
    train.load_state_dict(state)
    again = [b.inputs[0] for b in train]
    assert all(torch.equal(a, b) for a, b in zip(epoch1, again, strict=True))
    batch = epoch1[0]
    assert batch.shape == (16, 1, 8, 8)
    epoch2 = [b.inputs[0] for b in train]
    assert not torch.equal(epoch1[0], epoch2[0])  # new draws every epoch
