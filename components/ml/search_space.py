"""The pieces of a hyperparameter search that are not optuna's loop: the space as optuna
distributions, a trial's values put back into the task's parameters, and its score read
from the `metrics.json` the trial's task wrote.

Optuna's categorical values must be None, bool, int, float or str; a choice among lists or
mappings (`ngram_range: {choice: [[1, 1], [1, 2]]}`) is handed to optuna as JSON text and
decoded here, so trials.csv and best.yaml show the values as written.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from pipeline.search_config import grid_values, set_dotted

from .metrics import AVERAGES

__all__ = [
    "CV_SCORES",
    "MetricMissing",
    "apply_values",
    "decode_values",
    "distributions",
    "grid_space",
    "numeric_paths",
    "read_score",
]

#: the scores a classification task's cross-validation summarizes (`cv.summary.NAME`)
CV_SCORES = (
    "accuracy",
    *(f"{kind}_{average}" for average in AVERAGES for kind in ("precision", "recall", "f1")),
    "roc_auc",
    "log_loss",
)
PRIMITIVE = (type(None), bool, int, float, str)


class MetricMissing(LookupError):
    """The metric is not where it was looked for in a trial's `metrics.json`."""


def _encoded(value: Any) -> Any:
    """A choice as optuna can store it: itself when primitive, else its JSON text."""
    if isinstance(value, PRIMITIVE):
        return value
    return json.dumps(value, sort_keys=True)


def _encoded_choices(values: list[Any]) -> list[Any]:
    """The choices as optuna sees them; all as JSON text when any is not primitive (so a
    string choice can never be mistaken for an encoded list)."""
    if all(isinstance(v, PRIMITIVE) for v in values):
        return list(values)
    return [json.dumps(v, sort_keys=True) for v in values]


def distributions(space: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Optuna distributions for a resolved `space:` (choice, uniform, log_uniform, int,
    log_int), keyed by the space's (dotted) keys."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out: dict[str, Any] = {}
    for key, entry in space.items():
        kind, values = next(iter(entry.items()))
        if kind == "choice":
            out[key] = CategoricalDistribution(_encoded_choices(values))
        elif kind in ("uniform", "log_uniform"):
            out[key] = FloatDistribution(values[0], values[1], log=kind == "log_uniform")
        else:
            out[key] = IntDistribution(values[0], values[1], log=kind == "log_int")
    return out


def grid_space(space: Mapping[str, Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The grid optuna's `GridSampler` walks: every value of every (enumerable) entry."""
    grid = {}
    for key, entry in space.items():
        values = grid_values(entry)
        if values is None:
            raise ValueError(f"{key}: a continuous range cannot be a grid")
        kind = next(iter(entry))
        grid[key] = _encoded_choices(values) if kind == "choice" else values
    return grid


def decode_values(
    space: Mapping[str, Mapping[str, Any]], params: Mapping[str, Any]
) -> dict[str, Any]:
    """A trial's optuna parameters as the values written in the config (choices decoded),
    in the order of the space."""
    out = {}
    for key, entry in space.items():
        if key not in params:
            continue
        value = params[key]
        kind, choices = next(iter(entry.items()))
        if kind == "choice" and not all(isinstance(v, PRIMITIVE) for v in choices):
            value = json.loads(value)
        out[key] = value
    return out


def apply_values(params: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The task's parameters with a trial's `values` (dotted keys) set."""
    out = dict(params)
    for key, value in values.items():
        out = set_dotted(out, key, value)
    return out


def read_score(
    metrics: Mapping[str, Any], metric: str, cross_validated: bool
) -> tuple[float, float | None]:
    """`(mean, std)` of `metric` in a trial's metrics: `cv.summary.METRIC` when the trial was
    cross-validated, else the value at the dotted path `metric` (a number, or a mapping
    with `mean` and `std`; std is None for a single number). Raises `MetricMissing` when
    the path is not there, `ValueError` when the score is not a finite number."""
    path = f"cv.summary.{metric}" if cross_validated else metric
    node: Any = metrics
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise MetricMissing(path)
        node = node[part]
    std: Any = None
    if isinstance(node, Mapping):
        if "mean" not in node:
            raise MetricMissing(f"{path}.mean")
        node, std = node["mean"], node.get("std")
    if not _finite(node):
        raise ValueError(f"{path} is {node!r}, not a number")
    return float(node), float(std) if _finite(std) else None


def numeric_paths(metrics: Any, prefix: str = "", limit: int = 40) -> list[str]:
    """The dotted paths of the numbers in a metrics mapping (the first `limit`), to name
    what a search could read instead of a missing metric."""
    out: list[str] = []
    if not isinstance(metrics, Mapping):
        return out
    for key, value in metrics.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if _finite(value):
            out.append(path)
        elif isinstance(value, Mapping) and key not in ("per_class", "per_fold", "settings"):
            out += numeric_paths(value, path, limit - len(out))
        if len(out) >= limit:
            break
    return out[:limit]


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
