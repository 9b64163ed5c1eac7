"""How much gradient reaches each input position: the direct view of vanishing gradients.

A layer's total gradient norm (the Trainer's `grad_norms`) mixes every position: the
embedding's is dominated by the last tokens, so it hides what reaches the early ones.
`gradient_by_position` measures ||dloss/d embedding|| at each distance from a document's
last real token (Bengio et al. 1994; Pascanu et al. 2013): an Elman RNN read to its last
token loses orders of magnitude over a few dozen steps, an LSTM far less.
`PositionGradientRecorder` takes that measurement during a `Trainer.fit` (as its
`log_epoch`) and after it, without changing what training computes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from .batching import Batch
from .errors import TrainingError
from .seeding import rng_state, set_rng_state

__all__ = ["GradientByPosition", "PositionGradientRecorder", "gradient_by_position"]


@dataclass(frozen=True)
class GradientByPosition:
    """`mean_norm[d]`: mean L2 norm of dloss/d embedding at distance `d` from the last real
    token (0 = the last token), over the `documents[d]` documents long enough to have it.
    `padding_max_norm`: the largest norm found at any padded position (0 when the network
    ignores padding)."""

    mean_norm: list[float]
    documents: list[int]
    padding_max_norm: float

    def relative(self, distance: int) -> float:
        """`mean_norm[distance] / mean_norm[0]` (nan where no document reaches `distance`)."""
        if distance >= len(self.mean_norm) or not self.mean_norm[0]:
            return float("nan")
        return self.mean_norm[distance] / self.mean_norm[0]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return asdict(self)


def gradient_by_position(
    model: torch.nn.Module,
    batches: Iterable[Batch],
    *,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    max_documents: int = 64,
    embedding: torch.nn.Module | None = None,
) -> GradientByPosition:
    """Gradient norm of each document's loss w.r.t. its input embeddings, by distance from
    its last real token, over the first `max_documents` rows of `batches` (`(ids, lengths)`
    inputs, pad id 0). Runs forward and backward in train mode (as training sees it) but
    takes no step, leaves no `.grad` on the parameters, and restores the mode and RNGs.
    `embedding`: the module whose output is the per-position input (`model.embedding`)."""
    module = embedding if embedding is not None else getattr(model, "embedding", None)
    if not isinstance(module, torch.nn.Module):
        raise TrainingError(
            f"{type(model).__name__} has no `embedding` module: pass `embedding=` the module "
            "whose output holds one vector per token (a network without positions, such as "
            "the MLP, has nothing to measure here)"
        )
    loss_fn = loss_fn if loss_fn is not None else torch.nn.functional.cross_entropy
    device = next(model.parameters()).device
    captured: list[torch.Tensor] = []

    def capture(_module: torch.nn.Module, _args: Any, output: torch.Tensor) -> torch.Tensor:
        # a fresh leaf per call: its gradient is exactly dloss/d(embedding output), and no
        # gradient flows on into the embedding weights
        leaf = output.detach().requires_grad_(True)
        captured.append(leaf)
        return leaf

    sums = np.zeros(0)
    counts = np.zeros(0, dtype=np.int64)
    padding_max = 0.0
    seen = 0
    was_training = model.training
    saved_rng = rng_state()
    handle = module.register_forward_hook(capture)
    try:
        model.train()
        with torch.enable_grad():
            for batch in batches:
                if seen >= max_documents:
                    break
                ids, lengths = _sequence_inputs(batch, model)
                keep = min(len(ids), max_documents - seen)
                ids, lengths = ids[:keep].to(device), lengths[:keep].to(device)
                target = batch.target[:keep].to(device)  # type: ignore[index]
                captured.clear()
                output = model(ids, lengths)
                # the sum of the documents' own losses: each row's gradient is its own
                loss = loss_fn(output, target) * len(target)
                grads = torch.autograd.grad(loss, captured, allow_unused=True)
                norms_t = torch.zeros(ids.shape, device=device)
                for grad in grads:
                    if grad is not None and grad.shape[:2] == ids.shape:
                        norms_t += torch.linalg.vector_norm(grad.float(), dim=-1)
                norms = norms_t.detach().cpu().double().numpy()
                width = int(ids.shape[1])
                if len(sums) < width:
                    sums = np.pad(sums, (0, width - len(sums)))
                    counts = np.pad(counts, (0, width - len(counts)))
                for row, length in enumerate(lengths.cpu().tolist()):
                    sums[:length] += norms[row, :length][::-1]
                    counts[:length] += 1
                    if length < width:
                        padding_max = max(padding_max, float(norms[row, length:].max()))
                seen += keep
    finally:
        handle.remove()
        model.train(was_training)
        set_rng_state(saved_rng)
    if not seen:
        raise TrainingError("gradient_by_position got no documents: pass at least one batch")
    reached = counts > 0
    return GradientByPosition(
        mean_norm=(sums[reached] / counts[reached]).tolist(),
        documents=counts[reached].tolist(),
        padding_max_norm=padding_max,
    )


class PositionGradientRecorder:
    """Records `gradient_by_position` of `model` on `batches` after each epoch in `epochs`
    (call it as the Trainer's `log_epoch`; it passes each row on to `then`) and whenever
    `record(label)` is called. `records_`: one dict per measurement (`label`, `epoch`,
    `seconds` and `GradientByPosition.as_dict()`)."""

    def __init__(
        self,
        *,
        model: torch.nn.Module,
        batches: Iterable[Batch],
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        max_documents: int = 64,
        epochs: Collection[int] = (1,),
        then: Callable[[dict[str, Any]], None] | None = None,
    ):
        self.model = model
        self.batches = batches
        self.loss_fn = loss_fn
        self.max_documents = max_documents
        self.epochs = epochs
        self.then = then

    def __call__(self, row: dict[str, Any]) -> None:
        """The Trainer's per-epoch callback: measure if this epoch is one of `epochs`."""
        if row.get("epoch") in self.epochs:
            self.record(f"after epoch {row['epoch']}", epoch=row["epoch"])
        if self.then is not None:
            self.then(row)

    def record(self, label: str, *, epoch: int | None = None) -> dict[str, Any]:
        """Measure now; append and return the record."""
        import time

        t0 = time.perf_counter()
        result = gradient_by_position(
            self.model, self.batches, loss_fn=self.loss_fn, max_documents=self.max_documents
        )
        record = {
            "label": label,
            "epoch": epoch,
            "seconds": round(time.perf_counter() - t0, 4),
            **result.as_dict(),
        }
        records: list[dict[str, Any]] = getattr(self, "records_", [])
        records.append(record)
        self.records_ = records
        return record


def _sequence_inputs(batch: Batch, model: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch's `(ids, lengths)`, or an error saying what the probe needs."""
    inputs = batch.inputs
    if len(inputs) != 2 or inputs[0].dim() != 2 or inputs[0].dtype.is_floating_point:
        raise TrainingError(
            f"gradient_by_position needs token-id batches `(ids, lengths)` as BucketBatcher "
            f"gives; {type(model).__name__} got {len(inputs)} input(s) of shapes "
            f"{[tuple(t.shape) for t in inputs]}"
        )
    if batch.target is None:
        raise TrainingError("gradient_by_position needs batches with targets (to have a loss)")
    return inputs[0], inputs[1]
