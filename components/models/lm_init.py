"""A recurrent classifier started from a trained `lstm-lm` language model (ULMFiT's
pretrain-then-fine-tune, Howard & Ruder 2018), for `init_from:` of `lstm`/`bilstm`/`gru`.

The classifier keeps its own vocabulary (the words of its training texts): a word the
language model knows takes the model's embedding row, a new word the mean of its rows
(ULMFiT's choice), padding stays zero. The LSTM layers are copied where the shapes allow:
all of them for `lstm`, the first layer's forward direction for `bilstm` (its upper layers
read both directions, twice as wide), none for `gru`/`rnn` (other gates). The whole
network is then fine-tuned at one learning rate: no gradual unfreezing and no
discriminative or slanted-triangular rates.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import ConfigError

__all__ = ["LanguageModelStart", "start_from_language_model"]

LSTM_PARAMS = ("weight_ih_l{k}", "weight_hh_l{k}", "bias_ih_l{k}", "bias_hh_l{k}")


@dataclass
class LanguageModelStart:
    """What a classifier starts from: its sizes, the embedding matrix for its vocabulary,
    the state to load into its recurrent encoder (`nn.LSTM` parameter names) and the
    mapping record (`vocab_mapping.json`)."""

    embed_dim: int
    hidden: int
    layers: int
    embedding: np.ndarray
    encoder_state: dict[str, Any]
    mapping: dict[str, Any]


def start_from_language_model(estimator: Any, where: str) -> LanguageModelStart:
    """The start of `estimator` (an `RNNTextClassifier` whose `vocabulary_` is built) from
    the `lstm-lm` folder in its `init_from`. Raises `ConfigError` at `where`
    (`tasks.NAME.init_from`) for a folder that holds no language model, for `embeddings`
    set too, and for a size that differs from the language model's."""
    folder = Path(str(estimator.init_from)).expanduser()
    if estimator.embeddings is not None:
        raise ConfigError(
            f"{where}: both init_from and embeddings ({estimator.embeddings!r}) set the "
            "embedding; keep one of them"
        )
    vocab, state, config = _read_language_model(folder, where)
    embedding = state["embedding.weight"].float().numpy()
    lm_dim, lm_hidden, lm_layers = embedding.shape[1], int(config["hidden"]), int(config["layers"])
    cell, bidirectional = estimator.cell, estimator.bidirectional
    copies_lstm = cell == "lstm"
    embed_dim = _size(estimator, "embed_dim", lm_dim, where, "embedding width")
    hidden = _size(estimator, "hidden", lm_hidden, where, "LSTM width") if copies_lstm else None
    layers = (
        _size(estimator, "layers", lm_layers, where, "number of LSTM layers")
        if copies_lstm and not bidirectional
        else None
    )
    hidden = estimator.hidden if hidden is None else hidden
    layers = estimator.layers if layers is None else layers
    copied = 0 if not copies_lstm else (1 if bidirectional else layers)
    encoder_state = {
        name.format(k=k): state[f"lstm.{name.format(k=k)}"].float().clone()
        for k in range(copied)
        for name in LSTM_PARAMS
    }
    matrix, found = _map_rows(vocab.words, estimator.vocabulary_.words, embedding)
    new_words = [w for w in estimator.vocabulary_.words[2:] if w not in vocab]
    mapping = {
        "init_from": str(folder),
        "words": len(estimator.vocabulary_) - 2,
        "found": found,
        "new": len(new_words),
        "language_model_words": len(vocab) - 2,
        "embed_dim": embed_dim,
        "hidden": hidden,
        "layers": layers,
        "lstm_layers_copied": copied,
        "directions_copied": "forward" if copied else "none",
        "new_words": new_words,
    }
    return LanguageModelStart(embed_dim, hidden, layers, matrix, encoder_state, mapping)


def _read_language_model(folder: Path, where: str) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    import json

    from .language_model import load_language_model

    advice = "point init_from at a trained lstm-lm task folder (RUN/tasks/NAME)"
    record = folder / "pipeline.json"
    if record.is_file():
        try:
            component = json.loads(record.read_text("utf-8")).get("component")
        except (json.JSONDecodeError, AttributeError):
            component = None
        if component != "lstm-lm":
            raise ConfigError(
                f"{where}: {folder} holds a {component!r} model, not an lstm-lm language "
                f"model; {advice}"
            )
    try:
        vocab, state, config = load_language_model(folder)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"{where}: {folder} is not an lstm-lm model ({first}); {advice}"
        ) from None
    needed = ["embedding.weight", *(f"lstm.{n.format(k=0)}" for n in LSTM_PARAMS)]
    missing = [key for key in needed if key not in state]
    if missing or "hidden" not in config or "layers" not in config:
        raise ConfigError(
            f"{where}: {folder} is not an lstm-lm model (its weights lack "
            f"{', '.join(missing) or 'the config sizes'}); {advice}"
        )
    return vocab, state, config


def _size(estimator: Any, name: str, lm_value: int, where: str, what: str) -> int:
    """The language model's `lm_value`, unless the estimator's `name` was set to another
    value than its default (then a ConfigError naming both)."""
    value = getattr(estimator, name)
    default = next(f.default for f in fields(estimator) if f.name == name)
    if value != default and value != lm_value:
        raise ConfigError(
            f"{where}: the language model's {what} is {lm_value} but {name} is {value}; "
            f"remove {name} (it is taken from the language model) or set it to {lm_value}"
        )
    return lm_value


def _map_rows(
    lm_words: list[str], words: list[str], embedding: np.ndarray
) -> tuple[np.ndarray, int]:
    """The embedding matrix for `words` (ids as positions; 0 padding, 1 unknown): each word
    the language model knows takes its row, others the mean of its rows (padding excluded);
    the unknown word takes the model's unknown row. Returns the matrix and the words found."""
    lm_index = {w: i for i, w in enumerate(lm_words)}
    mean = embedding[1:].mean(axis=0)
    matrix = np.tile(mean, (len(words), 1)).astype(np.float32)
    matrix[0] = 0.0
    matrix[1] = embedding[1]
    found = 0
    for i, word in enumerate(words[2:], start=2):
        row = lm_index.get(word)
        if row is not None:
            matrix[i] = embedding[row]
            found += 1
    return matrix, found
