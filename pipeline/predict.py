"""Predictions of a saved task folder on new input (`nlp predict`, `nlp evaluate MODEL_DIR`).

A task folder (`RUN/tasks/NAME/`) holds the fitted task and `pipeline.json`: its name,
component and parameters, and the corpus settings and stages of the run it was trained in
(written by `pipeline.tasks`). `ModelFolder.open` rebuilds the task through the registry
(`Task.load`, never unpickling) and the stages from their config, so raw files or text go
in and predictions come out, one per input document, in input order. A document the
reader or a stage rejects gives a quarantine record in its place, never a crash.

Generation options (`strategy`, `beam`, `max_length`, `top_p`, `score`, ...) reach the
task as keyword arguments of `task.predict(docs, **options)`; a task declares the ones it
takes in its class attribute `predict_options` (a tuple of names; none for a classifier).
`check_predict_options` refuses an option the task does not take or a value out of range.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from . import registry
from .config import ConfigError, resolve_config
from .document import Document, Rejected
from .language import set_languages
from .pipeline import build_stage
from .plan import Step, plan_stages
from .settings import CorpusSpec, RunSettings
from .shards import check_item, run_stage
from .tasks import PIPELINE_FILE

__all__ = [
    "ModelFolder",
    "ModelFolderError",
    "PREDICT_OPTIONS",
    "PredictOptionError",
    "annotate",
    "annotated_documents",
    "check_overrides",
    "check_predict_options",
    "predict_option_problem",
    "predict_items",
    "text_documents",
]

BATCH_SIZE = 256

#: every generation option `nlp predict` knows (a task takes those in its `predict_options`)
PREDICT_OPTIONS = (
    "strategy",
    "beam",
    "max_length",
    "min_length",
    "temperature",
    "top_k",
    "top_p",
    "repetition_penalty",
    "length_penalty",
    "no_repeat_ngram",
    "seed",
    "score",
)


class ModelFolderError(ValueError):
    """A model folder is missing, incomplete or damaged; the message names the file."""


class PredictOptionError(ValueError):
    """A prediction option the model does not take, or a value out of range (one line)."""


#: a corpus setting naming what the training run read, replaced by what predict reads
SOURCE_KEYS = ("path", "dataset")


def _flag(name: str, as_flags: bool) -> str:
    return "--" + name.replace("_", "-") if as_flags else name


def predict_option_problem(name: str, value: Any, *, as_flags: bool = False) -> str | None:
    """What is wrong with `value` for the generation option `name`, or None when it is fine:
    `top_p` in (0, 1], `temperature` and `repetition_penalty` above 0, `beam` and
    `max_length` at least 1, `top_k`, `min_length`, `no_repeat_ngram` and `length_penalty`
    at least 0."""
    flag = _flag(name, as_flags)
    if name == "top_p" and not 0 < value <= 1:
        return f"{flag} {value}: must be in (0, 1], e.g. 0.9 (1 keeps the whole distribution)"
    if name in ("temperature", "repetition_penalty") and not value > 0:
        return f"{flag} {value}: must be above 0 (1 leaves the model's probabilities as they are)"
    if name in ("beam", "max_length") and value < 1:
        return f"{flag} {value}: must be at least 1"
    if name in ("top_k", "min_length", "no_repeat_ngram", "length_penalty") and value < 0:
        return f"{flag} {value}: must be at least 0 (0 turns it off)"
    return None


def check_predict_options(
    task: Any, options: Mapping[str, Any], *, as_flags: bool = False
) -> dict[str, Any]:
    """`options` as keyword arguments for `task.predict(docs, **options)`, after checking that
    the task's class declares each in `predict_options` and that each value is in range.

    Raises `PredictOptionError` (one line naming the option, and the ones the model takes);
    `as_flags` writes names as `nlp predict` flags (`--top-p`).
    """
    accepted = tuple(getattr(type(task), "predict_options", ()) or ())
    model = getattr(task, "model", None) or type(task).__name__
    for name, value in options.items():
        if name not in accepted:
            takes = (
                "it takes " + ", ".join(_flag(n, as_flags) for n in accepted)
                if accepted
                else "it takes no generation option"
            )
            raise PredictOptionError(
                f"{_flag(name, as_flags)}: the {model!r} model does not take this option; {takes}"
            )
        problem = predict_option_problem(name, value, as_flags=as_flags)
        if problem is not None:
            raise PredictOptionError(problem)
    return dict(options)


@dataclass
class ModelFolder:
    """A saved task and the settings it was trained under (see the module docstring)."""

    path: Path
    name: str
    component: str
    params: dict[str, Any]
    stages: list[dict[str, Any]]
    corpus: dict[str, Any]
    task: Any

    @classmethod
    def open(cls, path: str | Path) -> ModelFolder:
        """Load the task saved in `path` (a `RUN/tasks/NAME/` folder).

        Raises `ModelFolderError` naming the folder and what is wrong with it.
        """
        folder = Path(path)
        record_path = folder / PIPELINE_FILE
        if not folder.is_dir():
            raise ModelFolderError(
                f"{folder}: not a model folder (expected a run's tasks/NAME/ folder)"
            )
        try:
            record = orjson.loads(record_path.read_bytes())
            name, component = str(record["name"]), str(record["component"])
        except FileNotFoundError:
            raise ModelFolderError(
                f"{folder}: no {PIPELINE_FILE}; a model folder is a run's tasks/NAME/ folder"
            ) from None
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise ModelFolderError(
                f"{record_path}: damaged ({exc}); train the task again"
            ) from None
        registry.load_plugins()
        try:
            task_class: Any = registry.lookup("task", component)
        except registry.RegistryError as exc:
            raise ModelFolderError(f"{record_path}: {exc}") from None
        try:
            task = task_class.load(folder)
        except FileNotFoundError as exc:
            missing = Path(exc.filename).name if exc.filename else str(exc)
            raise ModelFolderError(
                f"{folder}: the model is incomplete: {missing} is missing; train the task again"
            ) from None
        except Exception as exc:  # noqa: BLE001 - whatever the damage: one clear line
            first = str(exc).splitlines()[0] if str(exc) else ""
            advice = "" if "train the task again" in first else "; train the task again"
            raise ModelFolderError(
                f"{folder}: the saved {component!r} model cannot be loaded "
                f"({type(exc).__name__}: {first}){advice}"
            ) from None
        return cls(
            path=folder,
            name=name,
            component=component,
            params=dict(record.get("params") or {}),
            stages=list(record.get("stages") or []),
            corpus=dict(record.get("corpus") or {}),
            task=task,
        )

    def corpus_spec(
        self,
        path: str | None,
        *,
        reader: str | None = None,
        overrides: Mapping[str, Any] | None = None,
        labelled: bool = True,
    ) -> CorpusSpec:
        """The corpus settings to read `path` with: the training run's reader settings,
        or `reader` (with its defaults), updated by `overrides`; validated like a config.

        The training run's source (`path`, or a bundled `dataset` such as the table
        reader's `sklearn:digits`) is never kept: `path` is what is read. Unless
        `labelled` (evaluation), the training reader's `label_column` is dropped too, so
        files without labels can be predicted.
        Raises `ConfigError` naming `corpus.KEY` for a bad reader or parameter.
        """
        dropped = SOURCE_KEYS if labelled else (*SOURCE_KEYS, "label_column")
        corpus = {k: v for k, v in self.corpus.items() if k not in dropped}
        if reader is not None and reader != corpus.get("reader"):
            kept = ("max_chars",)
            corpus = {"reader": reader, **{k: corpus[k] for k in kept if k in corpus}}
        corpus.update(dict(overrides or {}))
        if path is not None:
            corpus["path"] = path
        resolved = resolve_config({"name": self.name, "corpus": corpus, "stages": []})
        return RunSettings.from_config(resolved).corpus

    def steps(self) -> list[Step]:
        """The stages the task was trained behind, built from their config and planned."""
        registry.load_plugins()
        resolved = resolve_config(
            {"name": self.name, "corpus": {"reader": "text", "path": "."}, "stages": self.stages}
        )
        specs = [(next(iter(e)), dict(next(iter(e.values())))) for e in resolved["stages"]]
        return plan_stages([build_stage(name, params) for name, params in specs])


def text_documents(texts: Iterable[str], *, prefix: str = "text") -> Iterator[Document]:
    """Raw texts as documents with ids `PREFIX-1`, `PREFIX-2`, ... in order."""
    for n, text in enumerate(texts, start=1):
        yield Document(id=f"{prefix}-{n}", text=text, meta={"source": prefix, "position": n})


def annotate(
    items: Iterable[Document | Rejected],
    steps: Sequence[Step],
    *,
    max_chars: int,
    batch_size: int = BATCH_SIZE,
) -> Iterator[Document | dict[str, Any]]:
    """Run `steps` over reader items in batches, yielding in input order either the
    annotated document or its quarantine record (reader rejections, empty or oversized
    documents, a document a stage fails on), exactly as a run would quarantine it."""
    batch: list[Document | Rejected] = []
    position = 0
    for item in items:
        batch.append(item)
        if len(batch) >= batch_size:
            yield from _annotate_batch(batch, steps, max_chars, position, batch_size)
            position += len(batch)
            batch = []
    if batch:
        yield from _annotate_batch(batch, steps, max_chars, position, batch_size)


def _annotate_batch(
    batch: list[Document | Rejected],
    steps: Sequence[Step],
    max_chars: int,
    position: int,
    batch_size: int,
) -> Iterator[Document | dict[str, Any]]:
    slots: list[Document | dict[str, Any]] = []
    docs: list[Document] = []
    for offset, item in enumerate(batch):
        kind, data, _ = check_item(item, position + offset, max_chars)
        if kind == "doc":
            doc = Document.from_dict(data)
            docs.append(doc)
            slots.append(doc)
        else:
            slots.append(data)
    set_languages(docs)
    failed: dict[str, dict[str, Any]] = {}
    for step in steps:
        docs, quarantined = run_stage(step.stage, docs, batch_size)
        failed.update({str(record["id"]): record for record in quarantined})
    kept = iter(docs)  # stages keep order: what they keep is the input minus what they quarantine
    upcoming = next(kept, None)
    for slot in slots:
        if not isinstance(slot, Document):
            yield slot
        elif upcoming is not None and upcoming.id == slot.id:
            yield upcoming
            upcoming = next(kept, None)
        else:
            yield failed.get(slot.id) or _lost(slot)


def _lost(doc: Document) -> dict[str, Any]:
    """A document a stage dropped without saying why (stages must not; recorded all the same)."""
    return {"id": doc.id, "source": doc.meta.get("source", ""), "reason": "dropped by a stage"}


def predict_items(
    model: ModelFolder,
    items: Iterable[Document | Rejected],
    *,
    batch_size: int = BATCH_SIZE,
    options: Mapping[str, Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """One JSON-ready line per reader item, in input order: `{"id", ...prediction}` for a
    document, `{"id", "quarantined": reason}` for one the reader or a stage rejected.
    `options` (checked by `check_predict_options`) go to `task.predict` as keywords."""
    options = check_predict_options(model.task, options or {})
    steps = model.steps()
    max_chars = int(model.corpus.get("max_chars") or 1_000_000)
    pending: list[Document | dict[str, Any]] = []
    for entry in annotate(items, steps, max_chars=max_chars, batch_size=batch_size):
        pending.append(entry)
        if len(pending) >= batch_size:
            yield from _predict_batch(model, pending, options)
            pending = []
    if pending:
        yield from _predict_batch(model, pending, options)


def _predict_batch(
    model: ModelFolder, entries: list[Document | dict[str, Any]], options: Mapping[str, Any]
) -> Iterator[dict[str, Any]]:
    docs = [entry for entry in entries if isinstance(entry, Document)]
    predictions = iter(list(model.task.predict(docs, **options)) if docs else [])
    for entry in entries:
        if isinstance(entry, Document):
            yield {"id": entry.id, **next(predictions)}
        else:
            yield {
                "id": entry.get("id"),
                "quarantined": entry.get("reason", ""),
                "source": entry.get("source", ""),
            }


def annotated_documents(
    model: ModelFolder, items: Iterable[Document | Rejected], *, batch_size: int = BATCH_SIZE
) -> Iterator[Document]:
    """The documents of `items` through the model's stages (quarantined ones left out)."""
    steps = model.steps()
    max_chars = int(model.corpus.get("max_chars") or 1_000_000)
    for entry in annotate(items, steps, max_chars=max_chars, batch_size=batch_size):
        if isinstance(entry, Document):
            yield entry


def check_overrides(pairs: Iterable[str]) -> dict[str, Any]:
    """`KEY=VALUE` strings (values parsed as YAML) as a dict; `ConfigError` on a bad one."""
    import yaml

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {pair!r}: expected KEY=VALUE, e.g. --set text_column=body")
        out[key.removeprefix("corpus.")] = yaml.safe_load(value)
    return out
