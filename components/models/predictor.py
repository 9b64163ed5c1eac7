"""`load(MODEL_DIR)`: a trained task folder as a `Predictor` that takes raw text.

A task folder (`RUN/tasks/NAME/`) records in `pipeline.json` the task's name, component
and parameters, the stages its documents went through and how its corpus was read. The
`Predictor` loads the task through the registry (`lookup("task", component).load`) and
runs raw strings (or untokenized documents) through those same stages before predicting,
so `nlp predict` and `nlp serve` need nothing but the folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline.document import Document

__all__ = ["ModelFolderError", "Predictor", "load"]

PIPELINE_FILE = "pipeline.json"
BATCH = 256


class ModelFolderError(ValueError):
    """A model folder that is missing, incomplete or corrupted; the message names the
    folder and the file at fault."""


class Predictor:
    """A loaded model folder: `predict` raw texts or documents, `evaluate` labelled ones.

    `name` is the task's name in its run, `component` the model (`logreg`, `bilstm`, ...),
    `classes` the class names, `card` the model card (a dict), `corpus` the reader
    settings the training corpus was read with, `stages` the stages run before the task.
    """

    def __init__(self, folder: Path, task: Any, record: Mapping[str, Any]):
        self.folder = folder
        self.task = task
        self.name: str = str(record.get("name") or folder.name)
        self.component: str = str(record["component"])
        self.params: dict[str, Any] = dict(record.get("params") or {})
        self.stages: list[dict[str, Any]] = list(record.get("stages") or [])
        self.corpus: dict[str, Any] = dict(record.get("corpus") or {})
        self.classes: list[str] = list(getattr(task, "classes_", []))
        self.card: dict[str, Any] = dict(getattr(task, "card_", None) or {})
        self._pipeline: Any = None

    def __repr__(self) -> str:
        return (
            f"Predictor(name={self.name!r}, component={self.component!r}, folder='{self.folder}')"
        )

    def documents(self, texts_or_docs: Iterable[str | Document]) -> Iterator[Document | dict]:
        """Each input ready for the task: raw strings and documents without tokens run
        through the model's stages (language set first, as a run does); a document a stage
        fails on becomes its quarantine record (a dict with `reason`), in its place."""
        batch: list[str | Document] = []
        for item in texts_or_docs:
            batch.append(item)
            if len(batch) == BATCH:
                yield from self._prepare(batch)
                batch = []
        if batch:
            yield from self._prepare(batch)

    def _prepare(self, items: Sequence[str | Document]) -> list[Document | dict]:
        from pipeline.language import set_languages
        from pipeline.plan import plan_stages
        from pipeline.shards import run_stage

        ready: list[Document | dict | None] = []
        todo: list[tuple[int, Document]] = []
        for i, item in enumerate(items):
            if isinstance(item, Document) and item.tokens is not None:
                ready.append(item)
                continue
            if not isinstance(item, str | Document):
                raise TypeError(f"expected a str or a Document, got {type(item).__name__}")
            doc = Document.from_text(item) if isinstance(item, str) else item
            ready.append(None)
            todo.append((i, doc))
        if todo:
            docs = [doc for _, doc in todo]
            set_languages(docs)
            failed: dict[str, dict[str, Any]] = {}
            for step in plan_stages(self._stages()):
                docs, quarantined = run_stage(step.stage, docs, BATCH)
                failed.update({str(record["id"]): record for record in quarantined})
            done = iter(docs)
            for i, doc in todo:
                ready[i] = failed.get(doc.id) or next(done)
        return [item for item in ready if item is not None]

    def _stages(self) -> list[Any]:
        if self._pipeline is None:
            from pipeline.pipeline import Pipeline

            self._pipeline = Pipeline.from_config({"stages": self.stages})
        return list(self._pipeline.stages)

    def predict(self, texts_or_docs: Iterable[str | Document]) -> list[dict[str, Any]]:
        """One prediction per input, in input order: for a classifier `{"label",
        "probabilities": {class: p}}`; `{"quarantined": reason}` for an input the stages
        rejected."""
        out: list[dict[str, Any]] = []
        pending: list[Document] = []
        slots: list[dict[str, Any] | None] = []
        for item in self.documents(texts_or_docs):
            if isinstance(item, Document):
                pending.append(item)
                slots.append(None)
            else:
                slots.append({"quarantined": item.get("reason", "rejected by a stage")})
        predictions = iter(self.task.predict(pending))
        for slot in slots:
            out.append(slot if slot is not None else next(predictions))
        return out

    def evaluate(self, docs_or_texts_with_labels: Iterable[Any]) -> dict[str, Any]:
        """Metrics on labelled inputs: documents carrying the label in `meta[label]`, or
        `(text, label)` pairs. Raw texts go through the model's stages first."""
        label_key = self.params.get("label", "label")
        docs: list[str | Document] = []
        for item in docs_or_texts_with_labels:
            if isinstance(item, Document):
                docs.append(item)
            else:
                text, label = item
                doc = Document.from_text(text)
                doc.meta[label_key] = label
                docs.append(doc)
        ready = [d for d in self.documents(docs) if isinstance(d, Document)]
        return self.task.evaluate(ready)


def load(folder: str | Path) -> Predictor:
    """The model in `folder` (a task folder of a run) as a `Predictor`.

    Reads `pipeline.json`, looks the task component up in the registry and calls its
    `load(folder)`. Raises `ModelFolderError` naming the folder and the missing or bad file.
    """
    from pipeline import registry

    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ModelFolderError(f"{folder}: no such model folder (expected RUN/tasks/NAME)")
    record_path = folder / PIPELINE_FILE
    if not record_path.is_file():
        raise ModelFolderError(
            f"{folder}: not a model folder: {PIPELINE_FILE} is missing (a run writes it into "
            "each task folder, RUN/tasks/NAME/)"
        )
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        component = record["component"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelFolderError(f"{record_path}: unreadable ({type(exc).__name__}: {exc})") from None
    try:
        task_class: Any = registry.lookup("task", component)
    except registry.RegistryError as exc:
        raise ModelFolderError(f"{record_path}: {exc}") from None
    try:
        task = task_class.load(folder)
    except FileNotFoundError as exc:
        missing = Path(exc.filename).name if exc.filename else str(exc)
        raise ModelFolderError(f"{folder}: the model is incomplete: {missing} is missing") from None
    except Exception as exc:  # noqa: BLE001 - any damage to the files: one clear line
        raise ModelFolderError(
            f"{folder}: the saved {component} model cannot be loaded "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        ) from None
    return Predictor(folder, task, record)
