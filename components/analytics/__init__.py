"""News analytics tasks: topics and trends, extractive summaries, sentiment, keywords,
entities and related stories.

Each is a task (`tasks: {NAME: {method: ...}}`) built on `AnalyticsTask`
(`components.analytics.base`): it computes over the run's processed documents, writes
`metrics.json`, `predictions.jsonl`, plots and its `report.json` section into
`RUN/tasks/NAME/`, and predicts for new documents through `nlp predict`. The modules are
imported when a task is first looked up (see `components/__init__.py`), so importing
this package is cheap.
"""

from __future__ import annotations

__all__ = ["base"]
