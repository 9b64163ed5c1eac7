"""The types a run is made of: its result, its errors, progress events, and its shard sources.

`pipeline.runner.Run` is one loop (read → stages → represent → tasks → report → publish)
over a `ShardSource`: `pipeline.indexed.IndexedShards` for plain runs (shards by index,
with the stage cache and resume) and `pipeline.incremental.LedgerShards` for incremental
runs (only items the ledger has not seen, appended to a date-partitioned dataset).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .shards import ShardResult, ShardTask

__all__ = [
    "EmptyCorpusError",
    "ProgressHook",
    "RunError",
    "RunInterrupted",
    "RunResult",
    "ShardSource",
    "SourceSummary",
    "StopCheck",
]

StopCheck = Callable[[], bool]


class RunError(RuntimeError):
    """A run cannot start or go on (locked output, unwritable folder, missing input); one line."""


class EmptyCorpusError(RunError):
    """The corpus gave no item at all (an empty folder or file) and `corpus.allow_empty` is false."""


class RunInterrupted(KeyboardInterrupt):
    """A signal (SIGTERM) ended the run; raised in the main thread so the run records `interrupted`.

    `signal_number` is the signal's number (the CLI exits with 128 + it, as a shell does).
    """

    def __init__(self, signal_number: int, signal_name: str):
        super().__init__(signal_name)
        self.signal_number = signal_number
        self.signal_name = signal_name


class ProgressHook:
    """Receives progress events; the CLI's rich progress bar implements it. Does nothing by default."""

    def start(self, total: int | None) -> None:
        """The run starts; `total` is the number of input items when known."""

    def advance(self, documents: int, words: int, reused: bool) -> None:
        """A shard finished: `documents` in, `words` out."""

    def finish(self) -> None:
        """The run ended."""


@dataclass
class RunResult:
    """Where a run wrote its results and what its manifest says."""

    run_dir: Path
    manifest: dict[str, Any]

    @property
    def counts(self) -> dict[str, int]:
        """`{"in": N, "out": M, "quarantined": Q}`; incremental runs add `skipped_seen`.

        `in = out + quarantined (+ skipped_seen)` always holds.
        """
        return self.manifest["documents"]

    @property
    def quarantine_exceeded(self) -> bool:
        """Whether the quarantined share (quarantined / in) is above `execution.max_quarantined`.

        The run is complete and its folder written either way; the CLI exits with its own
        code when this is true, so batch jobs notice a run that rejected most of its input.
        """
        return bool(self.manifest.get("quarantine_check", {}).get("exceeded"))


@dataclass
class SourceSummary:
    """What a shard source reports once the stages are done.

    `documents`: the manifest's counts; `shards`: the manifest entries of the run's
    shards in order; `learner_inputs`: one content key per document file the learners
    read (their fingerprint chains from these); `sections`: further manifest sections.
    """

    documents: dict[str, int]
    shards: list[dict[str, Any]]
    learner_inputs: list[str]
    sections: dict[str, Any] = field(default_factory=dict)


class ShardSource(Protocol):
    """Where a run's shards come from and where their results are recorded.

    The run calls, in order: `check()`, enters it, `header()` and `initial_counts()` once, `expected_total()`,
    `tasks(...)` while an executor consumes it (calling `record(result)` for every result,
    including shards the source reused without a task), `entries()` whenever it writes
    the manifest, and `finish()` once after the last result. Used as a context
    manager around all of that (the ledger of an incremental run is open inside it).
    """

    def check(self) -> None:
        """Refuse a run folder that holds the other kind of run (`RunError`); called first."""
        ...

    def __enter__(self) -> ShardSource: ...

    def __exit__(self, *exc: Any) -> None: ...

    def header(self) -> dict[str, Any]:
        """Manifest keys this kind of run adds up front (e.g. `incremental`, `run`)."""
        ...

    def initial_counts(self) -> dict[str, int]:
        """The manifest's `documents` counts before any shard is done."""
        ...

    def expected_total(self) -> int | None:
        """How many input items the run will read, when cheap to know (for progress)."""
        ...

    def tasks(
        self, should_stop: StopCheck | None, reuse: Callable[[ShardResult], None]
    ) -> Iterator[ShardTask]:
        """The shard tasks to process, read lazily; stops early when `should_stop()` is true.

        A shard found already finished (verified) is not yielded: its result is passed to
        `reuse`, which records it as the processed ones are.
        """
        ...

    def record(self, result: ShardResult) -> None:
        """Keep (or commit) one processed or reused shard's result."""
        ...

    def entries(self) -> list[dict[str, Any]]:
        """The manifest entries of the shards recorded so far, in shard order."""
        ...

    @property
    def stopped(self) -> bool:
        """Whether `tasks` ended because `should_stop()` said so."""
        ...

    def finish(self) -> SourceSummary:
        """Settle the run's shards (drop stale ones, commit, write `quarantine.jsonl`) and sum up."""
        ...
