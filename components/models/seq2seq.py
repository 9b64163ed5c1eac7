"""The `seq2seq` task: a headline (or short summary) for each document, learned from pairs.

Source: the document's tokens after the run's stages (`field`, punctuation dropped, the
first `max_source`). Target: the text in `meta[target]`, lowercased and split by the
regex tokenizer's default word pattern without punctuation (`TARGET_PATTERN`), the first
`max_target` words. Documents whose target is empty or missing are left out of training
and counted (`without_target` in `metrics.json`); they still get a prediction. The network
is `seq2seq_network.Seq2SeqNetwork`, trained by the shared `Trainer` (NLL of the target
tokens, padding ignored) with a teacher-forcing ratio that decays by epoch; decoding is
`decoding.greedy` / `decoding.beam_search`, always on the CPU. The held-out part is scored
with ROUGE (greedy, beam and the Lead baseline: the source's first 10 words).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from components.ml.splits import HoldoutSettings, SplitError, holdout_split, split_problems
from components.represent.tokens import Field, RepresentError, token_stream
from pipeline.config import ConfigError
from pipeline.document import Document
from pipeline.registry import parameters, register

from .seq2seq_data import Pairs, decode_sources, target_tokens, teacher_forcing_ratio
from .seq2seq_fit import LEAD_WORDS, fit_pairs
from .task_outputs import (
    MODEL_FOLDER,
    PIPELINE_FILE,
    move_into,
    plain,
    read_json,
    read_task_record,
    write_json,
    write_task_record,
)

__all__ = ["Seq2SeqTask", "target_tokens", "teacher_forcing_ratio"]

logger = logging.getLogger(__name__)

Cell = Literal["lstm", "gru"]
Attention = Literal["bahdanau", "dot", "general"]
Decay = Literal["none", "linear", "exponential"]
Strategy = Literal["beam", "greedy"]
Device = Literal["auto", "cpu", "cuda"]

OUTPUTS = ("metrics.json", "predictions.jsonl", "report.json", "learning_curve.png")
DEFAULT_SPLIT = HoldoutSettings(test=0.1, validation=0.1, stratify=False)


@register("task", "seq2seq")
class Seq2SeqTask:
    """Seq2seq with attention (and copying) from the document text to a `meta` field.

    Data: `target` (the meta key), `field`/`drop_stop` (source tokens), `max_source`,
    `max_target`, `max_vocab`/`min_count` (one vocabulary for both sides, from the training
    part). Network: `embed_dim` (replaced by the width of `embeddings`, word vectors the
    project knows), `share_embeddings`, `hidden_size`, `cell`, `bidirectional`,
    `attention` (bahdanau | dot | general), `copy` (pointer-generator), `coverage`
    (`coverage_weight`), `dropout`. Training: `epochs`, `batch_size`, `lr`, `patience`,
    `grad_clip`, `teacher_forcing` decaying (`teacher_forcing_decay`) to
    `teacher_forcing_floor` at the last epoch. Decoding: `beam`, `length_penalty`,
    `no_repeat_ngram`; `predictions`: all (a beam headline for every document) or
    held_out (the test part and the documents without a target: beam search decodes one
    source at a time, tens of ms each, so a large corpus gains from it). `split`: holdout fractions and seed (stratify is ignored).
    """

    model: ClassVar[str] = "seq2seq"
    version: ClassVar[str] = "1"
    predict_options: ClassVar[tuple[str, ...]] = (
        "strategy",
        "beam",
        "max_length",
        "min_length",
        "length_penalty",
        "no_repeat_ngram",
    )

    def __init__(
        self,
        *,
        target: str = "title",
        field: Field = "lower",
        drop_stop: bool = False,
        max_source: int = 400,
        max_target: int = 30,
        max_vocab: int = 20000,
        min_count: int = 1,
        embed_dim: int = 128,
        embeddings: str | None = None,
        share_embeddings: bool = True,
        hidden_size: int = 256,
        cell: Cell = "lstm",
        bidirectional: bool = True,
        attention: Attention = "bahdanau",
        copy: bool = False,
        coverage: bool = False,
        coverage_weight: float = 1.0,
        dropout: float = 0.1,
        epochs: int = 10,
        batch_size: int = 32,
        lr: float = 1e-3,
        patience: int = 3,
        grad_clip: float = 5.0,
        teacher_forcing: float = 1.0,
        teacher_forcing_decay: Decay = "none",
        teacher_forcing_floor: float = 0.5,
        predictions: Literal["all", "held_out"] = "all",
        beam: int = 4,
        length_penalty: float = 1.0,
        no_repeat_ngram: int = 3,
        split: HoldoutSettings = DEFAULT_SPLIT,
        device: Device = "auto",
        threads: int = 1,
        seed: int = 1,
    ):
        self.target = target
        self.field = field
        self.drop_stop = drop_stop
        self.max_source = max_source
        self.max_target = max_target
        self.max_vocab = max_vocab
        self.min_count = min_count
        self.embed_dim = embed_dim
        self.embeddings = embeddings
        self.share_embeddings = share_embeddings
        self.hidden_size = hidden_size
        self.cell = cell
        self.bidirectional = bidirectional
        self.attention = attention
        self.copy = copy
        self.coverage = coverage
        self.coverage_weight = coverage_weight
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.patience = patience
        self.grad_clip = grad_clip
        self.teacher_forcing = teacher_forcing
        self.teacher_forcing_decay = teacher_forcing_decay
        self.teacher_forcing_floor = teacher_forcing_floor
        self.predictions = predictions
        self.beam = beam
        self.length_penalty = length_penalty
        self.no_repeat_ngram = no_repeat_ngram
        self.split = split
        self.device = device
        self.threads = threads
        self.seed = seed

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """Cheap checks before any data is read, as "key: message" lines."""
        problems = list(split_problems(params.get("split")))
        for key in ("max_source", "max_target", "embed_dim", "hidden_size", "epochs", "beam"):
            if key in params and params[key] < 1:
                problems.append(f"{key}: {params[key]} is invalid: must be >= 1")
        for key in ("teacher_forcing", "teacher_forcing_floor"):
            if key in params and not 0.0 <= params[key] <= 1.0:
                problems.append(f"{key}: {params[key]} is invalid: must be in [0, 1]")
        if params.get("bidirectional", True) and params.get("hidden_size", 256) % 2:
            problems.append(
                f"hidden_size: {params['hidden_size']} must be even with a bidirectional "
                "encoder (each direction gets half); pick an even size or bidirectional: false"
            )
        return problems

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters, JSON-ready."""
        return {name: plain(getattr(self, name)) for name in parameters(type(self))}

    def ratio(self, epoch: int) -> float:
        """The teacher-forcing ratio of `epoch` (from the epoch number: resume-safe)."""
        return teacher_forcing_ratio(
            epoch,
            start=self.teacher_forcing,
            decay=self.teacher_forcing_decay,
            floor=self.teacher_forcing_floor,
            epochs=self.epochs,
        )

    # ------------------------------------------------------------------ fit
    def fit(self, corpus: Iterable[Document], run_dir: Path) -> Self:
        """Train on the documents of `corpus` that have a target and write `metrics.json`,
        `predictions.jsonl`, `learning_curve.png` and `report.json` into `run_dir` (the
        task folder). Raises `ConfigError` at `tasks.NAME.KEY` for unusable settings/data."""
        folder = Path(run_dir)
        where = f"tasks.{folder.name}"
        problems = self.check_params(self.get_params())
        if problems:
            raise ConfigError.of([ConfigError(f"{where}.{p}") for p in problems])
        pairs = self.collect_pairs(corpus, where)
        usable = [i for i, t in enumerate(pairs.targets) if t and pairs.sources[i]]
        if not usable:
            raise ConfigError(
                f"{where}.target: none of the {len(pairs.ids)} documents has both tokens and "
                f"a non-empty meta[{self.target!r}]; set {where}.target to the meta key that "
                "holds the headline (with the csv reader, list that column in meta_columns)"
            )
        settings = HoldoutSettings.model_validate(self.split or {})
        try:
            holdout = holdout_split(
                ["pair"] * len(usable),
                test=settings.test,
                validation=settings.validation,
                seed=settings.seed,
                stratify=False,
            )
        except SplitError as exc:
            raise ConfigError(f"{where}.{exc}") from None
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.staging-", dir=folder.parent))
        try:
            fit_pairs(self, pairs, usable, holdout, folder, staging)
            move_into(staging, folder, OUTPUTS)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self.pipeline_ = read_json(folder / PIPELINE_FILE)
        return self

    def collect_pairs(self, corpus: Iterable[Document], where: str) -> Pairs:
        """Each document's id, source tokens and target words (None: missing), in corpus
        order; a token column no stage set is a `ConfigError` at `{where}.field`."""
        pairs = Pairs([], [], [], [])
        for doc in corpus:
            try:
                tokens = token_stream(doc, field=self.field, drop_stop=self.drop_stop)
            except RepresentError as exc:
                key = "drop_stop" if "is_stop" in str(exc) else "field"
                raise ConfigError(f"{where}.{key}: {exc}") from None
            value = doc.meta.get(self.target)
            words = target_tokens(value)[: self.max_target] if value not in (None, "") else []
            pairs.ids.append(doc.id)
            pairs.sources.append(tokens[: self.max_source])
            pairs.targets.append(words or None)
            pairs.references.append(str(value) if words else None)
        if not pairs.ids:
            raise ConfigError(f"{where}: the corpus has no documents to train on")
        return pairs

    def fit_key(self, ids: Sequence[str], targets: Sequence[Any]) -> str:
        """Fingerprint of a fit (training ids, targets and parameters): the Trainer's key."""
        blob = json.dumps([list(ids), list(targets), self.get_params()], sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    # ------------------------------------------------------------- use
    def generate(
        self,
        sources: Sequence[Sequence[str]],
        *,
        strategy: Strategy = "beam",
        beam: int | None = None,
        max_length: int | None = None,
        min_length: int = 0,
        length_penalty: float | None = None,
        no_repeat_ngram: int | None = None,
    ) -> list[list[str]]:
        """The generated words for each source token list (empty source: no words).

        None takes the task's setting (`beam`, `length_penalty`, `no_repeat_ngram`;
        `max_length`, generated tokens with the end token: `max_target` + 1). Torch uses
        `threads` threads."""
        from .training import cpu_threads

        if strategy not in ("beam", "greedy"):
            raise ValueError(f"strategy must be 'beam' or 'greedy'; got {strategy!r}")
        with cpu_threads(self.threads):
            return decode_sources(
                self.network_,
                self.vocabulary_.words,
                [list(s)[: self.max_source] for s in sources],
                strategy=strategy,
                beam=self.beam if beam is None else beam,
                max_length=self.max_target + 1 if max_length is None else max_length,
                min_length=min_length,
                length_penalty=self.length_penalty if length_penalty is None else length_penalty,
                no_repeat_ngram=self.no_repeat_ngram
                if no_repeat_ngram is None
                else no_repeat_ngram,
            )

    def predict(
        self,
        docs: Iterable[Document],
        *,
        strategy: Strategy = "beam",
        beam: int | None = None,
        max_length: int | None = None,
        min_length: int = 0,
        length_penalty: float | None = None,
        no_repeat_ngram: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """`{"text"}` per tokenized document, in input order (see `generate` for options).

        Raw strings must go through the model's stages first: use
        `components.models.load(folder).predict(texts)`."""
        options = {
            "strategy": strategy,
            "beam": beam,
            "max_length": max_length,
            "min_length": min_length,
            "length_penalty": length_penalty,
            "no_repeat_ngram": no_repeat_ngram,
        }
        batch: list[list[str]] = []
        for doc in docs:
            if not isinstance(doc, Document):
                raise TypeError(
                    "a task predicts tokenized Documents; for raw text use "
                    "components.models.load(MODEL_DIR).predict(texts), which runs the stages"
                )
            batch.append(token_stream(doc, field=self.field, drop_stop=self.drop_stop))
            if len(batch) == 256:
                yield from ({"text": " ".join(w)} for w in self.generate(batch, **options))
                batch = []
        if batch:
            yield from ({"text": " ".join(w)} for w in self.generate(batch, **options))

    def evaluate(self, corpus: Iterable[Document]) -> dict[str, Any]:
        """ROUGE of the beam headlines and of Lead against `meta[target]` (documents with one)."""
        from components.ml.rouge import rouge_scores

        pairs = self.collect_pairs(corpus, "evaluate")
        keep = [i for i, t in enumerate(pairs.targets) if t]
        sources = [pairs.sources[i] for i in keep]
        references = [pairs.references[i] or "" for i in keep]
        beam = [" ".join(w) for w in self.generate(sources)]
        lead = [" ".join(s[:LEAD_WORDS]) for s in sources]
        return {
            "beam": rouge_scores(beam, references),
            "lead": rouge_scores(lead, references),
            "without_target": len(pairs.ids) - len(keep),
        }

    # ----------------------------------------------------------- files
    def save(self, folder: Path) -> None:
        """Write `task.json`, `model/weights.pt` (state dict), `model/vocab.json` and
        `model/network.json` (and `pipeline.json` when known and absent)."""
        import torch

        folder = Path(folder)
        model = folder / MODEL_FOLDER
        model.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu() for k, v in self.network_.state_dict().items()}
        torch.save(state, model / "weights.pt")
        self.vocabulary_.save(model / "vocab.json")
        write_json(model / "network.json", self.network_config_)
        write_task_record(folder, self)

    @classmethod
    def load(cls, folder: Path) -> Self:
        """A fitted task read back from `folder` (written by `save`); nothing is unpickled."""
        import torch

        from .seq2seq_network import Seq2SeqNetwork
        from .vocab import Vocabulary

        folder = Path(folder)
        task = cls(**read_task_record(folder, cls.model)["params"])
        model = folder / MODEL_FOLDER
        task.vocabulary_ = Vocabulary.load(model / "vocab.json")
        task.network_config_ = json.loads((model / "network.json").read_text(encoding="utf-8"))
        task.network_ = Seq2SeqNetwork(**task.network_config_)
        task.network_.load_state_dict(torch.load(model / "weights.pt", weights_only=True))
        task.network_.eval()
        task.pipeline_ = read_json(folder / PIPELINE_FILE)
        return task
