"""The `mlp` text classifier: a feed-forward network over one vector per document.

The vector is the TF-IDF of the document's tokens or the mean of their word vectors;
training, prediction and saving are `NeuralTextClassifier`'s (`neural_base`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from .estimator import FitContext, Tokens
from .neural_base import VOCAB_FILE, NeuralTextClassifier
from .vocab import Vocabulary

__all__ = ["MLPTextClassifier", "tokens_as_list"]

log = logging.getLogger(__name__)

Activation = Literal["relu", "leaky_relu", "elu", "tanh", "sigmoid", "linear"]


def tokens_as_list(tokens: Sequence[str]) -> list[str]:
    """A document's tokens unchanged: the TF-IDF analyzer of the `mlp` (the task selected them)."""
    return list(tokens)


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
