"""The contracts between the engine and the components it runs, written as `Protocol`s.

In the manner of gensim's `interfaces.py`: the engine calls components only through these
methods, and these docstrings are the contract a third-party component implements. They
are structural (`typing.Protocol`): a component need not inherit from anything, it only
has to offer the methods. The runtime-checkable ones are what the engine tests with
`isinstance` to choose a code path (a learner that reduces across shards, a learner that
exports artifacts).

Document stages and readers have small base classes instead (`pipeline.stage.Stage`,
`pipeline.stage.Reader`), since they share behaviour (parameters, `pipe` over `process`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar, runtime_checkable

from .document import Document

if TYPE_CHECKING:
    from .shards import ShardResult, ShardTask

__all__ = [
    "CorpusLearner",
    "ArtifactExporter",
    "ShardReducingLearner",
    "Executor",
    "Task",
    "Tuner",
]

P = TypeVar("P")
R = TypeVar("R")


@runtime_checkable
class CorpusLearner(Protocol):
    """A corpus learner (`represent:`): fitted on the processed documents of a run.

    The constructor only stores its keyword parameters (they come from the config).
    `fit` may make several passes over `corpus`, a restartable iterable (each `iter()`
    starts again from the first document; never a list, never a one-shot generator),
    sets learned state in attributes ending in `_`, and returns `self`. `save` writes a
    folder of JSON, `.npy` and `.npz` files (never a pickle) that `load` reads back.
    """

    def fit(self, corpus: Iterable[Document]) -> Self:
        """Learn from every document of `corpus` (restartable); return `self`."""
        ...

    def transform(self, docs: Iterable[Document]) -> Any:
        """The representation of `docs` (a matrix, vectors, ...) under what `fit` learned."""
        ...

    def save(self, folder: str | Path) -> None:
        """Write the fitted learner into `folder` (created if needed)."""
        ...

    @classmethod
    def load(cls, folder: str | Path) -> Self:
        """A fitted learner read back from a folder written by `save`."""
        ...


@runtime_checkable
class ArtifactExporter(Protocol):
    """A learner that leaves corpus-level files next to itself (a matrix, vectors as text)."""

    def export(self, corpus: Iterable[Document], folder: Path) -> None:
        """Write the corpus-level artifacts of the fitted learner over `corpus` into `folder`."""
        ...


@runtime_checkable
class ShardReducingLearner(CorpusLearner, Protocol):
    """A learner whose statistics add up over documents, fitted as a map-reduce over shards.

    The engine maps `shard_statistics` over the run's shard files on its executor (each
    call in a worker, on a learner rebuilt from its parameters), folds the results with
    `merge_statistics` in the main process, and calls `fit_statistics` once. It then maps
    `shard_matrix` (on the fitted learner, loaded once per worker from its saved folder)
    and hands the results, in corpus order, to `export_shards`. The result must equal
    `fit` over the whole corpus exactly. `reduces_across_shards()` may say `False` for
    settings that need the whole corpus first; then `fit` is used.
    """

    def reduces_across_shards(self) -> bool:
        """Whether these settings allow fitting from merged per-shard statistics."""
        ...

    def shard_statistics(self, docs: Iterable[Document]) -> Any:
        """The mergeable statistics of one shard's documents (picklable, plain data)."""
        ...

    def merge_statistics(self, first: Any, second: Any) -> Any:
        """Two shards' statistics summed; may update and return `first`."""
        ...

    def fit_statistics(self, statistics: Any) -> Self:
        """Fit from the corpus's merged statistics; return `self`."""
        ...

    def shard_matrix(self, docs: Iterable[Document]) -> Any:
        """The fitted representation of one shard's documents (their ids and rows)."""
        ...

    def export_shards(self, matrices: Iterable[Any], folder: Path) -> None:
        """Write the corpus-level artifacts from every shard's `shard_matrix`, in corpus order."""
        ...


class Executor(Protocol):
    """Where shards are processed: in this process, a process pool, or a Dask cluster.

    Used as a context manager: `__enter__` starts the workers, `__exit__` stops them (and
    every process they started). Same tasks in, same files out, whatever the executor.
    """

    workers: int

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: Any) -> None: ...

    def run(self, tasks: Iterable[ShardTask]) -> Iterator[ShardResult]:
        """Process each shard task (`pipeline.shards.process_shard`) and yield its result as soon
        as it is done (any order), keeping a bounded number in flight: `tasks` is consumed
        lazily, so memory depends on the shard size, not the corpus size."""
        ...

    def map(self, function: Callable[[P], R], payloads: Iterable[P]) -> Iterator[R]:
        """Yield `function(payload)` for each payload, in payload order. `function` is a
        module-level function (pickled by reference), payloads are plain data."""
        ...


@runtime_checkable
class Task(Protocol):
    """A task (`tasks:`): trains on, evaluates on and predicts for a run's documents.

    Picked in the config by `model:` or `method:` under a name the user chooses; the
    constructor only stores its keyword parameters. After the stages and `represent:`,
    the engine calls `fit(corpus, run_dir)` with the run's processed documents (a
    restartable iterable) and the task's folder `RUN/tasks/NAME/`, where the task leaves
    `metrics.json`, `predictions.jsonl` (one line per document: `id` plus its output)
    and any plots; then `save(RUN/tasks/NAME/)`. A saved folder holds weights, vocabularies, labels and config
    as plain files (never a pickle) and is enough for `load` to predict on raw text.
    """

    def fit(self, corpus: Iterable[Document], run_dir: Path) -> Self:
        """Train (or compute, for analytics) on `corpus`, writing metrics, predictions and plots
        into `run_dir`, the task's folder in the run (the run folder, with what earlier
        phases wrote such as `represent/`, is `run_dir.parents[1]`). Returns `self`."""
        ...

    def evaluate(self, corpus: Iterable[Document]) -> dict[str, Any]:
        """Metrics of the fitted task on labelled documents (a JSON-ready mapping)."""
        ...

    def predict(self, texts_or_docs: Iterable[str | Document]) -> Iterator[dict[str, Any]]:
        """One JSON-ready prediction per input, in input order."""
        ...

    def save(self, folder: Path) -> None:
        """Write the fitted task into `folder` (created if needed)."""
        ...

    @classmethod
    def load(cls, folder: Path) -> Self:
        """A fitted task read back from a folder written by `save`."""
        ...


@runtime_checkable
class Tuner(Protocol):
    """A hyperparameter search over a task's parameters (the `search:` key of a task entry).

    The engine builds it from the resolved search settings (`pipeline.search_config`) as
    keyword parameters, calls `search` before fitting the task, fits the task with the
    parameters it returns into `RUN/tasks/NAME/` as usual, then calls `record` on that
    folder. Trials run on `executor` through `Executor.map`, each rebuilding the task from
    its component name and parameters (plain data), never from a pickled object.
    """

    def search(
        self,
        *,
        name: str,
        component: str,
        params: Mapping[str, Any],
        run_dir: Path,
        languages: list[str] | None,
        config: Mapping[str, Any] | None,
        executor: Executor,
        inputs: list[str],
    ) -> dict[str, Any]:
        """Run (or resume) the search for task `name` on the run's documents; return the
        component's complete parameters with the best values set. `inputs` identify what
        the trials read (the run's document files, upstream tasks): a search whose settings
        or inputs changed starts afresh, an unchanged one resumes."""
        ...

    def record(self, folder: Path) -> None:
        """After the task was fitted with the best values into `folder`: add the search's
        outcome to its `metrics.json` and its report section."""
        ...
