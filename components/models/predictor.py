"""`load(MODEL_DIR)`: a trained task folder as a `Predictor` that takes raw text.

A thin Python face over `pipeline.predict.ModelFolder`, which reads the folder's
`pipeline.json`, loads the task through the registry and rebuilds the stages its documents
went through: raw strings (or untokenized documents) are annotated exactly as a run would
(the same intake checks, language detection and per-document quarantine), so
`components.models.load`, `nlp predict` and `nlp serve` agree on every input.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pipeline.document import Document
from pipeline.predict import (
    ModelFolder,
    ModelFolderError,
    PredictOptionError,
    annotate,
    check_predict_options,
)

__all__ = ["ModelFolderError", "PredictOptionError", "Predictor", "load"]

BATCH = 256


class Predictor:
    """A loaded model folder: `predict` raw texts or documents, `evaluate` labelled ones.

    `name` is the task's name in its run, `component` the model (`logreg`, `bilstm`, ...),
    `classes` the class names, `card` the model card (a dict), `corpus` the reader
    settings the training corpus was read with, `stages` the stages run before the task.
    """

    def __init__(self, model: ModelFolder):
        self.model = model
        self.folder = model.path
        self.task = model.task
        self.name = model.name
        self.component = model.component
        self.params = model.params
        self.stages = model.stages
        self.corpus = model.corpus
        self.classes: list[str] = list(getattr(model.task, "classes_", []))
        self.card: dict[str, Any] = dict(getattr(model.task, "card_", None) or {})
        self._steps: list[Any] | None = None

    def __repr__(self) -> str:
        return (
            f"Predictor(name={self.name!r}, component={self.component!r}, folder='{self.folder}')"
        )

    def documents(self, texts_or_docs: Iterable[str | Document]) -> Iterator[Document | dict]:
        """Each input ready for the task, in input order: documents that already carry
        tokens as they are; raw strings and untokenized documents through the model's
        stages; an input a run would quarantine becomes its quarantine record (a dict with
        `reason`)."""
        if self._steps is None:
            self._steps = self.model.steps()
        max_chars = int(self.corpus.get("max_chars") or 1_000_000)
        batch: list[Document] = []
        for item in texts_or_docs:
            if isinstance(item, Document) and item.tokens is not None:
                if batch:
                    yield from annotate(batch, self._steps, max_chars=max_chars)
                    batch = []
                yield item
                continue
            if not isinstance(item, str | Document):
                raise TypeError(f"expected a str or a Document, got {type(item).__name__}")
            batch.append(Document.from_text(item) if isinstance(item, str) else item)
            if len(batch) >= BATCH:
                yield from annotate(batch, self._steps, max_chars=max_chars)
                batch = []
        if batch:
            yield from annotate(batch, self._steps, max_chars=max_chars)

    def predict(
        self, texts_or_docs: Iterable[str | Document], **options: Any
    ) -> list[dict[str, Any]]:
        """One prediction per input, in input order: for a classifier `{"label",
        "probabilities": {class: p}}`; `{"quarantined": reason}` for an input a run would
        have quarantined (empty, oversized, rejected by a stage). `options` (`strategy`,
        `top_p`, `max_length`, ...: the task's `predict_options`) go to the task's `predict`;
        `PredictOptionError` for one it does not take or a value out of range."""
        options = check_predict_options(self.task, options)
        pending: list[Document] = []
        slots: list[dict[str, Any] | None] = []
        for item in self.documents(texts_or_docs):
            if isinstance(item, Document):
                pending.append(item)
                slots.append(None)
            else:
                slots.append({"quarantined": item.get("reason", "rejected by a stage")})
        predictions = iter(self.task.predict(pending, **options) if pending else [])
        return [slot if slot is not None else next(predictions) for slot in slots]

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
    """The model in `folder` (a task folder of a run, `RUN/tasks/NAME/`) as a `Predictor`.

    Raises `ModelFolderError` naming the folder and the missing or damaged file.
    """
    return Predictor(ModelFolder.open(Path(folder).expanduser()))
