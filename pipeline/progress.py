"""A rich progress bar for runs: documents/s, words/s and ETA."""

from __future__ import annotations

import time
from typing import Any

from .run_types import ProgressHook

__all__ = ["RichProgress"]


class RichProgress(ProgressHook):
    """Shows one progress bar on stderr with documents/s, words/s and ETA (when the total is known)."""

    def __init__(self, console: Any = None):
        self.console = console
        self._progress: Any = None
        self._task: Any = None
        self._docs = 0
        self._words = 0
        self._t0 = 0.0

    def start(self, total: int | None) -> None:
        """Open the bar."""
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._t0 = time.perf_counter()
        self._progress = Progress(
            TextColumn("[bold]processing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rates]}"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task("run", total=total, rates="")

    def advance(self, documents: int, words: int, reused: bool) -> None:
        """Move the bar by one shard."""
        self._docs += documents
        self._words += words
        elapsed = max(time.perf_counter() - self._t0, 1e-9)
        rates = f"{self._docs / elapsed:,.0f} docs/s  {self._words / elapsed:,.0f} words/s"
        self._progress.update(self._task, advance=documents, rates=rates)

    def finish(self) -> None:
        """Close the bar."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
