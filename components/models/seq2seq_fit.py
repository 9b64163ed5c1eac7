"""One fit of the `seq2seq` task (`seq2seq.Seq2SeqTask.fit`), given its pairs and split.

Builds the vocabulary (both sides, training part) and the network, trains it with the
decaying teacher-forcing ratio, decodes the test part (greedy, beam, Lead) and the wanted
predictions, and writes `metrics.json`, `predictions.jsonl`, the learning curve and the
report section into the staging folder. Torch is imported only when a fit runs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from components.ml.splits import HoldoutSettings
from pipeline.config import ConfigError

from .seq2seq_data import Pairs, pair_batches, write_predictions, write_report
from .task_data import run_folder
from .task_outputs import EpochLogger, write_json

if TYPE_CHECKING:
    from .seq2seq import Seq2SeqTask

__all__ = ["LEAD_WORDS", "SPECIALS", "fit_pairs"]

logger = logging.getLogger(__name__)

SPECIALS = ("<s>", "</s>")  # ids 2 and 3, after PAD and UNK
LEAD_WORDS = 10
SAMPLES = 5


@dataclass(frozen=True)
class _EpochHook:
    """After each epoch: log it and set the network's teacher-forcing ratio for the next."""

    task: Seq2SeqTask
    network: Any
    log: EpochLogger

    def __call__(self, row: dict[str, Any]) -> None:
        self.log(row)
        self.network.teacher_forcing = self.task.ratio(int(row["epoch"]) + 1)


def fit_pairs(
    task: Seq2SeqTask,
    pairs: Pairs,
    usable: list[int],
    holdout: Any,
    folder: Path,
    staging: Path,
) -> None:
    """Build the vocabulary and network, train, decode, score; write into `staging`.

    `usable` are the indices of `pairs` with a source and a target, `holdout` their split
    (positions in `usable`). Sets the task's `vocabulary_`, `network_config_`, `network_`."""
    from components.ml.rouge import rouge_scores

    from .seq2seq_network import Seq2SeqNetwork
    from .training import CHECKPOINT_FILE, Trainer, cpu_threads, load_checkpoint
    from .training.plots import plot_learning_curve
    from .vocab import Vocabulary

    train, validation, test = (
        [usable[i] for i in part] for part in (holdout.train, holdout.validation, holdout.test)
    )
    built = Vocabulary.build(
        (t for i in train for t in (pairs.sources[i], pairs.targets[i])),
        min_count=task.min_count,
        max_size=max(task.max_vocab - len(SPECIALS), 2),
    )
    task.vocabulary_ = Vocabulary([*SPECIALS, *built.words[2:]])
    pretrained, embed_dim = None, task.embed_dim
    if task.embeddings is not None:
        from .embeddings import EmbeddingsError, embedding_matrix

        try:
            pretrained, _ = embedding_matrix(
                task.embeddings, task.vocabulary_, run_dir=run_folder(folder), seed=task.seed
            )
        except EmbeddingsError as exc:
            raise ConfigError(f"tasks.{folder.name}.{exc}") from None
        embed_dim = int(pretrained.shape[1])
    task.network_config_ = {
        "vocab_size": len(task.vocabulary_),
        "embed_dim": embed_dim,
        "hidden_size": task.hidden_size,
        "cell": task.cell,
        "bidirectional": task.bidirectional,
        "attention": task.attention,
        "copy": task.copy,
        "coverage": task.coverage,
        "coverage_weight": task.coverage_weight,
        "share_embeddings": task.share_embeddings,
        "dropout": task.dropout,
    }
    import torch

    torch.manual_seed(task.seed)
    task.network_ = Seq2SeqNetwork(**task.network_config_, pretrained=pretrained)
    key = task.fit_key([pairs.ids[i] for i in train], [pairs.targets[i] for i in train])
    trainer = Trainer(
        epochs=task.epochs,
        lr=task.lr,
        grad_clip=task.grad_clip,
        patience=task.patience,
        device=task.device,
        seed=task.seed,
    )
    resumed = load_checkpoint(folder / CHECKPOINT_FILE, key)
    task.network_.teacher_forcing = task.ratio(int(resumed["epoch"]) + 1 if resumed else 1)
    del resumed
    batching = {"copy": task.copy, "batch_size": task.batch_size, "seed": task.seed}
    hook = _EpochHook(task, task.network_, EpochLogger(folder.name))
    t0 = time.perf_counter()
    with cpu_threads(task.threads):
        history = trainer.fit(
            task.network_,
            pair_batches(pairs, train, task.vocabulary_.index, **batching, shuffle=True),
            pair_batches(pairs, validation, task.vocabulary_.index, **batching, shuffle=False)
            if validation
            else None,
            workdir=folder,
            key=key,
            log_epoch=hook,
        )
        training_seconds = time.perf_counter() - t0
        sources = [pairs.sources[i] for i in test]
        references = [pairs.references[i] or "" for i in test]
        t0 = time.perf_counter()
        greedy = [" ".join(w) for w in task.generate(sources, strategy="greedy")]
        greedy_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        wanted = list(range(len(pairs.ids)))
        if task.predictions == "held_out":
            wanted = sorted({*test, *(i for i, t in enumerate(pairs.targets) if t is None)})
        texts: list[list[str] | None] = [None] * len(pairs.ids)
        for i, words in zip(wanted, task.generate([pairs.sources[i] for i in wanted]), strict=True):
            texts[i] = words
        beam_seconds = time.perf_counter() - t0
    beam = [" ".join(texts[i] or []) for i in test]
    lead = [" ".join(s[:LEAD_WORDS]) for s in sources]
    empty = sum(1 for s, t in zip(pairs.sources, pairs.targets, strict=True) if t and not s)
    metrics: dict[str, Any] = {
        "model": task.model,
        "target": task.target,
        "documents": len(pairs.ids),
        "without_target": sum(t is None for t in pairs.targets),
        "skipped": {"empty_source": empty},
        "split": {
            "settings": HoldoutSettings.model_validate(task.split or {}).model_dump(),
            "sizes": {"train": len(train), "validation": len(validation), "test": len(test)},
        },
        "vocabulary": len(task.vocabulary_),
        "test": {
            "documents": len(test),
            "greedy": rouge_scores(greedy, references),
            "beam": rouge_scores(beam, references),
            "lead": rouge_scores(lead, references),
        }
        if test
        else None,
        "teacher_forcing": [task.ratio(row["epoch"]) for row in history],
        "history": history,
        "training_seconds": round(training_seconds, 3),
        "decoding_seconds": {
            "greedy_test": round(greedy_seconds, 3),
            f"beam_{task.predictions}": round(beam_seconds, 3),
        },
    }
    parts = ["no_target" if t is None else "train" for t in pairs.targets]
    for name, part in (("validation", validation), ("test", test)):
        for i in part:
            parts[i] = name
    write_predictions(staging / "predictions.jsonl", pairs, texts, parts)
    write_json(staging / "metrics.json", metrics)
    if history:
        plot_learning_curve(history, staging / "learning_curve.png")
    samples = [[beam[k], references[k]] for k in range(min(SAMPLES, len(test)))]
    write_report(staging, task, metrics, samples)
    if test:
        r1 = {k: metrics["test"][k]["rouge1"]["f1"] for k in ("greedy", "beam", "lead")}
        logger.info(
            "task %s (seq2seq): ROUGE-1 F1 greedy %.4f, beam %.4f, Lead %.4f on %d documents",
            folder.name, r1["greedy"], r1["beam"], r1["lead"], len(test),
        )  # fmt: skip
