"""Run settings: a resolved config read once into frozen, typed pieces.

`resolve_config` (in `pipeline.config`) validates the user's YAML into a plain dict with
every default filled in; `RunSettings.from_config` turns that dict into these dataclasses,
so the engine reads `settings.execution.shard_size`, not `config["execution"]["shard_size"]`,
and each function is handed only the piece it needs (a worker gets the stage list, never
the whole config). `output.dir` is classified as local or remote here, once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from . import registry
from .config import stage_specs
from .paths import output_folder
from .urls import remote_filesystem

__all__ = [
    "stage_fingerprints",
    "CorpusSpec",
    "ExecutionSpec",
    "OutputSpec",
    "RunSettings",
    "StageSpec",
    "ENGINE_CORPUS_KEYS",
]

ENGINE_CORPUS_KEYS = ("limit", "max_chars", "allow_empty")


@dataclass(frozen=True)
class StageSpec:
    """One document stage: its registry name, resolved parameters and component version.

    This triple is the stage's identity in every fingerprint: changing any of it
    recomputes the stage (and every later one) for every shard.
    """

    name: str
    params: dict[str, Any]
    version: str

    @classmethod
    def resolve(cls, name: str, params: Mapping[str, Any]) -> StageSpec:
        """The spec of the registered stage `name` with `params` (its version looked up)."""
        stage_class = registry.lookup("stage", name)
        return cls(name, dict(params), str(getattr(stage_class, "version", "1")))


@dataclass(frozen=True)
class CorpusSpec:
    """The corpus: the reader's registry name and parameters, plus the engine's own limits."""

    reader: str
    params: dict[str, Any]
    limit: int | None
    max_chars: int
    allow_empty: bool = False

    @property
    def path(self) -> str | None:
        """The reader's `path` parameter, when it has one (a file, folder, glob or URL)."""
        path = self.params.get("path")
        return path if isinstance(path, str) else None

    @property
    def engine_key(self) -> str:
        """What the engine adds to every shard's input hash (the limits that change its items)."""
        return orjson.dumps({"max_chars": self.max_chars}).decode()

    def build_reader(self) -> Any:
        """Instantiate the configured reader with its own parameters."""
        reader_class = registry.lookup("reader", self.reader)
        accepted = registry.parameters(reader_class)
        return reader_class(**{k: v for k, v in self.params.items() if k in accepted})


@dataclass(frozen=True)
class ExecutionSpec:
    """Where and how shards are processed (see `pipeline.executors`)."""

    executor: str
    workers: int
    shard_size: int
    batch_size: int
    cache: bool
    recycle_after: int
    address: str | None
    retries: int
    max_quarantined: float = 0.5
    cache_keep: str | int = "all"


@dataclass(frozen=True)
class OutputSpec:
    """Where results go: `dir` as configured, the local `run_dir` a run writes, and whether
    `dir` is a remote URL (then `run_dir` is its staging folder, published after the run)."""

    dir: str
    run_dir: Path
    remote: bool
    formats: tuple[str, ...]
    incremental: bool

    @classmethod
    def locate(cls, output: Mapping[str, Any]) -> OutputSpec:
        """Classify `output.dir` (local path, local fsspec URL, remote URL) once.

        Raises `ConfigError` naming `output.dir` for an unknown protocol or a missing
        backend package (s3fs, gcsfs).
        """
        url = str(output["dir"])
        return cls(
            dir=url,
            run_dir=output_folder(url, staging=output.get("staging")),
            remote=remote_filesystem(url, "output.dir") is not None,
            formats=tuple(output["formats"]),
            incremental=bool(output.get("incremental")),
        )


@dataclass(frozen=True)
class RunSettings:
    """A resolved config as the engine uses it; `config` is the dict written to `config.yaml`."""

    name: str
    corpus: CorpusSpec
    stages: tuple[StageSpec, ...]
    represent: dict[str, dict[str, Any]]
    tasks: dict[str, dict[str, Any]]
    execution: ExecutionSpec
    output: OutputSpec
    config: dict[str, Any]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RunSettings:
        """Read a config resolved by `pipeline.config.resolve_config` into typed settings."""
        corpus = config["corpus"]
        return cls(
            name=config["name"],
            corpus=CorpusSpec(
                reader=corpus["reader"],
                params={
                    k: v for k, v in corpus.items() if k != "reader" and k not in ENGINE_CORPUS_KEYS
                },
                limit=corpus["limit"],
                max_chars=corpus["max_chars"],
                allow_empty=bool(corpus.get("allow_empty", False)),
            ),
            stages=tuple(StageSpec.resolve(name, params) for name, params in stage_specs(config)),
            represent=dict(config.get("represent") or {}),
            tasks=dict(config.get("tasks") or {}),
            execution=ExecutionSpec(**config["execution"]),
            output=OutputSpec.locate(config["output"]),
            config=dict(config),
        )


def stage_fingerprints(input_hash: str, stages: Iterable[StageSpec]) -> list[str]:
    """Chain fingerprints: each stage's = hash(previous, name, resolved params, version)."""
    fingerprints = []
    previous = input_hash
    for spec in stages:
        blob = orjson.dumps(
            [previous, spec.name, spec.params, spec.version], option=orjson.OPT_SORT_KEYS
        )
        previous = hashlib.sha256(blob).hexdigest()
        fingerprints.append(previous)
    return fingerprints
