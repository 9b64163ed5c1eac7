"""`model: lstm-lm`: a word-level LSTM language model trained on the run's documents.

Each document's tokens (punctuation kept) follow a separator token `<eos>`, all documents
in one stream cut into windows of `bptt` tokens; a seeded `validation` fraction of the
documents is held out and its perplexity recorded per epoch (`history.json`,
`metrics.json`). `predict` continues each document (its tokens are the prompt) by greedy,
beam or sampled decoding (`components.models.decoding`), or scores it (`score=True`:
token count and summed natural-log likelihood). `init_from: MODEL_DIR` fine-tunes a
trained model on this corpus. Files: `model/weights.pt` (state dict), `model/vocab.json`,
`model/config.json`, `task.json`; nothing is pickled.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from components.represent.tokens import Field, token_stream
from pipeline.config import ConfigError
from pipeline.document import Document
from pipeline.registry import parameters, register

from .lm_fit import ARCHITECTURE, EOS, collect_tokens, train_network, write_report
from .task_outputs import (
    MODEL_FOLDER,
    PIPELINE_FILE,
    move_into,
    read_json,
    read_task_record,
    write_json,
    write_task_record,
)
from .vocab import Vocabulary

__all__ = ["EOS", "LstmLanguageModelTask", "load_language_model"]

logger = logging.getLogger(__name__)

MAPPING_FILE = "vocab_mapping.json"
OUTPUTS = ("metrics.json", "predictions.jsonl", "learning_curve.png", "report.json", MAPPING_FILE)
#: decoding strategies of `predict`
Strategy = Literal["greedy", "beam", "sample", "top-k", "top-p"]
STRATEGIES = ("greedy", "beam", "sample", "top-k", "top-p")


def load_language_model(folder: str | Path) -> tuple[Vocabulary, dict[str, Any], dict[str, Any]]:
    """The vocabulary, state dict (CPU tensors) and config of a saved `lstm-lm` model.

    `folder` is the task folder (`RUN/tasks/NAME`) or its `model/` subfolder. The state dict
    holds `embedding.weight` (V, embed_dim), the LSTM as `lstm.weight_ih_l{k}`,
    `lstm.weight_hh_l{k}`, `lstm.bias_ih_l{k}`, `lstm.bias_hh_l{k}` for k < config["layers"]
    (unidirectional, batch_first, hidden = config["hidden"]), `decoder.weight` / `decoder.bias`
    (tied to the embedding when config["tie_weights"]) and `projection.*` when tied with
    hidden != embed_dim. Word ids: vocabulary positions (0 pad, 1 unknown, 2 `<eos>`).
    """
    import torch

    folder = Path(folder).expanduser()
    if (folder / MODEL_FOLDER / "weights.pt").is_file():
        folder = folder / MODEL_FOLDER
    weights = folder / "weights.pt"
    if not weights.is_file():
        raise FileNotFoundError(f"{folder}: no lstm-lm model here (weights.pt is missing)")
    config = json.loads((folder / "config.json").read_text("utf-8"))
    vocab = Vocabulary.load(folder / "vocab.json")
    state = torch.load(weights, map_location="cpu", weights_only=True)
    return vocab, state, config


@register("task", "lstm-lm")
class LstmLanguageModelTask:
    """Word-level LSTM language model of the run's documents; continues or scores a text.

    Network: `layers` stacked LSTMs of `hidden` units over `embed_dim` embeddings, `dropout`,
    `tie_weights` (output layer = embedding, through a projection when hidden != embed_dim).

    Data: `field` / `drop_stop` pick the tokens (punctuation kept); words seen `min_count`
    times (at most `max_vocab`) form the vocabulary; `validation` is the seeded fraction of
    documents held out. Training: `epochs` of `batch_size` windows of `bptt` tokens, Adam-
    family `optimizer` at `lr`, `grad_clip`, early stopping after `patience` epochs.
    `embeddings` initialises the input embedding from known word vectors (its dimension
    must equal `embed_dim`); `init_from` (a trained lstm-lm folder) starts from that model
    (its architecture), on the vocabulary `init_vocabulary` says (`union` of both, or the
    `new` corpus'), new words at the mean of the known rows plus seeded noise.
    """

    model: ClassVar[str] = "lstm-lm"
    version: ClassVar[str] = "1"
    predict_options: ClassVar[tuple[str, ...]] = (
        "strategy",
        "beam",
        "max_length",
        "min_length",
        "temperature",
        "top_k",
        "top_p",
        "repetition_penalty",
        "seed",
        "score",
    )

    def __init__(
        self,
        *,
        field: Field = "lower",
        drop_stop: bool = False,
        validation: float = 0.1,
        layers: int = 2,
        embed_dim: int = 64,
        hidden: int = 128,
        dropout: float = 0.3,
        tie_weights: bool = True,
        bptt: int = 35,
        batch_size: int = 32,
        epochs: int = 10,
        lr: float = 3e-3,
        optimizer: Literal["adam", "adamw", "sgd", "rmsprop"] = "adam",
        grad_clip: float = 1.0,
        patience: int = 3,
        min_count: int = 2,
        max_vocab: int = 30000,
        embeddings: str | None = None,
        init_from: str | None = None,
        init_vocabulary: Literal["union", "new"] = "union",
        device: Literal["auto", "cpu", "cuda"] = "auto",
        threads: int = 1,
        seed: int = 0,
    ):
        self.field = field
        self.drop_stop = drop_stop
        self.validation = validation
        self.layers = layers
        self.embed_dim = embed_dim
        self.hidden = hidden
        self.dropout = dropout
        self.tie_weights = tie_weights
        self.bptt = bptt
        self.batch_size = batch_size
        self.epochs = epochs
        self.lr = lr
        self.optimizer = optimizer
        self.grad_clip = grad_clip
        self.patience = patience
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.embeddings = embeddings
        self.init_from = init_from
        self.init_vocabulary = init_vocabulary
        self.device = device
        self.threads = threads
        self.seed = seed

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """Cheap range checks, as "key: message" lines (nothing is loaded)."""
        problems = []
        validation = params.get("validation", 0.1)
        if not 0 <= validation < 1:
            problems.append(f"validation: {validation} is invalid: must be in [0, 1)")
        for key in ("layers", "embed_dim", "hidden", "bptt", "batch_size", "epochs", "min_count"):
            if key in params and params[key] < 1:
                problems.append(f"{key}: {params[key]} is invalid: must be at least 1")
        if not 0 <= params.get("dropout", 0.3) < 1:
            problems.append(f"dropout: {params['dropout']} is invalid: must be in [0, 1)")
        if params.get("embeddings") and params.get("init_from"):
            problems.append("embeddings: give either embeddings or init_from, not both")
        init_from = params.get("init_from")
        if init_from and not (Path(init_from).expanduser() / MODEL_FOLDER / "weights.pt").is_file():
            problems.append(f"init_from: {init_from!r} holds no trained lstm-lm (model/weights.pt)")
        return problems

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters and their values."""
        return {name: getattr(self, name) for name in parameters(type(self))}

    # ------------------------------------------------------------------ fit

    def fit(self, corpus: Iterable[Document], run_dir: Path) -> Self:
        """Train on the documents of `corpus` (restartable) and write metrics, per-epoch
        perplexity, each document's score (`predictions.jsonl`) and the model into `run_dir`.
        Documents without tokens are skipped and counted; config mistakes are `ConfigError`s."""
        from .lm_network import log_likelihoods, split_documents
        from .training import cpu_threads

        folder = Path(run_dir)
        where = f"tasks.{folder.name}"
        problems = self.check_params(self.get_params())
        if problems:
            raise ConfigError.of([ConfigError(f"{where}.{p}") for p in problems])
        ids, tokens, skipped, order = collect_tokens(
            corpus, field=self.field, drop_stop=self.drop_stop, where=where
        )
        if not ids:
            raise ConfigError(f"{where}: no document has tokens to train on ({dict(skipped)})")
        train, held = split_documents(len(ids), self.validation, self.seed)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        with cpu_threads(self.threads):
            start = load_language_model(self.init_from) if self.init_from else None
            history, mapping = train_network(
                self,
                [tokens[i] for i in train],
                [tokens[i] for i in held],
                folder,
                where,
                [ids[i] for i in train],
                start,
            )
            seconds = time.perf_counter() - t0
            scored = log_likelihoods(self.network_, self.vocab_, tokens)
        held_set = set(held)
        val_tokens = sum(scored[i][0] for i in held)
        val_ll = sum(scored[i][1] for i in held)
        train_tokens = sum(len(tokens[i]) + 1 for i in train)
        metrics = {
            "model": self.model,
            "documents": {"train": len(train), "validation": len(held), "skipped": dict(skipped)},
            "vocabulary": len(self.vocab_),
            "train_tokens": train_tokens,
            "val_perplexity": [row.get("val_perplexity") for row in history],
            "train_perplexity": [row["train_perplexity"] for row in history],
            "validation": {
                "tokens": val_tokens,
                "log_likelihood": val_ll,
                "perplexity": math.exp(-val_ll / val_tokens) if val_tokens else None,
                "note": "exact, per document from its start; per-epoch values are exp(val_loss) "
                "over bptt windows",
            },
            "best_epoch": getattr(self, "best_epoch_", None),
            "training_seconds": round(seconds, 3),
            "train_tokens_per_second": round(train_tokens * len(history) / max(seconds, 1e-9), 1),
        }
        self.pipeline_ = read_json(folder / PIPELINE_FILE)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.staging-", dir=folder.parent))
        try:
            write_json(staging / "metrics.json", metrics)
            write_json(staging / "history.json", history)
            with (staging / "predictions.jsonl").open("w", encoding="utf-8") as fh:
                for doc_id, i in order:  # corpus order; a document without tokens: skipped
                    if i is None:
                        row: dict[str, Any] = {"id": doc_id, "skipped": "no tokens"}
                    else:
                        part = "validation" if i in held_set else "train"
                        n, ll = scored[i]
                        row = {"id": doc_id, "split": part, "tokens": n, "log_likelihood": ll}
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            if mapping is not None:
                write_json(staging / MAPPING_FILE, mapping)
            write_report(staging, metrics, history)
            move_into(staging, folder, OUTPUTS)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        logger.info(
            "task %s (lstm-lm): validation perplexity %s",
            folder.name,
            metrics["validation"]["perplexity"],
        )
        return self

    # ------------------------------------------------------------- use

    def evaluate(self, corpus: Iterable[Document]) -> dict[str, Any]:
        """`tokens`, summed `log_likelihood` and `perplexity` of the documents of `corpus`."""
        from .lm_network import log_likelihoods

        tokens = [
            token_stream(d, field=self.field, drop_stop=self.drop_stop, drop_punct=False)
            for d in corpus
        ]
        scored = log_likelihoods(self.network_, self.vocab_, tokens)
        n = sum(s[0] for s in scored)
        ll = sum(s[1] for s in scored)
        return {"tokens": n, "log_likelihood": ll, "perplexity": math.exp(-ll / n) if n else None}

    def predict(
        self,
        texts_or_docs: Iterable[str | Document],
        *,
        strategy: Strategy = "greedy",
        max_length: int = 40,
        min_length: int = 0,
        beam: int = 4,
        temperature: float = 1.0,
        top_k: int = 0,
        top_p: float = 1.0,
        repetition_penalty: float = 1.0,
        seed: int = 0,
        score: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Per document, in input order, `{"text": continuation}` of its tokens (the prompt;
        decoding by `strategy`, see `lm_network.generate`), or with `score` `{"tokens": n,
        "log_likelihood": natural log summed over its n tokens, each given the ones before and
        the start-of-text}`. Raises `ValueError` naming a bad option."""
        from .decoding import check_options

        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}; got {strategy!r}")
        check_options(
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            repetition_penalty=repetition_penalty,
            beam=beam,
            max_length=max_length,
            min_length=min_length,
        )
        if strategy == "top-k" and top_k < 1:
            raise ValueError("top_k must be >= 1 with strategy top-k; got 0")
        options = {
            "strategy": strategy,
            "max_length": max_length,
            "min_length": min_length,
            "beam": beam,
            "temperature": temperature,
            "top_k": top_k,
            "top_p": top_p,
            "repetition_penalty": repetition_penalty,
            "seed": seed,
        }
        return self._outputs(texts_or_docs, score, options)

    def _outputs(
        self, texts_or_docs: Iterable[str | Document], score: bool, options: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        from .lm_network import detokenize, generate, log_likelihoods

        eos = self.vocab_.index[EOS]
        for item in texts_or_docs:
            if isinstance(item, str):
                raise TypeError(
                    "a task predicts tokenized Documents; for raw text use "
                    "components.models.load(MODEL_DIR).predict(texts), which runs the stages"
                )
            words = token_stream(item, field=self.field, drop_stop=self.drop_stop, drop_punct=False)
            if score:
                n, ll = log_likelihoods(self.network_, self.vocab_, [words])[0]
                yield {"tokens": n, "log_likelihood": ll}
            else:
                ids = generate(self.network_, self.vocab_.encode(words), eos_id=eos, **options)
                yield {"text": detokenize([self.vocab_.words[i] for i in ids])}

    def save(self, folder: Path) -> None:
        """`model/weights.pt` (state dict), `model/vocab.json`, `model/config.json`,
        `task.json` and, when known and absent, `pipeline.json`."""
        import torch

        folder = Path(folder)
        (folder / MODEL_FOLDER).mkdir(parents=True, exist_ok=True)
        torch.save(self.network_.state_dict(), folder / MODEL_FOLDER / "weights.pt")
        self.vocab_.save(folder / MODEL_FOLDER / "vocab.json")
        write_json(folder / MODEL_FOLDER / "config.json", self.config_)
        write_task_record(folder, self)

    @classmethod
    def load(cls, folder: Path) -> Self:
        """A fitted task read back from `folder` (written by `save`)."""
        from .lm_network import LstmLanguageModel

        folder = Path(folder)
        task = cls(**read_task_record(folder, cls.model)["params"])
        vocab, state, config = load_language_model(folder)
        network = LstmLanguageModel(len(vocab), **{k: config[k] for k in ARCHITECTURE})
        network.load_state_dict(state)
        task.network_ = network.eval()
        task.vocab_ = vocab
        task.config_ = config
        task.pipeline_ = read_json(folder / PIPELINE_FILE)
        return task
