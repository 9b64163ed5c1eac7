"""Base classes for document stages and corpus readers.

A stage's constructor only stores its keyword parameters (scikit-learn style);
heavy resources (spaCy tokenizers, stemmers, lists) are built lazily on first use
in the process that runs the stage, so a stage rebuilt from its config in a worker
behaves exactly like the original.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .document import Document, Rejected
from .registry import parameters

if TYPE_CHECKING:
    from .urls import RemotePath

__all__ = ["Stage", "Reader", "StageError", "LazyResources"]

R = TypeVar("R")


class StageError(RuntimeError):
    """A stage cannot run as configured (missing model or data, bad resource); says how to fix it."""


class LazyResources:
    """Mixin for components that build heavy objects on first use (models, tables, stemmers).

    Each object is built once per instance, in the process that uses it, and kept in the
    instance's `_resources` dict: never a parameter, dropped by `Stage.set_params`, and
    not pickled with a `Stage` (only parameters cross process boundaries).
    """

    def _resource(self, name: str, build: Callable[[], R]) -> R:
        """The resource `name`, made by calling `build()` the first time it is asked for."""
        resources = self.__dict__.setdefault("_resources", {})
        if name not in resources:
            resources[name] = build()
        return resources[name]

    def _keep_resource(self, name: str, value: R) -> R:
        """Keep `value` as the resource `name` (one built elsewhere, e.g. learned by `fit`)."""
        self.__dict__.setdefault("_resources", {})[name] = value
        return value

    def _drop_resources(self, *names: str) -> None:
        """Forget the resources `names` (all of them when none are given); they are rebuilt on use."""
        if not names:
            self.__dict__.pop("_resources", None)
            return
        resources = self.__dict__.get("_resources", {})
        for name in names:
            resources.pop(name, None)


class Stage(LazyResources):
    """A per-document stage. Subclasses implement `pipe` (batched) or `process` (one document).

    `name`, `kind` and `version` are set by `@register("stage", NAME)`. Calling the stage
    on one `Document` processes it and returns it.
    """

    name: str = "stage"
    kind: str = "stage"
    version: str = "1"

    def process(self, doc: Document) -> Document:
        """Annotate one document in place and return it."""
        raise NotImplementedError(f"{type(self).__name__} implements neither pipe() nor process()")

    def pipe(self, docs: Iterable[Document], *, batch_size: int = 256) -> Iterator[Document]:
        """Annotate a stream of documents, yielding each one when done."""
        for doc in docs:
            yield self.process(doc)

    def __call__(self, doc: Document) -> Document:
        return next(iter(self.pipe([doc])))

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """Problems with validated parameters that a run would refuse, as "key: message" lines.

        Called by `resolve_config` (so `nlp validate` and `nlp run` report them before any
        data is read); cheap, loads nothing. Default: none.
        """
        return []

    def fusion_key(self) -> Hashable | None:
        """Adjacent stages with the same non-None key are run as one step (see `pipeline.plan`)."""
        return None

    def imports(self) -> tuple[str, ...]:
        """Libraries this stage imports when it runs, with these parameters (e.g. `("spacy",)`).

        Process pools import them once before forking their workers (`pipeline.workers`),
        so a new worker does not pay for them again. Default: none.
        """
        return ()

    def fuse(self, stages: list[Stage]) -> Stage:
        """Return one stage that does the work of `stages` (self first) in a single pass."""
        raise NotImplementedError(f"{type(self).__name__} declares a fusion key but cannot fuse")

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters and their current values."""
        return {name: getattr(self, name) for name in parameters(type(self))}

    def set_params(self, **params: Any) -> Stage:
        """Set constructor parameters (drops any lazily built resources)."""
        valid = parameters(type(self))
        for key, value in params.items():
            if key not in valid:
                raise ValueError(
                    f"{type(self).__name__} has no parameter {key!r}; valid: {', '.join(valid)}"
                )
            setattr(self, key, value)
        self._drop_resources()
        return self

    def __getstate__(self) -> dict[str, Any]:
        # Only parameters cross process boundaries; resources are rebuilt where used.
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


class Reader:
    """A corpus reader: `read()` streams `Document`s and `Rejected` records, never a list.

    Readers are restartable: each call to `read()` starts from the beginning, in
    the same order, with the same ids. `count()` may return the number of items
    when it is cheap to know (for progress bars), else `None`.
    """

    name: str = "reader"
    kind: str = "reader"
    version: str = "1"

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """Problems with validated parameters that a run would refuse, as "key: message" lines.

        Called by `resolve_config` (so `nlp validate` and `nlp run` report them before any
        data is read); cheap, loads nothing. Default: none.
        """
        return []

    def read(self) -> Iterator[Document | Rejected]:
        """Yield documents and rejected items in a stable order."""
        raise NotImplementedError

    def read_skipping(
        self, skip: Callable[[Path | RemotePath], bool] | None
    ) -> Iterator[Document | Rejected]:
        """Like `read()`, but a reader of files leaves out each file for which `skip(path)` is true.

        Incremental runs pass a `skip` that is true for input files unchanged since a
        finished run, and count those files' items from the ledger. A reader must call
        `skip` once per file, before reading it, and give every item of that file
        `meta["source"]` (or `Rejected.source`) equal to `path.as_posix()`. The default
        reads everything.
        """
        return self.read()

    def __iter__(self) -> Iterator[Document | Rejected]:
        return self.read()

    def count(self) -> int | None:
        """Number of items `read()` will yield, when known cheaply; else `None`."""
        return None

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters and their current values."""
        return {name: getattr(self, name) for name in parameters(type(self))}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
