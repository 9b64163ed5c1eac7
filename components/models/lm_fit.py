"""The training side of the `lstm-lm` task (`language_model.LstmLanguageModelTask.fit`).

Each document's tokens, the vocabulary and network (fresh, from an `init_from` model or
with `embeddings`), the training run over `bptt` windows, and the report section. The task
module keeps the parameters, the files of a fit and the use of a trained model.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from components.represent.tokens import Field, RepresentError, token_stream
from pipeline.config import ConfigError
from pipeline.document import Document

from .task_data import run_folder
from .task_outputs import EpochLogger
from .vocab import Vocabulary

if TYPE_CHECKING:
    from .language_model import LstmLanguageModelTask

__all__ = ["ARCHITECTURE", "EOS", "collect_tokens", "train_network", "write_report"]

logger = logging.getLogger(__name__)

#: the separator token before each document (word id 2, after pad and unknown)
EOS = "<eos>"
#: the task parameters that shape the network (`model/config.json` keeps them)
ARCHITECTURE = ("layers", "embed_dim", "hidden", "dropout", "tie_weights")


def collect_tokens(
    corpus: Iterable[Document], *, field: Field, drop_stop: bool, where: str
) -> tuple[list[str], list[list[str]], Counter[str], list[tuple[str, int | None]]]:
    """Each document's id and tokens (punctuation kept), the skipped counts, and
    (id, index or None) in corpus order. A token column no stage set is a `ConfigError`
    at `{where}.field` (or `.drop_stop`)."""
    order: list[tuple[str, int | None]] = []
    ids: list[str] = []
    tokens: list[list[str]] = []
    skipped: Counter[str] = Counter()
    for doc in corpus:
        try:
            words = token_stream(doc, field=field, drop_stop=drop_stop, drop_punct=False)
        except RepresentError as exc:
            key = "drop_stop" if "is_stop" in str(exc) else "field"
            raise ConfigError(f"{where}.{key}: {exc}") from None
        if not words:
            skipped["no tokens"] += 1
            order.append((doc.id, None))
            continue
        order.append((doc.id, len(ids)))
        ids.append(doc.id)
        tokens.append(words)
    return ids, tokens, skipped, order


def train_network(
    task: LstmLanguageModelTask,
    train: list[list[str]],
    held: list[list[str]],
    folder: Path,
    where: str,
    train_ids: list[str],
    start: tuple[Vocabulary, dict[str, Any], dict[str, Any]] | None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Build vocabulary and network (from `start`, the `init_from` model, or `embeddings`
    when set) and train; sets the task's `network_`, `vocab_`, `config_`, `best_epoch_`.
    Returns the per-epoch history (with perplexities) and the vocabulary mapping of an
    `init_from` start (None otherwise)."""
    from .lm_network import (
        ChunkBatcher,
        LstmLanguageModel,
        id_stream,
        start_from,
        token_chunks,
        with_perplexity,
    )
    from .training import Trainer, seed_everything

    seed_everything(task.seed)
    built = Vocabulary.build(train, min_count=task.min_count, max_size=task.max_vocab - 1)
    config = {k: getattr(task, k) for k in ARCHITECTURE}
    mapping = None
    if start is not None:
        vocab, network, mapping = start_from(
            start, built.words[2:], task.init_vocabulary, task.seed
        )
        config = {k: start[2][k] for k in ARCHITECTURE}
        mapping = {"init_from": str(task.init_from), **mapping}
        logger.info("%s: %d words keep their rows, %d new", where, mapping["kept"], mapping["new"])
    else:
        vocab = Vocabulary([EOS, *built.words[2:]])
        network = LstmLanguageModel(len(vocab), **config)
    if task.embeddings:
        _embed(task, network, vocab, folder, where)
    eos = vocab.index[EOS]
    train_batches = ChunkBatcher(
        token_chunks(id_stream(train, vocab, eos), task.bptt),
        batch_size=task.batch_size,
        seed=task.seed,
    )
    val_batches = None
    if held:
        val_batches = ChunkBatcher(
            token_chunks(id_stream(held, vocab, eos), task.bptt),
            batch_size=task.batch_size,
            shuffle=False,
        )
    trainer = Trainer(
        epochs=task.epochs,
        optimizer=task.optimizer,
        lr=task.lr,
        grad_clip=task.grad_clip,
        patience=task.patience,
        device=task.device,
        seed=task.seed,
    )
    key = hashlib.sha256(
        json.dumps([train_ids, task.get_params()], sort_keys=True).encode()
    ).hexdigest()
    history = trainer.fit(
        network,
        train_batches,
        val_batches,
        workdir=folder,
        key=key,
        log_epoch=EpochLogger(folder.name),
    )
    history = with_perplexity(history)
    network.to("cpu").eval()
    task.network_ = network
    task.vocab_ = vocab
    task.config_ = {
        **config,
        "vocab_size": len(vocab),
        "eos_id": eos,
        "field": task.field,
        "drop_stop": task.drop_stop,
    }
    task.best_epoch_ = trainer.best_epoch_
    return history, mapping


def _embed(
    task: LstmLanguageModelTask, network: Any, vocab: Vocabulary, folder: Path, where: str
) -> None:
    """Copy the `embeddings` vectors into the network's input embedding."""
    import torch

    from .embeddings import EmbeddingsError, embedding_matrix

    try:
        matrix, _ = embedding_matrix(
            task.embeddings or "", vocab, run_dir=run_folder(folder), seed=task.seed
        )
    except EmbeddingsError as exc:
        raise ConfigError(f"{where}.{exc}") from None
    if matrix.shape[1] != task.embed_dim:
        raise ConfigError(
            f"{where}.embed_dim: {task.embed_dim} differs from the dimension "
            f"{matrix.shape[1]} of {task.embeddings!r}; set embed_dim: {matrix.shape[1]}"
        )
    with torch.no_grad():
        network.embedding.weight.copy_(torch.from_numpy(matrix))


def write_report(staging: Path, metrics: dict[str, Any], history: list[dict[str, Any]]) -> None:
    """The task's report section (and `learning_curve.png` when there was a validation
    part) in `staging`, from the fit's `metrics` and per-epoch `history`."""
    from pipeline.report_sections import image_block, metrics_block, text_block, write_section

    from .training import plot_learning_curve

    blocks = [
        text_block(
            f"{metrics['documents']['train']:,} training documents, {metrics['documents']['validation']:,} validation; vocabulary {metrics['vocabulary']:,} words."
        )
    ]
    values = {
        "validation perplexity": metrics["validation"]["perplexity"],
        "best epoch": metrics["best_epoch"],
    }
    blocks.append(metrics_block("Language model", values))
    if history and "val_loss" in history[0]:
        plot_learning_curve(history, staging / "learning_curve.png")
        blocks.append(image_block("Learning curve", "learning_curve.png"))
    write_section(staging, "Language model (lstm-lm)", blocks, order=60)
