"""The tasks phase (`tasks:`): each task fitted on the run's processed documents and saved.

A task is a component of kind `task` (contract: `pipeline.interfaces.Task`), picked by
`model:` or `method:` under a name the user chooses. It is fitted on the run's documents
(those in `languages:` when the entry lists some: an engine key, not the component's)
as a restartable stream (`RunCorpus`) and saved into `RUN/tasks/NAME/`, where it also
leaves its metrics, predictions and plots. A task whose inputs (the run's document files),
component, parameters and version are unchanged since it was last fitted is skipped.

An entry with `search:` (another engine key, checked by `pipeline.search_config`) is first
tuned: the tuner (`registry.lookup("tuner", "optuna")`) runs its trials on the run's
executor in `tasks/NAME/search/` and returns the best parameters, with which the task is
then fitted as usual (scikit-learn's refit); the search settings join its fingerprint.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from . import registry
from .config import ConfigError
from .document import Document
from .files import atomic_write
from .interfaces import Executor, Task, Tuner
from .learners import RunCorpus, fit_fingerprint, is_fitted, mark_fitted

__all__ = ["PIPELINE_FILE", "LanguageFilter", "fit_tasks", "pipeline_record", "task_component"]

PIPELINE_FILE = "pipeline.json"  # how the task's documents were made: read by `nlp predict`

logger = logging.getLogger(__name__)

SELECTORS = ("model", "method")
ENGINE_KEYS = ("languages", "search")  # task settings the engine applies, not the component


def task_component(settings: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """`(component name, its parameters)` of one resolved `tasks:` entry."""
    selector = next(key for key in SELECTORS if key in settings)
    params = {k: v for k, v in settings.items() if k != selector and k not in ENGINE_KEYS}
    return settings[selector], params


class LanguageFilter:
    """The run's documents whose `meta["language"]` is one of `languages`, restartable;
    `others` counts the rest by language (filled by the first full pass)."""

    def __init__(self, corpus: Iterable[Document], languages: list[str]):
        self.corpus = corpus
        self.languages = set(languages)
        self.others: Counter[str] = Counter()
        self._counted = False

    def __iter__(self) -> Iterator[Document]:
        others: Counter[str] = Counter()
        for doc in self.corpus:
            language = str(doc.meta.get("language") or "unknown")
            if language in self.languages:
                yield doc
            else:
                others[language] += 1
        if not self._counted:
            self.others, self._counted = others, True


def fit_tasks(
    tasks: Mapping[str, Mapping[str, Any]],
    run_dir: Path,
    input_keys: list[str],
    config: Mapping[str, Any] | None = None,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Fit and save every task of the `tasks:` section; return per-task manifest rows.

    `input_keys` identify the run's document files (as for the learners): a task whose
    inputs and settings are unchanged since it was saved is skipped (`reused: true`). A task
    that names an earlier task in a parameter also depends on that task's fit.
    `config` is the run's resolved config: its `corpus` and `stages` are written into each
    task folder as `pipeline.json` (with the task's name, component and parameters), so the
    saved folder can turn raw text into predictions on its own. A task that refuses its
    data (`ConfigError`: a missing label key, a single class) leaves no folder behind.
    `executor` (the run's, open) runs the trials of a `search:`; default: in this process.
    """
    rows: dict[str, Any] = {}
    keys: dict[str, str] = {}
    corpus = RunCorpus(run_dir)
    for name, settings in tasks.items():
        component, params = task_component(settings)
        cls = registry.lookup("task", component)
        languages = settings.get("languages")
        inputs = [*input_keys, *_upstream_keys(params, keys)]
        if languages:
            inputs.append(f"languages:{','.join(languages)}")
        search = settings.get("search")
        tuned = [f"search:{_canonical(search)}"] if search else []
        key = fit_fingerprint([*inputs, *tuned], component, params, getattr(cls, "version", "1"))
        keys[name] = key
        folder = run_dir / "tasks" / name
        row: dict[str, Any] = {"component": component, "path": f"tasks/{name}"}
        if is_fitted(folder, key):
            rows[name] = {**row, "reused": True, "seconds": 0.0}
            continue
        t0 = time.perf_counter()
        tuner = None
        if search:
            tuner = _tuner(search)
            params = tuner.search(
                name=name,
                component=component,
                params=params,
                run_dir=run_dir,
                languages=languages,
                config=config,
                executor=executor if executor is not None else _serial(),
                inputs=inputs,
            )
        task = cls(**params)
        if not isinstance(task, Task):
            raise TypeError(f"tasks.{name}: {cls.__name__} does not implement the Task protocol")
        existed = folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / PIPELINE_FILE, pipeline_record(name, component, params, config))
        documents: Iterable[Document] = corpus
        if languages:
            documents = LanguageFilter(corpus, languages)
        try:
            task.fit(documents, folder)
        except ConfigError as exc:
            if not existed:
                shutil.rmtree(folder, ignore_errors=True)
            raise ConfigError(str(exc) if "tasks." in str(exc) else f"tasks.{name}: {exc}") from exc
        task.save(folder)
        if tuner is not None:
            tuner.record(folder)
        mark_fitted(folder, key)
        rows[name] = {**row, "reused": False, "seconds": round(time.perf_counter() - t0, 4)}
        if isinstance(documents, LanguageFilter):
            rows[name]["languages"] = languages
            rows[name]["other_languages"] = dict(documents.others.most_common())
        logger.info("fitted task %s (%s) in %.2f s", name, component, rows[name]["seconds"])
    return rows


def _tuner(search: Mapping[str, Any]) -> Tuner:
    """The registered tuner built from a task's resolved `search:` settings."""
    tuner = registry.lookup("tuner", "optuna")(**search)
    if not isinstance(tuner, Tuner):
        raise TypeError(f"{type(tuner).__name__} does not implement the Tuner protocol")
    return tuner


def _serial() -> Executor:
    from .executors import SerialExecutor

    return SerialExecutor()


def _canonical(value: Any) -> str:
    import orjson

    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _upstream_keys(params: Mapping[str, Any], fitted: Mapping[str, str]) -> list[str]:
    """The fingerprints of what this task reads besides the documents: the earlier tasks it
    names in a parameter (a sentiment task's `topics: topics` reads that task's predictions)
    and any fitted task folder a parameter points to (a classifier's `init_from: runs/lm/
    tasks/lm`, an image CNN's `transfer: {from: runs/a/tasks/digits}`: nested mappings are
    looked into), so refitting those refits this one."""
    named = set(_strings(params))
    keys = [f"task:{name}:{fitted[name]}" for name in sorted(named & set(fitted))]
    for value in sorted(named - set(fitted)):
        stamp = Path(value).expanduser() / ".fingerprint"
        if len(value) < 4096 and stamp.is_file():
            keys.append(f"folder:{value}:{stamp.read_text().strip()}")
    return keys


def _strings(value: Any) -> Iterator[str]:
    """Every string value of a parameter tree (mappings and lists looked into)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def pipeline_record(
    name: str, component: str, params: Mapping[str, Any], config: Mapping[str, Any] | None
) -> bytes:
    """`pipeline.json`: the task's identity and how its documents were read and processed."""
    import orjson

    config = config or {}
    record = {
        "name": name,
        "component": component,
        "params": dict(params),
        "stages": list(config.get("stages") or []),
        "corpus": dict(config.get("corpus") or {}),
    }
    return orjson.dumps(record, option=orjson.OPT_INDENT_2, default=str)
