"""`Pipeline`: a sequence of document stages applied to texts or documents, in a stream."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import registry
from .config import apply_overrides, load_config, resolve_config, stage_specs
from .document import Document
from .plan import plan_stages
from .stage import Stage

__all__ = ["Pipeline", "build_stage", "build_stages"]


def build_stage(name: str, params: Mapping[str, Any]) -> Stage:
    """Instantiate the stage registered as `name` with resolved `params`."""
    return registry.lookup("stage", name)(**params)


def build_stages(config: Mapping[str, Any]) -> list[Stage]:
    """Instantiate every stage of a resolved config, in order."""
    return [build_stage(name, params) for name, params in stage_specs(config)]


class Pipeline:
    """Runs document stages in order over one text or a stream of them.

    >>> nlp = Pipeline([Normalize(), Tokenize(), Stopwords()])      # doctest: +SKIP
    >>> doc = nlp("Apple said on Tuesday it would invest $430 billion.")  # doctest: +SKIP

    `pipe()` is lazy: documents flow through the stages in batches and memory does
    not depend on the length of the stream.
    """

    def __init__(self, stages: Sequence[Stage] = (), *, config: Mapping[str, Any] | None = None):
        self.stages = list(stages)
        self.config = config

    @classmethod
    def from_config(
        cls, source: str | Path | Mapping[str, Any], *, overrides: Iterable[str] = ()
    ) -> Pipeline:
        """Build a pipeline from a YAML path or a config dict (validated; `overrides` as `KEY=VALUE`).

        A dict may hold only `stages`; the corpus section is then not required.
        """
        raw = load_config(source)
        apply_overrides(raw, overrides)
        if "corpus" not in raw:
            raw["corpus"] = {"reader": "text", "path": "."}
        config = resolve_config(raw)
        return cls(build_stages(config), config=config)

    @property
    def stage_names(self) -> list[str]:
        """Registered names of the stages, in order."""
        return [stage.name for stage in self.stages]

    def __call__(self, item: str | Document) -> Document:
        """Process one text or document and return the document."""
        return next(self.pipe([item]))

    def pipe(self, items: Iterable[str | Document], *, batch_size: int = 256) -> Iterator[Document]:
        """Process a stream of texts or documents lazily, yielding documents in input order."""
        stream: Iterable[Document] = (as_document(item) for item in items)
        for step in plan_stages(self.stages):
            stream = step.stage.pipe(stream, batch_size=batch_size)
        yield from stream

    def __len__(self) -> int:
        return len(self.stages)

    def __repr__(self) -> str:
        return f"Pipeline({self.stage_names})"


def as_document(item: str | Document) -> Document:
    """Wrap a string as a `Document` (id = content hash); pass documents through."""
    if isinstance(item, Document):
        return item
    if isinstance(item, str):
        return Document.from_text(item)
    raise TypeError(f"expected a str or a Document, got {type(item).__name__}")
