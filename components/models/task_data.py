"""The data side of a classification task: each document's id, tokens and label, read once.

A task streams the run's documents a single time and keeps only `(id, tokens, label)`
(and a date when time-ordered cross-validation asks for one): token lists are small,
`Document`s are not. Problems with the data are `ConfigError`s naming the task's key,
raised before the task writes anything. The documents of a `test_corpus:` are read with
its reader and run through the stages the run used (`pipeline.json`), as a run would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.represent.tokens import Field, RepresentError, token_stream
from pipeline.config import ConfigError
from pipeline.document import Document, Rejected

__all__ = [
    "Examples",
    "collect_examples",
    "fit_name",
    "processed_documents",
    "read_corpus_spec",
    "read_test_corpus",
    "require_two_classes",
    "run_folder",
    "test_corpus_problems",
]

PREVIEW = 3  # ids and keys shown in an error message


@dataclass
class Examples:
    """The documents of a task as parallel lists, in corpus order."""

    ids: list[str] = field(default_factory=list)
    tokens: list[list[str]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    dates: list[Any] = field(default_factory=list)
    #: with `keep_unlabelled`: the documents without a label (labels ""), and each
    #: document's position in the corpus (in this and in `pool`)
    pool: Examples | None = None
    positions: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def class_counts(self) -> dict[str, int]:
        """Documents per class, classes sorted."""
        return dict(sorted(Counter(self.labels).items()))

    def subset(self, indices: Sequence[int]) -> Examples:
        """The examples at `indices`, in that order."""
        return Examples(
            ids=[self.ids[i] for i in indices],
            tokens=[self.tokens[i] for i in indices],
            labels=[self.labels[i] for i in indices],
            dates=[self.dates[i] for i in indices] if self.dates else [],
        )


def collect_examples(
    corpus: Iterable[Document],
    *,
    label: str,
    field: Field,
    drop_stop: bool,
    where: str,
    date_field: str | None = None,
    keep_unlabelled: bool = False,
) -> Examples:
    """Stream `corpus` once into `Examples` (labels as strings).

    Raises `ConfigError` at `{where}.label` when documents lack `meta[label]` (how many,
    the first ids, and the meta keys the documents do have), and at `where` when the
    corpus is empty. With `keep_unlabelled` (self-training), documents without a label
    (or with an empty one) are no error: they are kept in `pool`, and `positions` record
    where each document stood in the corpus.
    """
    examples = Examples()
    pool = Examples()
    missing: list[str] = []
    meta_keys: Counter[str] = Counter()
    for position, doc in enumerate(corpus):
        value = doc.meta.get(label)
        unlabelled = value is None or value == ""
        if unlabelled and not keep_unlabelled:
            missing.append(doc.id)
            meta_keys.update(k for k in doc.meta if k != label)
            continue
        part = pool if unlabelled else examples
        part.ids.append(doc.id)
        try:
            tokens = token_stream(doc, field=field, drop_stop=drop_stop, drop_punct=True)
        except RepresentError as exc:  # a token column no stage set: the settings' fault
            key = "drop_stop" if "is_stop" in str(exc) else "field"
            raise ConfigError(f"{where}.{key}: {exc}") from None
        part.tokens.append(tokens)
        part.labels.append("" if unlabelled else str(value))
        if keep_unlabelled:
            part.positions.append(position)
        if date_field is not None:
            part.dates.append(doc.meta.get(date_field))
    if keep_unlabelled:
        examples.pool = pool
    total = len(examples) + len(missing) + len(pool)
    if missing:
        keys = ", ".join(k for k, _ in meta_keys.most_common(12)) or "none"
        raise ConfigError(
            f"{where}.label: {len(missing)} of {total} documents lack meta[{label!r}] "
            f"(first: {', '.join(map(repr, missing[:PREVIEW]))}); their meta keys: {keys}. "
            f"Set {where}.label to the key holding the class (or give the reader a label column)"
        )
    if not total:
        raise ConfigError(f"{where}: the corpus has no documents to train on")
    return examples


def test_corpus_problems(spec: Mapping[str, Any] | None) -> list[str]:
    """What is wrong with a `test_corpus:` reader spec (no or unknown reader, bad reader
    parameters), as "test_corpus...: message" lines; imports only the reader's module."""
    if spec is None:
        return []
    try:
        read_corpus_spec(spec, "test_corpus")
    except ConfigError as exc:
        return list(exc.problems)
    return []


def read_corpus_spec(spec: Mapping[str, Any], path: str) -> Any:
    """The reader a `{reader: NAME, path: ..., ...}` mapping describes, its parameters
    validated like the run's `corpus:` (errors at key path `path`)."""
    from pipeline import registry
    from pipeline.config import component_model, validate_params

    name = spec.get("reader")
    if not isinstance(name, str):
        raise ConfigError(
            f"{path}.reader: required key is missing (available: {', '.join(registry.names('reader'))})"
        )
    try:
        reader_class = registry.lookup("reader", name)
    except registry.RegistryError as exc:
        raise ConfigError(f"{path}.reader: {exc}") from None
    params = validate_params(
        component_model("reader", name), {k: v for k, v in spec.items() if k != "reader"}, path
    )
    problems = registry.param_problems(reader_class, params)
    if problems:
        raise ConfigError.of([ConfigError(f"{path}.{p}") for p in problems])
    return reader_class(**params)


def processed_documents(reader: Any, stages: Sequence[Mapping[str, Any]]) -> Iterator[Document]:
    """The reader's documents run through `stages` (a resolved `stages:` list), with their
    language set first as a run sets it; rejected items are logged and left out."""
    import logging

    from pipeline.language import set_languages
    from pipeline.pipeline import Pipeline

    log = logging.getLogger(__name__)
    nlp = Pipeline.from_config({"stages": list(stages)})

    def documents() -> Iterator[Document]:
        for item in reader.read():
            if isinstance(item, Rejected):
                log.warning("test corpus: rejected %s: %s", item.source, item.reason)
                continue
            set_languages([item])
            yield item

    yield from nlp.pipe(documents())


def require_two_classes(labels: Sequence[str], key: str, what: str) -> None:
    """Raise `ConfigError` at `key` when `labels` hold fewer than two classes."""
    classes = sorted(set(labels))
    if len(classes) < 2:
        found = f"only the class {classes[0]!r}" if classes else "no documents"
        raise ConfigError(
            f"{key}: {what} has {found} ({len(labels)} documents); a classifier needs at "
            "least two classes: check the label key and the corpus"
        )


def run_folder(workdir: Path) -> Path | None:
    """The run folder above a task folder (`RUN/tasks/NAME`) or a fold's (`.../folds/K`),
    or `None` for a folder outside a run."""
    for parent in workdir.parents:
        if parent.name == "tasks":
            return parent.parent
    return None


def read_test_corpus(task: Any, record: Mapping[str, Any] | None, where: str) -> Examples:
    """A task's `test_corpus:` read, run through the run's stages (`record`: the task
    folder's `pipeline.json`) and collected with the task's `label`, `field` and
    `drop_stop`; errors at `{where}.test_corpus`."""
    path = f"{where}.test_corpus"
    if record is None:
        raise ConfigError(
            f"{path}: needs the run's stages, recorded in pipeline.json of the task "
            "folder, which is missing: fit the task through a run (nlp run)"
        )
    reader = read_corpus_spec(task.test_corpus or {}, path)
    docs = processed_documents(reader, record.get("stages") or [])
    return collect_examples(
        docs, label=task.label, field=task.field, drop_stop=task.drop_stop, where=path
    )


def fit_name(workdir: Path) -> str:
    """`NAME` or `NAME/folds/K`: the fit's folder below the run's `tasks/` folder."""
    parts = workdir.parts
    if "tasks" not in parts:
        return workdir.name
    last = len(parts) - 1 - parts[::-1].index("tasks")
    return "/".join(parts[last + 1 :])
