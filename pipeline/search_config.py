"""The `search:` key of a task entry: a hyperparameter search's settings, checked and resolved.

`search:` is an engine key (like `languages:`): the engine hands it to the tuner
(`registry.lookup("tuner", "optuna")`) instead of the task's component. This module only
checks its shape, so a mistake is one line naming `tasks.NAME.search.KEY` before any data
is read:

    search:
      method: tpe          # grid | random | tpe
      trials: 30           # grid: defaults to the grid's size
      seed: 1
      metric: accuracy     # cross-validated score, or a dotted path into metrics.json
      direction: maximize  # default: minimize for losses and errors
      workers: 2           # trials at a time; null: the run's execution.workers
      space:
        C: {log_uniform: [0.01, 100]}
        ngram_range: {choice: [[1, 1], [1, 2]]}
        optimizer.lr: {log_uniform: [0.0001, 0.01]}   # a key of a nested mapping

A space key is a parameter of the task's component (dotted for a key of a mapping
parameter); every choice and both ends of every range are checked by the component's
own validation, so a trial never gets a value the component refuses.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from .hints import did_you_mean

__all__ = [
    "DISTRIBUTIONS",
    "SEARCH_KEYS",
    "grid_values",
    "resolve_search",
    "set_dotted",
]

SEARCH_KEYS = ("method", "trials", "seed", "metric", "direction", "workers", "space")
METHODS = ("grid", "random", "tpe")
DIRECTIONS = ("maximize", "minimize")
DISTRIBUTIONS = ("choice", "uniform", "log_uniform", "int", "log_int")
DEFAULT_TRIALS = 20  # random and TPE searches without `trials:`
MAX_GRID = 10_000  # a grid larger than this is a mistake, not a search
#: words in a metric's name that make smaller better (default `direction: minimize`)
SMALLER_IS_BETTER = ("loss", "error", "perplexity", "rmse", "mae", "mse")

#: `(resolved task parameters) -> problems` ("tasks.NAME.KEY: message" lines)
ParamsCheck = Callable[[dict[str, Any]], list[str]]


def resolve_search(
    value: Any, params: Mapping[str, Any], check: ParamsCheck, path: str
) -> tuple[dict[str, Any], list[str]]:
    """The search settings `value` (at key path `path`, e.g. `tasks.category.search`)
    resolved with every default, and the problems found (one line each, empty when none).

    `params` are the task's resolved parameters (its component's, defaults filled in);
    `check` validates a copy of them with one space value set, so each choice and each
    range end is one the component accepts.
    """
    if not isinstance(value, Mapping):
        return {}, [
            f"{path}: expected a mapping such as {{method: tpe, trials: 20, space: "
            f"{{C: {{log_uniform: [0.01, 100]}}}}}}, got {_show(value)}"
        ]
    problems = [
        f"{path}.{key}: unknown key{did_you_mean(str(key), SEARCH_KEYS)} "
        f"(allowed: {', '.join(SEARCH_KEYS)})"
        for key in value
        if key not in SEARCH_KEYS
    ]
    method = value.get("method", "tpe")
    if method not in METHODS:
        hint = did_you_mean(str(method), METHODS)
        problems.append(
            f"{path}.method: {_show(method)} is not allowed{hint} (allowed: {', '.join(METHODS)})"
        )
    metric = value.get("metric", "accuracy")
    if not isinstance(metric, str) or not metric.strip() or metric != metric.strip():
        problems.append(
            f"{path}.metric: {_show(metric)} is invalid: expected a score's name such as "
            "accuracy or f1_macro, or a dotted path into metrics.json such as test.f1_macro"
        )
        metric = "accuracy"
    default_direction = (
        "minimize" if any(word in metric.lower() for word in SMALLER_IS_BETTER) else "maximize"
    )
    direction = value.get("direction", default_direction)
    if direction not in DIRECTIONS:
        hint = did_you_mean(str(direction), DIRECTIONS)
        problems.append(
            f"{path}.direction: {_show(direction)} is not allowed{hint} "
            "(allowed: maximize, minimize)"
        )
    seed = value.get("seed", 1)
    if not _is_int(seed) or seed < 0:
        problems.append(f"{path}.seed: {_show(seed)} is invalid: expected an integer >= 0")
    workers = value.get("workers")
    if workers is not None and (not _is_int(workers) or not 1 <= workers <= 512):
        problems.append(
            f"{path}.workers: {_show(workers)} is invalid: expected an integer from 1 to 512, "
            "or null for the run's execution.workers"
        )
    space, space_problems = _resolve_space(value.get("space"), params, check, f"{path}.space")
    problems += space_problems
    trials = value.get("trials")
    if trials is not None and (not _is_int(trials) or trials < 1):
        problems.append(f"{path}.trials: {_show(trials)} is invalid: expected an integer >= 1")
        trials = None
    if method == "grid" and not space_problems:
        size, grid_problems = _grid_size(space, f"{path}.space")
        problems += grid_problems
        if not grid_problems:
            if trials is not None and trials > size:
                problems.append(
                    f"{path}.trials: {trials} is more than the grid's {size} points "
                    f"(leave trials out to try each point once)"
                )
            trials = size if trials is None else trials
    resolved = {
        "method": method,
        "trials": trials if trials is not None else DEFAULT_TRIALS,
        "seed": seed,
        "metric": metric,
        "direction": direction,
        "workers": workers,
        "space": space,
    }
    return resolved, problems


def _resolve_space(
    space: Any, params: Mapping[str, Any], check: ParamsCheck, path: str
) -> tuple[dict[str, Any], list[str]]:
    """The `space:` mapping checked key by key (names, shapes, values the component takes)."""
    if not isinstance(space, Mapping) or not space:
        example = "{C: {log_uniform: [0.01, 100]}}"
        return {}, [
            f"{path}: expected a mapping of the task's parameters to their ranges such as "
            f"{example}, got {_show(space)}"
        ]
    problems: list[str] = []
    resolved: dict[str, Any] = {}
    for key, spec in space.items():
        where = f"{path}.{key}"
        problem = _key_problem(str(key), params, where)
        if problem:
            problems.append(problem)
            continue
        entry, problem = _distribution(spec, where)
        if problem:
            problems.append(problem)
            continue
        problem = _value_problem(str(key), entry, params, check, where)
        if problem:
            problems.append(problem)
            continue
        resolved[str(key)] = entry
    return resolved, problems


def _key_problem(key: str, params: Mapping[str, Any], where: str) -> str | None:
    """A space key that names no parameter of the component (or no mapping to go into)."""
    head, *rest = key.split(".")
    if head not in params:
        hint = did_you_mean(head, list(params))
        return (
            f"{where}: {head!r} is not a parameter of the task's component{hint} "
            f"(parameters: {', '.join(params) or 'none'})"
        )
    node: Any = params[head]
    for depth, part in enumerate(rest):
        if node is None:
            return None  # a mapping parameter left at None: the trial's value creates it
        if not isinstance(node, Mapping):
            inside = ".".join([head, *rest[:depth]])
            return f"{where}: {inside!r} is {_show(node)}, not a mapping with a key {part!r}"
        node = node.get(part)
    return None


def _distribution(spec: Any, where: str) -> tuple[dict[str, Any], str | None]:
    """One range `{KIND: values}`, checked: choices non-empty, bounds in order."""
    kinds = ", ".join(DISTRIBUTIONS)
    if not isinstance(spec, Mapping) or len(spec) != 1:
        return {}, (
            f"{where}: {_show(spec)} is invalid: expected one of {kinds}, such as "
            "{choice: [0.1, 1.0]} or {log_uniform: [0.001, 10]}"
        )
    kind, values = next(iter(spec.items()))
    if kind not in DISTRIBUTIONS:
        hint = did_you_mean(str(kind), DISTRIBUTIONS)
        return {}, f"{where}: {_show(kind)} is not a range kind{hint} (allowed: {kinds})"
    if kind == "choice":
        if not isinstance(values, list) or not values:
            return {}, f"{where}.choice: {_show(values)} is invalid: expected a non-empty list"
        return {"choice": list(values)}, None
    pair = isinstance(values, list) and len(values) == 2
    integer = kind in ("int", "log_int")
    if not pair or not all((_is_int(v) if integer else _is_number(v)) for v in values):
        what = "integers" if integer else "numbers"
        return {}, f"{where}.{kind}: {_show(values)} is invalid: expected [low, high], two {what}"
    low, high = values
    if not low < high:
        return {}, f"{where}.{kind}: {_show(values)} is invalid: low must be below high"
    if kind.startswith("log_") and low <= 0:
        return {}, (
            f"{where}.{kind}: {_show(values)} is invalid: a log range needs low > 0 "
            f"(e.g. [{high / 1000:g}, {high:g}])"
        )
    bounds = [int(low), int(high)] if integer else [float(low), float(high)]
    return {kind: bounds}, None


def _value_problem(
    key: str, entry: Mapping[str, Any], params: Mapping[str, Any], check: ParamsCheck, where: str
) -> str | None:
    """The first value of `entry` (each choice, both ends of a range) the component refuses."""
    kind, values = next(iter(entry.items()))
    for value in values:
        trial = set_dotted(params, key, value)
        problems = check(trial)
        if problems:
            reason = problems[0].split(": ", 1)[-1]
            return f"{where}.{kind}: {_show(value)} is not accepted by the component: {reason}"
    return None


def _grid_size(space: Mapping[str, Any], path: str) -> tuple[int, list[str]]:
    """The number of points of a grid over `space`, or why `space` is not a grid."""
    size = 1
    problems = []
    for key, entry in space.items():
        values = grid_values(entry)
        if values is None:
            kind = next(iter(entry))
            problems.append(
                f"{path}.{key}: {kind} is a continuous range, which a grid search cannot "
                "enumerate: give {choice: [...]} or {int: [low, high]}, or use method: tpe"
            )
            continue
        size *= len(values)
    if not problems and size > MAX_GRID:
        problems.append(f"{path}: the grid has {size} points (at most {MAX_GRID}): narrow it")
    return size, problems


def grid_values(entry: Mapping[str, Any]) -> list[Any] | None:
    """The values a grid search tries for one space entry (`None` for a continuous range)."""
    kind, values = next(iter(entry.items()))
    if kind == "choice":
        return list(values)
    if kind in ("int", "log_int"):
        return list(range(values[0], values[1] + 1))
    return None


def set_dotted(params: Mapping[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A copy of `params` with `key` (dotted for a key of a nested mapping) set to `value`;
    the mappings on the way are copied, never changed in place."""
    head, *rest = key.split(".")
    out = dict(params)
    if not rest:
        out[head] = value
        return out
    inner = out.get(head)
    out[head] = set_dotted(inner if isinstance(inner, Mapping) else {}, ".".join(rest), value)
    return out


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
