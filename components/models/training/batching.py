"""Mini-batches: padded token-id sequences bucketed by length, and rows of a feature matrix.

Each batcher is a restartable iterable: every `iter()` is one epoch. With `shuffle`, the
order comes from the batcher's own seeded `torch.Generator`, whose state `state_dict()`
returns so a resumed run continues the same sequence of epochs. A batch is a `Batch`:
`inputs` (the network's positional arguments), `target` (or None) and `index` (each row's
position in the input, to put predictions back in order).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

__all__ = ["Batch", "BucketBatcher", "FeatureBatcher"]


class Batch(NamedTuple):
    """One mini-batch: `model(*inputs)` gives the output compared with `target`."""

    inputs: tuple[torch.Tensor, ...]
    target: torch.Tensor | None
    index: torch.Tensor


class _Seeded:
    """The batchers' shared generator handling."""

    generator: torch.Generator

    def state_dict(self) -> dict[str, Any]:
        """The generator's state (a byte tensor), for checkpoints."""
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore `state_dict()`'s output."""
        self.generator.set_state(state["generator"])


class BucketBatcher(_Seeded):
    """Batches of token-id sequences, padded with 0, of similar lengths.

    Sequences are cut at `max_length` (and padded to at least `min_length`; an empty one
    becomes a single pad). With `shuffle`, each epoch permutes the sequences, sorts them by
    length within chunks of `bucket_chunks` batches, cuts the chunks into batches and
    shuffles the batch order. Without it, batches follow the input order, or ascending
    length with `sort_by_length` (for fast prediction: use `Batch.index`).
    `inputs` are `(ids (batch, time) int64, lengths (batch,) int64)`.
    """

    def __init__(
        self,
        sequences: Sequence[Sequence[int]],
        targets: Sequence[int] | np.ndarray | None = None,
        *,
        batch_size: int = 32,
        max_length: int = 256,
        min_length: int = 1,
        shuffle: bool = True,
        sort_by_length: bool = False,
        bucket_chunks: int = 50,
        seed: int = 0,
    ):
        self.sequences = [np.asarray(s[:max_length], dtype=np.int64) for s in sequences]
        self.lengths = np.fromiter((max(1, len(s)) for s in self.sequences), dtype=np.int64)
        self.targets = None if targets is None else torch.as_tensor(np.asarray(targets))
        self.batch_size = batch_size
        self.max_length = max_length
        self.min_length = min_length
        self.shuffle = shuffle
        self.sort_by_length = sort_by_length
        self.bucket_chunks = bucket_chunks
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-len(self.sequences) // self.batch_size)

    def epoch_indices(self) -> list[np.ndarray]:
        """The row indices of each batch of the next epoch (draws from the generator)."""
        n, size = len(self.sequences), self.batch_size
        if not self.shuffle:
            order = np.argsort(self.lengths, kind="stable") if self.sort_by_length else np.arange(n)
            return [order[i : i + size] for i in range(0, n, size)]
        order = torch.randperm(n, generator=self.generator).numpy()
        chunk = size * self.bucket_chunks
        batches = []
        for start in range(0, n, chunk):
            part = order[start : start + chunk]
            part = part[np.argsort(self.lengths[part], kind="stable")]
            batches.extend(part[i : i + size] for i in range(0, len(part), size))
        shuffled = torch.randperm(len(batches), generator=self.generator).tolist()
        return [batches[i] for i in shuffled]

    def __iter__(self) -> Iterator[Batch]:
        for rows in self.epoch_indices():
            lengths = self.lengths[rows]
            ids = np.zeros((len(rows), max(int(lengths.max()), self.min_length)), dtype=np.int64)
            for r, row in enumerate(rows):
                seq = self.sequences[row]
                ids[r, : len(seq)] = seq
            target = None if self.targets is None else self.targets[torch.from_numpy(rows)]
            yield Batch(
                (torch.from_numpy(ids), torch.from_numpy(lengths)), target, torch.from_numpy(rows)
            )


class FeatureBatcher(_Seeded):
    """Batches of rows of a feature matrix (dense numpy or scipy sparse), as float32 tensors.

    With `shuffle`, each epoch permutes the rows with the batcher's seeded generator.
    `inputs` are `(features (batch, n_features) float32,)`.
    """

    def __init__(
        self,
        features: Any,
        targets: Sequence[int] | np.ndarray | None = None,
        *,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int = 0,
    ):
        self.features = features
        self.targets = None if targets is None else torch.as_tensor(np.asarray(targets))
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-self.features.shape[0] // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        n = self.features.shape[0]
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).numpy()
        else:
            order = np.arange(n)
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]
            block = self.features[rows]
            dense = block.toarray() if hasattr(block, "toarray") else np.asarray(block)
            target = None if self.targets is None else self.targets[torch.from_numpy(rows)]
            yield Batch(
                (torch.from_numpy(dense.astype(np.float32, copy=False)),),
                target,
                torch.from_numpy(rows),
            )
