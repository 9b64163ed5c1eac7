"""The torch text classifiers: `TextEstimator`s over token lists, trained by the shared core.

Architectures (`NEURAL` maps each name to its class): `lstm`, `bilstm`, `gru`, `rnn`,
`textcnn`, `transformer` over token-id sequences, and `mlp` over a fixed vector per
document (TF-IDF of the tokens, or the mean of word vectors). Each class is a keyword-only
dataclass: its constructor stores its parameters and nothing else, and its signature (with
`Literal` choices) is the config schema. `fit` builds the vocabulary and the network and
trains through `components.models.training.Trainer`, checkpointing into
`context.workdir`; `save` writes `weights.pt` (a state dict), `estimator.json` and the
vocabulary as JSON: nothing is pickled. The shared fit / predict / save live in
`neural_base`, the `mlp` in `neural_mlp`; this module holds the token-sequence networks
and the registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from .estimator import FitContext, Tokens
from .neural_base import VOCAB_FILE, NeuralTextClassifier
from .neural_mlp import MLPTextClassifier, tokens_as_list
from .vocab import Vocabulary

__all__ = [
    "NEURAL",
    "BiLSTMClassifier",
    "GRUClassifier",
    "LSTMClassifier",
    "MLPTextClassifier",
    "NeuralTextClassifier",
    "RNNTextClassifier",
    "TextCNNClassifier",
    "TransformerTextClassifier",
    "tokens_as_list",
]

Pooling = Literal["last", "max", "mean"]
INIT_FILE = "vocab_mapping.json"  # init_from: the language model words found and new


@dataclass(kw_only=True, eq=False)
class _SequenceClassifier(NeuralTextClassifier):
    """Token-id networks: a vocabulary of the training tokens and an embedding layer.

    `embeddings`: None (trained from scratch, `embed_dim` wide), a packaged name
    (`glove-6b-50d`, `spacy-md`), a word-vector learner of this run (`word2vec`, `fasttext`,
    `glove`, `pretrained`) or a vectors file; its width then replaces `embed_dim`. `freeze`
    keeps pretrained vectors fixed. Texts are cut at `max_length` tokens.
    """

    embeddings: str | None = None
    embed_dim: int = 64
    freeze: bool = False
    max_length: int = 256
    min_length: ClassVar[int] = 1
    probes_positions: ClassVar[bool] = True

    def _fit_features(self, texts: Sequence[Tokens], context: FitContext, seed: int) -> Any:
        self.vocabulary_ = Vocabulary.build(
            texts, min_count=self.min_count, max_size=self.max_vocab
        )
        self.embed_dim_ = self.embed_dim
        if self.embeddings is None:
            return None
        from .embeddings import embedding_matrix

        matrix, self.embedding_coverage_ = embedding_matrix(
            self.embeddings, self.vocabulary_, run_dir=context.run_dir, seed=seed
        )
        self.embed_dim_ = matrix.shape[1]
        return matrix

    def _batches(self, texts: Sequence[Tokens], y: Any, *, shuffle: bool, seed: int = 0) -> Any:
        from .training import BucketBatcher

        return BucketBatcher(
            [self.vocabulary_.encode(t[: self.max_length]) for t in texts],
            y,
            batch_size=self.batch_size if shuffle else max(self.batch_size, 256),
            max_length=self.max_length,
            min_length=self.min_length,
            shuffle=shuffle,
            sort_by_length=not shuffle,
            seed=seed,
        )

    def _save_features(self, folder: Path) -> dict[str, Any]:
        self.vocabulary_.save(folder / VOCAB_FILE)
        return {
            "embed_dim": self.embed_dim_,
            "coverage": getattr(self, "embedding_coverage_", None),
        }

    def _load_features(self, folder: Path, record: dict[str, Any]) -> None:
        self.vocabulary_ = Vocabulary.load(folder / VOCAB_FILE)
        self.embed_dim_ = int(record["embed_dim"])


@dataclass(kw_only=True, eq=False)
class RNNTextClassifier(_SequenceClassifier):
    """A recurrent classifier: `cell` rnn | lstm | gru, `bidirectional`, `hidden` units per
    direction, `layers`, `pooling` over time (last | max | mean). `lstm`, `bilstm`, `gru` and
    `rnn` are this class with the cell (and direction) fixed.

    `init_from`: a trained `lstm-lm` task folder (ULMFiT's pretrain-then-fine-tune): the
    embedding starts from the language model's (words it lacks get the mean of its rows)
    and the LSTM layers from its layers where shapes allow (`lstm`: all of them; `bilstm`:
    the first layer's forward direction; `gru`/`rnn`: the embedding only). The sizes come
    from the language model; an `embed_dim`/`hidden`/`layers` other than the default that
    differs from it is a ConfigError. The mapping is saved as `model/vocab_mapping.json`.
    """

    architecture: ClassVar[str] = "rnn"
    cell: ClassVar[str] = "rnn"
    bidirectional: ClassVar[bool] = False
    epochs: int = 8
    lr: float = 2e-3
    hidden: int = 64
    layers: int = 1
    pooling: Pooling = "mean"
    init_from: str | None = None

    def _fit_features(self, texts: Sequence[Tokens], context: FitContext, seed: int) -> Any:
        self.hidden_, self.layers_ = self.hidden, self.layers
        if self.init_from is None:
            return super()._fit_features(texts, context, seed)
        from .lm_init import start_from_language_model

        self.vocabulary_ = Vocabulary.build(
            texts, min_count=self.min_count, max_size=self.max_vocab
        )
        start = start_from_language_model(self, _task_key(context.workdir, "init_from"))
        self.embed_dim_, self.hidden_, self.layers_ = start.embed_dim, start.hidden, start.layers
        self.init_state_ = start.encoder_state
        self.init_mapping_ = start.mapping
        return start.embedding

    def _network(self, num_classes: int, pretrained: Any = None) -> Any:
        from .networks import RNNClassifier

        network = RNNClassifier(
            len(self.vocabulary_),
            self.embed_dim_,
            hidden=getattr(self, "hidden_", self.hidden),
            layers=getattr(self, "layers_", self.layers),
            cell=self.cell,  # type: ignore[arg-type]
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            num_classes=num_classes,
            pooling=self.pooling,
            pretrained=pretrained,
            freeze=self.freeze,
        )
        state = getattr(self, "init_state_", None)
        if state:  # only in `fit`: `load` reads the trained weights over a fresh network
            network.encoder.load_state_dict(state, strict=False)
            self.init_state_ = None
        return network

    def _save_features(self, folder: Path) -> dict[str, Any]:
        record = super()._save_features(folder)
        record.update(hidden=self.hidden_, layers=self.layers_)
        mapping = getattr(self, "init_mapping_", None)
        if mapping is not None:
            import json

            (folder / INIT_FILE).write_text(json.dumps(mapping, indent=1), "utf-8")
            record["init_from"] = {k: v for k, v in mapping.items() if k != "new_words"}
        return record

    def _load_features(self, folder: Path, record: dict[str, Any]) -> None:
        super()._load_features(folder, record)
        self.hidden_ = int(record.get("hidden", self.hidden))
        self.layers_ = int(record.get("layers", self.layers))


def _task_key(workdir: Path, key: str) -> str:
    """`tasks.NAME.KEY` for the task training in `workdir` (`RUN/tasks/NAME[/folds/K]`)."""
    parts = Path(workdir).parts
    if "tasks" not in parts[:-1]:
        return f"tasks.{Path(workdir).name}.{key}"
    last = len(parts) - 1 - parts[::-1].index("tasks")
    return f"tasks.{parts[last + 1]}.{key}"


@dataclass(kw_only=True, eq=False)
class LSTMClassifier(RNNTextClassifier):
    """An LSTM over the token embeddings (see `RNNTextClassifier`)."""

    architecture: ClassVar[str] = "lstm"
    cell: ClassVar[str] = "lstm"


@dataclass(kw_only=True, eq=False)
class BiLSTMClassifier(RNNTextClassifier):
    """A bidirectional LSTM; both directions' states are concatenated (see `RNNTextClassifier`)."""

    architecture: ClassVar[str] = "bilstm"
    cell: ClassVar[str] = "lstm"
    bidirectional: ClassVar[bool] = True


@dataclass(kw_only=True, eq=False)
class GRUClassifier(RNNTextClassifier):
    """A GRU over the token embeddings (see `RNNTextClassifier`)."""

    architecture: ClassVar[str] = "gru"
    cell: ClassVar[str] = "gru"


@dataclass(kw_only=True, eq=False)
class TextCNNClassifier(_SequenceClassifier):
    """Kim's (2014) CNN: `num_filters` convolutions of each width in `filter_sizes`, max over
    time, dropout, linear."""

    architecture: ClassVar[str] = "textcnn"
    filter_sizes: tuple[int, ...] = (3, 4, 5)
    num_filters: int = 100

    @property
    def min_length(self) -> int:  # type: ignore[override]
        """Sequences are padded to the widest filter."""
        return max(self.filter_sizes)

    def _network(self, num_classes: int, pretrained: Any = None) -> Any:
        from .networks import TextCNN

        return TextCNN(
            len(self.vocabulary_),
            self.embed_dim_,
            filter_sizes=self.filter_sizes,
            num_filters=self.num_filters,
            dropout=self.dropout,
            num_classes=num_classes,
            pretrained=pretrained,
            freeze=self.freeze,
        )


@dataclass(kw_only=True, eq=False)
class TransformerTextClassifier(_SequenceClassifier):
    """A small Transformer encoder (`layers`, `heads`, `feedforward` width) over token plus
    learned position embeddings, mean-pooled over the real tokens."""

    architecture: ClassVar[str] = "transformer"
    embed_dim: int = 64
    heads: int = 4
    layers: int = 2
    feedforward: int = 128
    dropout: float = 0.1
    max_length: int = 128

    def _network(self, num_classes: int, pretrained: Any = None) -> Any:
        from .networks import TransformerClassifier

        return TransformerClassifier(
            len(self.vocabulary_),
            self.embed_dim_,
            heads=self.heads,
            layers=self.layers,
            feedforward=self.feedforward,
            max_length=self.max_length,
            dropout=self.dropout,
            num_classes=num_classes,
            pretrained=pretrained,
            freeze=self.freeze,
        )


#: architecture name -> estimator class
NEURAL: dict[str, type[NeuralTextClassifier]] = {
    "lstm": LSTMClassifier,
    "bilstm": BiLSTMClassifier,
    "gru": GRUClassifier,
    "rnn": RNNTextClassifier,
    "textcnn": TextCNNClassifier,
    "transformer": TransformerTextClassifier,
    "mlp": MLPTextClassifier,
}
