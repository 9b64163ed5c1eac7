"""GloVe (Pennington, Socher & Manning 2014), our implementation: weighted least squares in torch.

Training minimises, over the non-zero entries X_ij of the co-occurrence matrix,

    J = Σ f(X_ij) (w_i · w̃_j + b_i + b̃_j − log X_ij)²,   f(x) = min(1, (x / x_max)^α)

with AdaGrad as the reference `glove.c` does it: every parameter has its own
accumulator of squared (learning-rate-scaled) gradients, initialised to 1, and a
step is `η g / sqrt(accumulator)`. The entries are shuffled every epoch and
processed in mini-batches of `batch_size`, vectorised in torch (on CUDA when
present and `device` allows); within a batch the gradients of a word add up and
its accumulator takes their squares before the step (so a frequent word's step
stays bounded). The vectors are `W + W̃` (word plus context vectors), as in the paper.

Co-occurrences follow GloVe's `cooccur`: a first pass fixes the vocabulary
(`min_count`, `max_vocab`), a second counts pairs within `window` words on each
side, weighted 1/distance, skipping out-of-vocabulary words.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field as Range

from pipeline.registry import register

from .cooccurrence import CooccurrenceCounter
from .persist import read_json, write_json
from .tokens import EmptyVocabularyError, Field
from .wordvectors import WordVectorLearner

__all__ = ["GloVe", "train_glove"]

logger = logging.getLogger(__name__)


def train_glove(
    matrix: Any,
    *,
    vector_size: int = 100,
    x_max: float = 100.0,
    alpha: float = 0.75,
    learning_rate: float = 0.05,
    epochs: int = 25,
    batch_size: int = 16384,
    seed: int = 1,
    device: str = "cpu",
    threads: int | None = 1,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Fit GloVe to a square sparse co-occurrence matrix; return (W + W̃, biases b + b̃, losses).

    `losses` is the mean weighted squared error ½ f(X) (w·w̃ + b + b̃ − log X)² over
    the entries, per epoch, measured during the epoch (as `glove.c` reports it).
    `threads` caps torch's CPU threads while training (None: torch's default).
    """
    import torch

    previous = torch.get_num_threads()
    if threads is not None and device == "cpu":
        torch.set_num_threads(threads)
    try:
        return _train(
            matrix, vector_size, x_max, alpha, learning_rate, epochs, batch_size, seed, device
        )
    finally:
        torch.set_num_threads(previous)


def _train(
    matrix: Any,
    vector_size: int,
    x_max: float,
    alpha: float,
    learning_rate: float,
    epochs: int,
    batch_size: int,
    seed: int,
    device: str,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    import scipy.sparse as sp
    import torch

    coo = sp.coo_matrix(matrix)
    if coo.nnz == 0:
        raise EmptyVocabularyError("glove: the co-occurrence matrix is empty")
    n_words = coo.shape[0]
    dev = torch.device(device)
    rows = torch.from_numpy(coo.row.astype(np.int64)).to(dev)
    cols = torch.from_numpy(coo.col.astype(np.int64)).to(dev)
    values = torch.from_numpy(coo.data.astype(np.float32)).to(dev)
    log_x = torch.log(values)
    weight = torch.clamp((values / x_max) ** alpha, max=1.0)
    del values

    generator = torch.Generator().manual_seed(seed)

    def uniform(*shape: int) -> Any:
        # glove.c: (rand - 0.5) / vector_size
        return ((torch.rand(*shape, generator=generator) - 0.5) / vector_size).to(dev)

    w, w_ctx = uniform(n_words, vector_size), uniform(n_words, vector_size)
    b, b_ctx = uniform(n_words), uniform(n_words)
    g_w, g_ctx = torch.ones_like(w), torch.ones_like(w_ctx)
    g_b, g_bctx = torch.ones_like(b), torch.ones_like(b_ctx)

    nnz = coo.nnz
    losses: list[float] = []
    for epoch in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(nnz, generator=generator).to(dev)
        total = torch.zeros((), dtype=torch.float64, device=dev)
        for first in range(0, nnz, batch_size):
            idx = order[first : first + batch_size]
            i, j = rows[idx], cols[idx]
            wi, wj = w[i], w_ctx[j]
            diff = (wi * wj).sum(1) + b[i] + b_ctx[j] - log_x[idx]
            fdiff = weight[idx] * diff
            total += 0.5 * (fdiff * diff).sum(dtype=torch.float64)
            fdiff = fdiff * learning_rate
            grad_i = fdiff[:, None] * wj
            grad_j = fdiff[:, None] * wi
            squared = fdiff * fdiff
            g_w.index_add_(0, i, grad_i * grad_i)
            g_ctx.index_add_(0, j, grad_j * grad_j)
            g_b.index_add_(0, i, squared)
            g_bctx.index_add_(0, j, squared)
            w.index_add_(0, i, grad_i / torch.sqrt(g_w[i]), alpha=-1.0)
            w_ctx.index_add_(0, j, grad_j / torch.sqrt(g_ctx[j]), alpha=-1.0)
            b.index_add_(0, i, fdiff / torch.sqrt(g_b[i]), alpha=-1.0)
            b_ctx.index_add_(0, j, fdiff / torch.sqrt(g_bctx[j]), alpha=-1.0)
        loss = float(total) / nnz
        if not np.isfinite(loss):
            raise FloatingPointError(
                f"glove: the loss diverged in epoch {epoch + 1}: lower learning_rate or batch_size"
            )
        losses.append(loss)
        logger.info(
            "glove epoch %d/%d: loss %.5f (%.1fs)",
            epoch + 1,
            epochs,
            loss,
            time.perf_counter() - start,
        )
    vectors = (w + w_ctx).cpu().numpy().astype(np.float32)
    biases = (b + b_ctx).cpu().numpy().astype(np.float32)
    return vectors, biases, losses


def _device(choice: str) -> str:
    import torch

    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "glove: device 'cuda' asked for but torch sees no CUDA device; use auto or cpu"
        )
    return choice


@register("represent", "glove")
class GloVe(WordVectorLearner):
    """GloVe word vectors, trained by our own torch implementation (CPU, or CUDA when present).

    - Co-occurrences: `window` words on each side weighted 1/distance, over the
      `min_count` / `max_vocab` vocabulary (as GloVe's `cooccur`); two passes.
    - Model: `vector_size`, weighting `f(x) = min(1, (x/x_max)^alpha)`.
    - Training: AdaGrad with `learning_rate` over shuffled mini-batches of
      `batch_size` entries for `epochs` epochs, seeded by `seed`; `device`: auto |
      cpu | cuda. Same seed and device, same vectors.
    - `threads`: torch CPU threads while training (1 by default: the gathers and
      scatters are memory-bound, and more threads slowed training 8× on a busy
      2-core machine; None leaves torch's default).

    Learned: `wv_` (W + W̃ as KeyedVectors, most frequent word first), `loss_history_`
    (mean weighted loss per epoch), `cooccurrence_nnz_`, `seconds_per_epoch_`.
    """

    version = "1"

    def __init__(
        self,
        *,
        field: Field = "lower",
        drop_stop: bool = False,
        drop_punct: bool = True,
        vector_size: Annotated[int, Range(ge=1)] = 100,
        window: Annotated[int, Range(ge=1)] = 10,
        min_count: Annotated[int, Range(ge=1)] = 5,
        max_vocab: Annotated[int, Range(ge=1)] | None = None,
        x_max: Annotated[float, Range(gt=0.0)] = 100.0,
        alpha: Annotated[float, Range(gt=0.0)] = 0.75,
        learning_rate: Annotated[float, Range(gt=0.0)] = 0.05,
        epochs: Annotated[int, Range(ge=1)] = 25,
        batch_size: Annotated[int, Range(ge=1)] = 16384,
        seed: int = 1,
        device: Literal["auto", "cpu", "cuda"] = "auto",
        threads: Annotated[int, Range(ge=1)] | None = 1,
    ):
        self.field = field
        self.drop_stop = drop_stop
        self.drop_punct = drop_punct
        self.vector_size = vector_size
        self.window = window
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.x_max = x_max
        self.alpha = alpha
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.seed = seed
        self.device = device
        self.threads = threads

    def cooccurrences(self, corpus: Iterable[Any]) -> tuple[Any, list[str], np.ndarray]:
        """The co-occurrence matrix GloVe trains on, its words and their counts (two passes)."""
        counts: Counter[str] = Counter()
        for doc in corpus:
            counts.update(self.select(doc))
        ranked = [(w, c) for w, c in counts.most_common() if c >= self.min_count]
        del counts
        if self.max_vocab is not None:
            ranked = ranked[: self.max_vocab]
        if not ranked:
            raise EmptyVocabularyError(
                f"glove: no word occurs min_count={self.min_count} times after token selection "
                f"(field={self.field!r}, drop_stop={self.drop_stop}, drop_punct={self.drop_punct})"
            )
        vocabulary = {w: i for i, (w, _) in enumerate(ranked)}
        counter = CooccurrenceCounter(
            window=self.window, weighting="harmonic", vocabulary=vocabulary
        )
        for doc in corpus:
            counter.add(self.select(doc))
        matrix, _, _ = counter.result()
        return matrix, [w for w, _ in ranked], np.asarray([c for _, c in ranked], dtype=np.int64)

    def fit(self, corpus: Iterable[Any], y: Any = None) -> GloVe:
        """Count co-occurrences (two passes over a restartable corpus) and train; returns self."""
        from gensim.models import KeyedVectors

        self.token_corpus(corpus)  # fails early on a one-shot generator
        matrix, words, counts = self.cooccurrences(corpus)
        start = time.perf_counter()
        vectors, _, losses = train_glove(
            matrix,
            vector_size=self.vector_size,
            x_max=self.x_max,
            alpha=self.alpha,
            learning_rate=self.learning_rate,
            epochs=self.epochs,
            batch_size=self.batch_size,
            seed=self.seed,
            device=_device(self.device),
            threads=self.threads,
        )
        kv = KeyedVectors(self.vector_size, count=0, dtype=np.float32)
        kv.add_vectors(words, vectors)
        kv.expandos["count"] = counts
        self.wv_ = kv
        self.loss_history_ = losses
        self.cooccurrence_nnz_ = int(matrix.nnz)
        self.seconds_per_epoch_ = (time.perf_counter() - start) / self.epochs
        return self

    def _save_state(self, folder: Path) -> None:
        super()._save_state(folder)
        write_json(
            folder / "training.json",
            {"loss_history": self.loss_history_, "cooccurrence_nnz": self.cooccurrence_nnz_},
        )

    def _load_state(self, folder: Path) -> None:
        super()._load_state(folder)
        training = read_json(folder / "training.json")
        self.loss_history_ = training["loss_history"]
        self.cooccurrence_nnz_ = training["cooccurrence_nnz"]
