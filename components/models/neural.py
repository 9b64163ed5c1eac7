"""The torch text classifiers: `TextEstimator`s over token lists, trained by the shared core.

Architectures (`NEURAL` maps each name to its class): `lstm`, `bilstm`, `gru`, `rnn`,
`textcnn`, `transformer` over token-id sequences, and `mlp` over a fixed vector per
document (TF-IDF of the tokens, or the mean of word vectors). Each class is a keyword-only
dataclass: its constructor stores its parameters and nothing else, and its signature (with
`Literal` choices) is the config schema. `fit` builds the vocabulary and the network and
trains through `components.models.training.Trainer`, checkpointing into
`context.workdir`; `save` writes `weights.pt` (a state dict), `estimator.json` and the
vocabulary as JSON: nothing is pickled.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import numpy as np

from .estimator import FitContext, Tokens
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

log = logging.getLogger(__name__)

# The training core's choices (kept equal to its tuples by a test; no torch import here).
Optimizer = Literal["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
Schedule = Literal["none", "step", "exponential", "cosine", "plateau"]
Loss = Literal["cross_entropy", "focal", "bce", "mse", "mae", "huber", "hinge"]
Monitor = Literal["val_loss", "val_accuracy", "val_macro_f1"]
Device = Literal["auto", "cpu", "cuda"]
Pooling = Literal["last", "max", "mean"]
Activation = Literal["relu", "leaky_relu", "elu", "tanh", "sigmoid", "linear"]

WEIGHTS_FILE = "weights.pt"
ESTIMATOR_FILE = "estimator.json"
VOCAB_FILE = "vocab.json"


def tokens_as_list(tokens: Sequence[str]) -> list[str]:
    """A document's tokens unchanged: the TF-IDF analyzer of the `mlp` (the task selected them)."""
    return list(tokens)


@dataclass(kw_only=True, eq=False)
class NeuralTextClassifier:
    """Shared training settings and fit / predict / save of the torch classifiers.

    Training: `epochs` of `batch_size`, `optimizer` at `lr` with `schedule` (after
    `warmup_epochs`), `loss` (`class_weight` "balanced", `label_smoothing`, `focal_gamma`),
    `weight_decay` (L2), `l1`, `dropout`, `grad_clip`; early stopping on `monitor` after
    `patience` epochs (without a validation set it monitors the training loss), the best
    weights kept. `seed`: None takes the fit context's seed. `device`: auto | cpu | cuda.
    """

    architecture: ClassVar[str] = ""
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: Optimizer = "adam"
    schedule: Schedule = "none"
    warmup_epochs: int = 0
    loss: Loss = "cross_entropy"
    class_weight: Literal["balanced"] | None = None
    label_smoothing: float = 0.0
    focal_gamma: float = 2.0
    weight_decay: float = 0.0
    l1: float = 0.0
    dropout: float = 0.5
    grad_clip: float = 5.0
    patience: int = 3
    monitor: Monitor = "val_loss"
    min_count: int = 2
    max_vocab: int = 50000
    device: Device = "auto"
    seed: int | None = None

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """The constructor parameters and their values (as scikit-learn's `get_params`)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # -- what each architecture provides --------------------------------------------------
    def _fit_features(self, texts: Sequence[Tokens], context: FitContext, seed: int) -> Any:
        """Learn the input side (vocabulary, vectorizer); return a pretrained matrix or None."""
        raise NotImplementedError

    def _batches(self, texts: Sequence[Tokens], y: Any, *, shuffle: bool, seed: int = 0) -> Any:
        raise NotImplementedError

    def _network(self, num_classes: int, pretrained: Any = None) -> Any:
        raise NotImplementedError

    def _save_features(self, folder: Path) -> dict[str, Any]:
        raise NotImplementedError

    def _load_features(self, folder: Path, record: dict[str, Any]) -> None:
        raise NotImplementedError

    # -- the protocol ---------------------------------------------------------------------
    def fit(
        self,
        texts: Sequence[Tokens],
        labels: Sequence[str],
        *,
        validation: tuple[Sequence[Tokens], Sequence[str]] | None = None,
        context: FitContext,
    ) -> Self:
        """Build the vocabulary and network on `texts`, train (resuming a checkpoint of
        `context.workdir` saved under `context.key`), keep the best epoch's weights, and write
        `history.json`, `learning_curve.png` and `gradient_norms.png` into the workdir."""
        from .training import Trainer, plot_gradient_norms, plot_learning_curve, seed_everything

        seed = context.seed if self.seed is None else self.seed
        seed_everything(seed)
        self.classes_ = sorted({str(label) for label in labels})
        if len(self.classes_) < 2:
            raise ValueError(
                f"{self.architecture}: the training labels hold {len(self.classes_)} class; "
                "a classifier needs at least two"
            )
        index = {c: i for i, c in enumerate(self.classes_)}
        y = np.asarray([index[str(label)] for label in labels], dtype=np.int64)
        pretrained = self._fit_features(texts, context, seed)
        train = self._batches(texts, y, shuffle=True, seed=seed)
        val = None
        if validation is not None and len(validation[0]):
            keep = [i for i, label in enumerate(validation[1]) if str(label) in index]
            if len(keep) < len(validation[1]):
                log.warning(
                    "%d validation documents have labels unseen in training; left out",
                    len(validation[1]) - len(keep),
                )
            val_y = np.asarray([index[str(validation[1][i])] for i in keep], dtype=np.int64)
            val = self._batches([validation[0][i] for i in keep], val_y, shuffle=False)
        self.model_ = self._network(len(self.classes_), pretrained)
        loss_params: dict[str, Any] = {"num_classes": len(self.classes_), "targets": y}
        if self.class_weight is not None:
            loss_params["class_weight"] = self.class_weight
        if self.loss == "cross_entropy":
            loss_params["label_smoothing"] = self.label_smoothing
        if self.loss == "focal":
            loss_params["gamma"] = self.focal_gamma
        trainer = Trainer(
            epochs=self.epochs,
            optimizer=self.optimizer,
            lr=self.lr,
            weight_decay=self.weight_decay,
            schedule=self.schedule,
            warmup_epochs=self.warmup_epochs,
            loss=self.loss,
            loss_params=loss_params,
            l1=self.l1,
            grad_clip=self.grad_clip,
            monitor=self.monitor,
            patience=self.patience,
            device=self.device,
            seed=None,  # seeded above, before the network's initialisation
        )
        workdir = Path(context.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        self.history_ = trainer.fit(
            self.model_, train, val, workdir=workdir, key=context.key, log_epoch=context.log
        )
        self.device_ = trainer.device_
        self.best_epoch_ = trainer.best_epoch_
        plot_learning_curve(
            self.history_,
            workdir / "learning_curve.png",
            monitor=trainer.monitor if val else "train_loss",
        )
        plot_gradient_norms(self.history_, workdir / "gradient_norms.png")
        return self

    def predict_proba(self, texts: Sequence[Tokens]) -> np.ndarray:
        """Class probabilities `(len(texts), len(classes_))` in input order (eval mode, batched)."""
        from .training import predict_outputs

        if len(texts) == 0:
            return np.zeros((0, len(self.classes_)))
        batches = self._batches(texts, None, shuffle=False)
        logits = predict_outputs(self.model_, batches, device=self.device_).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        return probs / probs.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[Tokens]) -> list[str]:
        """The most probable class name of each text."""
        return [self.classes_[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def save(self, folder: Path) -> None:
        """Write `weights.pt` (state dict), `estimator.json` (architecture, parameters,
        classes, network sizes) and the input side (vocabulary / vectorizer as JSON, .npy)."""
        import torch

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu() for k, v in self.model_.state_dict().items()}
        torch.save(state, folder / WEIGHTS_FILE)
        record = {
            "architecture": self.architecture,
            "params": _plain(self.get_params()),
            "classes": self.classes_,
            "best_epoch": getattr(self, "best_epoch_", None),
            **self._save_features(folder),
        }
        (folder / ESTIMATOR_FILE).write_text(json.dumps(record, indent=1), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> Self:
        """Rebuild an estimator saved by `save` (weights read with `weights_only=True`)."""
        import torch

        from .training import resolve_device

        folder = Path(folder)
        record = json.loads((folder / ESTIMATOR_FILE).read_text("utf-8"))
        klass = NEURAL.get(record.get("architecture", ""))
        if klass is None or not issubclass(klass, cls):
            raise ValueError(
                f"{folder}: holds a {record.get('architecture')!r} model, not {cls.__name__}"
            )
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in record["params"].items()}
        est = klass(**params)
        est.classes_ = list(record["classes"])
        est.history_ = []
        est.best_epoch_ = record.get("best_epoch")
        est._load_features(folder, record)
        est.model_ = est._network(len(est.classes_))
        est.model_.load_state_dict(torch.load(folder / WEIGHTS_FILE, weights_only=True))
        est.device_ = resolve_device(est.device)
        est.model_.to(est.device_).eval()
        return est  # type: ignore[return-value]


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
    `rnn` are this class with the cell (and direction) fixed."""

    architecture: ClassVar[str] = "rnn"
    cell: ClassVar[str] = "rnn"
    bidirectional: ClassVar[bool] = False
    epochs: int = 8
    lr: float = 2e-3
    hidden: int = 64
    layers: int = 1
    pooling: Pooling = "mean"

    def _network(self, num_classes: int, pretrained: Any = None) -> Any:
        from .networks import RNNClassifier

        return RNNClassifier(
            len(self.vocabulary_),
            self.embed_dim_,
            hidden=self.hidden,
            layers=self.layers,
            cell=self.cell,  # type: ignore[arg-type]
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            num_classes=num_classes,
            pooling=self.pooling,
            pretrained=pretrained,
            freeze=self.freeze,
        )


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


@dataclass(kw_only=True, eq=False)
class MLPTextClassifier(NeuralTextClassifier):
    """A feed-forward network (`hidden` widths, `activation`) over one vector per document.

    `features`: `tfidf` (TF-IDF of the tokens: scikit-learn's `TfidfVectorizer`, words seen in
    `min_count` documents, at most `max_vocab`), or word vectors (a name or path as the
    sequence models' `embeddings`): the mean vector of the tokens that have one.
    """

    architecture: ClassVar[str] = "mlp"
    features: str = "tfidf"
    hidden: tuple[int, ...] = (256, 128)
    activation: Activation = "relu"
    max_vocab: int = 20000

    def _fit_features(self, texts: Sequence[Tokens], context: FitContext, seed: int) -> Any:
        if self.features == "tfidf":
            from sklearn.feature_extraction.text import TfidfVectorizer

            self.vectorizer_ = TfidfVectorizer(
                analyzer=tokens_as_list,
                min_df=self.min_count,
                max_features=self.max_vocab,
                sublinear_tf=True,
                dtype=np.float32,
            ).fit(texts)
            self.n_features_ = len(self.vectorizer_.vocabulary_)
            return None
        from .embeddings import load_word_vectors

        kv = load_word_vectors(self.features, run_dir=context.run_dir)
        vocab = Vocabulary.build(texts, min_count=1, max_size=None)
        words, rows = [], []
        for word in vocab.words[2:]:
            found = kv.key_to_index.get(word, kv.key_to_index.get(word.lower()))
            if found is not None:
                words.append(word)
                rows.append(found)
        self.feature_words_ = Vocabulary(words)
        self.feature_vectors_ = np.asarray(kv.vectors[rows], dtype=np.float32).reshape(
            -1, kv.vector_size
        )
        self.n_features_ = kv.vector_size
        log.info(
            "mlp features %s: %d of %d words have vectors",
            self.features,
            len(words),
            len(vocab) - 2,
        )
        return None

    def _matrix(self, texts: Sequence[Tokens]) -> Any:
        if self.features == "tfidf":
            return self.vectorizer_.transform(texts)
        out = np.zeros((len(texts), self.n_features_), dtype=np.float32)
        for i, tokens in enumerate(texts):
            ids = [j - 2 for j in self.feature_words_.encode(tokens) if j > 1]
            if ids:
                out[i] = self.feature_vectors_[ids].mean(axis=0)
        return out

    def _batches(self, texts: Sequence[Tokens], y: Any, *, shuffle: bool, seed: int = 0) -> Any:
        from .training import FeatureBatcher

        size = self.batch_size if shuffle else max(self.batch_size, 256)
        return FeatureBatcher(self._matrix(texts), y, batch_size=size, shuffle=shuffle, seed=seed)

    def _network(self, num_classes: int, pretrained: Any = None) -> Any:
        from .networks import MLP

        return MLP(
            self.n_features_,
            hidden=self.hidden,
            activation=self.activation,
            dropout=self.dropout,
            num_classes=num_classes,
        )

    def _save_features(self, folder: Path) -> dict[str, Any]:
        if self.features == "tfidf":
            words = self.vectorizer_.get_feature_names_out().tolist()
            (folder / VOCAB_FILE).write_text(
                json.dumps({"words": words}, ensure_ascii=False), "utf-8"
            )
            np.save(folder / "idf.npy", self.vectorizer_.idf_)
        else:
            self.feature_words_.save(folder / VOCAB_FILE)
            np.save(folder / "feature_vectors.npy", self.feature_vectors_)
        return {"n_features": self.n_features_}

    def _load_features(self, folder: Path, record: dict[str, Any]) -> None:
        self.n_features_ = int(record["n_features"])
        if self.features == "tfidf":
            from sklearn.feature_extraction.text import TfidfVectorizer

            words = json.loads((folder / VOCAB_FILE).read_text("utf-8"))["words"]
            self.vectorizer_ = TfidfVectorizer(
                analyzer=tokens_as_list, vocabulary=words, sublinear_tf=True, dtype=np.float32
            )
            self.vectorizer_.idf_ = np.load(folder / "idf.npy", allow_pickle=False)
        else:
            self.feature_words_ = Vocabulary.load(folder / VOCAB_FILE)
            self.feature_vectors_ = np.load(folder / "feature_vectors.npy", allow_pickle=False)


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


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
