"""What every analytics task shares: parameters, staged outputs, save/load, predict.

An analytics task (topics, summaries, sentiment, keywords, entities, related stories)
computes over the run's documents rather than training on labels. Subclasses:

- define a keyword-only `__init__` that only stores its parameters (validated by the
  engine from the annotations, as for every component) and set `method`;
- implement `_fit(corpus, staging, run_dir)`: compute over the documents (one pass where
  the method allows; the corpus is restartable), set the learned state (names ending in
  `_`) and write `metrics.json`, `predictions.jsonl`, plots and `report.json` into
  `staging`, which `fit` moves into the task folder at the end (a fit that fails part
  way leaves the previous results whole);
- implement `predict_document(doc)`: the task's output for one processed document;
- when they learn state, implement `_save_state(folder)` / `_load_state(folder)` with
  plain files (JSON, `.npy`, gensim's own `save`): never a pickle.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Self

from pipeline import registry
from pipeline.config import ConfigError
from pipeline.document import Document, content_id
from pipeline.files import move_files

from ..represent.tokens import Field, RepresentError, token_stream

__all__ = [
    "AnalyticsTask",
    "JsonLines",
    "TASK_FILE",
    "document_tokens",
    "run_folder",
    "staged_key",
    "write_json",
]

TASK_FILE = "task.json"


def write_json(path: Path, data: Any) -> None:
    """Write `data` as indented UTF-8 JSON (parents created); numpy scalars become numbers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(data, indent=2, ensure_ascii=False, default=_plain), encoding="utf-8"
    )


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


class JsonLines:
    """A `.jsonl` file written one record at a time (`with JsonLines(path) as out: out.write(r)`)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.count = 0

    def __enter__(self) -> Self:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("w", encoding="utf-8")
        return self

    def write(self, record: dict[str, Any]) -> None:
        """Append one record as a line of JSON."""
        self._fh.write(json.dumps(record, ensure_ascii=False, default=_plain) + "\n")
        self.count += 1

    def __exit__(self, *exc: object) -> None:
        self._fh.close()


class AnalyticsTask:
    """Base class of the analytics tasks (see the module docstring for the contract)."""

    method: ClassVar[str] = ""
    version: ClassVar[str] = "1"

    def get_params(self) -> dict[str, Any]:
        """The constructor's parameters and their current values."""
        return {name: getattr(self, name) for name in registry.parameters(type(self))}

    # -- fitting -------------------------------------------------------------------------

    def fit(self, corpus: Iterable[Document], run_dir: Path) -> Self:
        """Compute over `corpus` and write the outputs into the task folder `run_dir`
        (through a staging folder beside it, moved in when the computation is done)."""
        folder = Path(run_dir)
        staging = folder.parent / f".{folder.name}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            self._fit(corpus, staging, run_folder(folder))
            move_files(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return self

    def _fit(self, corpus: Iterable[Document], staging: Path, run_dir: Path | None) -> None:
        raise NotImplementedError

    # -- using ---------------------------------------------------------------------------

    def predict_document(self, doc: Document) -> dict[str, Any]:
        """The task's output for one processed document (JSON-ready)."""
        raise NotImplementedError

    def predict(self, texts_or_docs: Iterable[str | Document]) -> Iterator[dict[str, Any]]:
        """One output per input, in input order. Documents should have gone through the
        run's stages (`nlp predict` does that); a bare string becomes a document as is."""
        for item in texts_or_docs:
            doc = item if isinstance(item, Document) else Document(id=content_id(item), text=item)
            yield self.predict_document(doc)

    def evaluate(self, corpus: Iterable[Document]) -> dict[str, Any]:
        """Metrics against references in the documents; tasks without references refuse."""
        raise ConfigError(
            f"method {self.method!r} has no reference to evaluate against: "
            "its figures are in the task folder's metrics.json"
        )

    # -- files ---------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write `task.json` (method, version, parameters) and the learned state."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        record = {"method": self.method, "version": self.version, "params": self.get_params()}
        write_json(folder / TASK_FILE, record)
        self._save_state(folder)

    @classmethod
    def load(cls, folder: Path) -> Self:
        """A fitted task read back from a folder written by `save`."""
        folder = Path(folder)
        record = json.loads((folder / TASK_FILE).read_text(encoding="utf-8"))
        if record.get("method") != cls.method:
            raise ValueError(
                f"{folder / TASK_FILE} holds a {record.get('method')!r} task, not {cls.method!r}"
            )
        task = cls(**record["params"])
        task._load_state(folder)
        return task

    def _save_state(self, folder: Path) -> None:
        """Write the learned state (none by default)."""

    def _load_state(self, folder: Path) -> None:
        """Read the learned state back (none by default)."""


def document_tokens(doc: Document, *, field: Field, drop_stop: bool, where: str) -> list[str]:
    """The selected tokens of `doc` (punctuation dropped); a token column that no stage
    set is a `ConfigError` at `{where}.field` / `{where}.drop_stop` naming the stage to add."""
    try:
        return token_stream(doc, field=field, drop_stop=drop_stop, drop_punct=True)
    except RepresentError as exc:
        key = "drop_stop" if "is_stop" in str(exc) else "field"
        raise ConfigError(f"{where}.{key}: {exc}") from None


def run_folder(task_folder: Path) -> Path | None:
    """The run folder of a task folder `RUN/tasks/NAME` or of one below it (a search's
    trial, `RUN/tasks/NAME/search/trials/K`), or `None` outside a run."""
    for parent in Path(task_folder).resolve().parents:
        if parent.name == "tasks":
            return parent.parent
    return None


def staged_key(staging: Path) -> str:
    """`tasks.NAME`, the config key of the task whose staging folder is `staging`
    (`.NAME.staging`, made by `AnalyticsTask.fit`): the prefix of its error messages."""
    return f"tasks.{staging.name.removeprefix('.').removesuffix('.staging')}"
