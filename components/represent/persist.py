"""Save formats of the learners: JSON, `.npy` and `.npz` only, never pickles.

A saved learner is a folder holding `learner.json` (registry name, version and
constructor parameters) plus its learned state as `.npy` / `.npz` arrays and JSON
vocabularies. `load` reads arrays with `allow_pickle=False`, so loading a folder
cannot run code. Word vectors are saved as `vectors.npy` + `vocab.json` (exact
float32) and exported in word2vec text format.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .tokens import RepresentError

__all__ = [
    "read_learner",
    "write_learner",
    "read_json",
    "write_json",
    "load_array",
    "save_keyed_vectors",
    "load_keyed_vectors",
    "export_word2vec",
]

LEARNER_FILE = "learner.json"


def write_json(path: Path, data: Any) -> None:
    """Write `data` as UTF-8 JSON."""
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def read_json(path: Path) -> Any:
    """Read a UTF-8 JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_learner(learner: Any, path: str | Path) -> Path:
    """Create the folder and write `learner.json` (name, version, parameters); return the folder."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    params = {k: _plain(v) for k, v in learner.get_params(deep=False).items()}
    meta = {"learner": learner.name, "version": learner.version, "params": params}
    write_json(folder / LEARNER_FILE, meta)
    return folder


def read_learner(cls: type, path: str | Path) -> tuple[Any, Path]:
    """Rebuild an unfitted learner of `cls` from a folder's `learner.json`; return it and the folder."""
    folder = Path(path)
    meta_path = folder / LEARNER_FILE
    if not meta_path.is_file():
        raise RepresentError(f"{folder}: not a saved learner (no {LEARNER_FILE})")
    meta = read_json(meta_path)
    if meta.get("learner") != cls.name:  # type: ignore[attr-defined]
        raise RepresentError(
            f"{folder} holds a saved {meta.get('learner')!r} learner, not {cls.name!r}"  # type: ignore[attr-defined]
        )
    params = meta["params"]
    for key, value in params.items():
        if isinstance(value, list) and key.endswith("_range"):
            params[key] = tuple(value)
    return cls(**params), folder


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):  # e.g. a value from a scikit-learn parameter grid
        return value.item()
    if isinstance(value, str | int | float | bool | dict) or value is None:
        return value
    # Objects (e.g. in-memory word vectors) are saved by the learner itself.
    return None


def load_array(path: Path) -> np.ndarray:
    """Load a `.npy` array without unpickling."""
    return np.load(path, allow_pickle=False)


def save_keyed_vectors(kv: Any, folder: Path, prefix: str = "") -> None:
    """Save gensim `KeyedVectors` as `{prefix}vectors.npy` + `{prefix}vocab.json` (keys, counts)."""
    np.save(folder / f"{prefix}vectors.npy", np.asarray(kv.vectors, dtype=np.float32))
    stored = getattr(kv, "expandos", {}).get("count")
    counts = [0] * len(kv.index_to_key) if stored is None else [int(c) for c in stored]
    write_json(folder / f"{prefix}vocab.json", {"keys": list(kv.index_to_key), "counts": counts})


def load_keyed_vectors(folder: Path, prefix: str = "") -> Any:
    """Load what `save_keyed_vectors` wrote as gensim `KeyedVectors`."""
    from gensim.models import KeyedVectors

    vectors = load_array(folder / f"{prefix}vectors.npy")
    vocab = read_json(folder / f"{prefix}vocab.json")
    kv = KeyedVectors(vectors.shape[1], count=0, dtype=np.float32)
    kv.add_vectors(vocab["keys"], vectors)
    if any(vocab["counts"]):
        kv.expandos["count"] = np.asarray(vocab["counts"], dtype=np.int64)
    return kv


def export_word2vec(kv: Any, path: Path, *, binary: bool = False) -> Path:
    """Write word vectors in word2vec format (text by default), readable by
    `gensim.models.KeyedVectors.load_word2vec_format(path, binary=binary)`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kv.save_word2vec_format(str(path), binary=binary, write_header=True)
    return path
