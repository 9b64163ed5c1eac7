"""The trials of a search: one trial fitted and scored (`run_trial`, on any executor), and
the study bookkeeping around them (repeated values, finished and interrupted trials)."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from pipeline import registry
from pipeline.config import ConfigError
from pipeline.files import atomic_write
from pipeline.learners import RunCorpus
from pipeline.tasks import PIPELINE_FILE, LanguageFilter, pipeline_record

from .search_space import MetricMissing, numeric_paths, read_score

__all__ = [
    "finished_trials",
    "in_trial_order",
    "replace_interrupted",
    "run_trial",
    "scored_values",
    "to_fit",
    "values_key",
]

KEEP_IN_TRIAL = ("metrics.json", PIPELINE_FILE)  # what a scored trial's folder keeps


def run_trial(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Fit one trial's task on the run's documents into its folder and read its score.

    Module-level, on plain data (`Executor.map`): the task is rebuilt from its component
    name and parameters. Returns `{"kind": "ok", "mean", "std", "seconds"}`, or a kind
    `failed` (the fit raised), `config` (the task refused its data: stops the search) or
    `metric` (the metric is not in metrics.json: stops the search) with the reason.
    """
    t0 = time.perf_counter()
    folder = Path(payload["folder"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    name, component, params = payload["name"], payload["component"], payload["params"]
    atomic_write(
        folder / PIPELINE_FILE, pipeline_record(name, component, params, payload["pipeline"])
    )
    corpus: Iterable[Any] = RunCorpus(payload["run_dir"])
    if payload["languages"]:
        corpus = LanguageFilter(corpus, payload["languages"])
    trial = f"(search trial {payload['number']})"
    try:
        registry.lookup("task", component)(**params).fit(corpus, folder)
    except ConfigError as exc:
        message = str(exc).replace(f"tasks.{folder.name}", f"tasks.{name}")
        return {"kind": "config", "error": f"{message} {trial}", "seconds": _since(t0)}
    except Exception as exc:  # noqa: BLE001 - a trial's failure is recorded, not fatal
        return {"kind": "failed", "error": f"{type(exc).__name__}: {exc}", "seconds": _since(t0)}
    metrics = orjson.loads((folder / "metrics.json").read_bytes())
    try:
        mean, std = read_score(metrics, payload["metric"], payload["cross_validated"])
    except MetricMissing as exc:
        available = numeric_paths(metrics)
        return {"kind": "metric", "path": str(exc), "available": available, "seconds": 0.0}
    except ValueError as exc:
        return {"kind": "failed", "error": str(exc), "seconds": _since(t0)}
    for path in folder.iterdir():  # the best values are refitted: the trial's model is not kept
        if path.name not in KEEP_IN_TRIAL:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    return {"kind": "ok", "mean": mean, "std": std, "seconds": _since(t0)}


def values_key(values: Mapping[str, Any]) -> str:
    return orjson.dumps(dict(values), option=orjson.OPT_SORT_KEYS).decode()


def scored_values(study: Any) -> dict[str, dict[str, Any]]:
    """The result of each set of values a complete trial was scored with, by its key."""
    return {
        values_key(t.params): {
            "kind": "ok",
            "mean": t.value,
            "std": t.user_attrs.get("std"),
            "seconds": 0.0,
            "repeat_of": t.user_attrs.get("repeat_of", t.number),
        }
        for t in study.get_trials(deepcopy=False)
        if t.state.name == "COMPLETE"
    }


def to_fit(batch: Sequence[Any], scored: Mapping[str, Any]) -> list[Any]:
    """The trials of a batch that need a fit: values not scored before, each set once
    (TPE and random draws repeat in small discrete spaces, within a batch too)."""
    seen = set(scored)
    out = []
    for trial in batch:
        key = values_key(trial.params)
        if key not in seen:
            seen.add(key)
            out.append(trial)
    return out


def in_trial_order(
    batch: Sequence[Any], scored: Mapping[str, dict[str, Any]], fitted: Iterable[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """The batch's results in trial order: `fitted` gives the results of `to_fit(batch,
    scored)`, in order; a trial whose values were scored before (or earlier in the batch)
    gets that result again, naming the trial fitted (`repeat_of`), without a refit."""
    results = iter(fitted)
    known = dict(scored)
    for trial in batch:
        key = values_key(trial.params)
        if key in known:
            yield dict(known[key])
            continue
        result = next(results)
        known[key] = {**result, "seconds": 0.0, "repeat_of": trial.number}
        yield result


def finished_trials(study: Any) -> int:
    """Trials that count towards `trials`: complete or failed, not interrupted."""
    return sum(
        1
        for t in study.get_trials(deepcopy=False)
        if t.state.name in ("COMPLETE", "FAIL") and not t.user_attrs.get("interrupted")
    )


def replace_interrupted(study: Any) -> None:
    """Trials left running by an interrupted session: marked failed (`interrupted`) and
    queued again with the same values, so the next trials finish the same search."""
    from optuna.trial import TrialState

    storage = study._storage
    study_id = storage.get_study_id_from_name(study.study_name)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        storage.set_trial_user_attr(trial_id, "interrupted", True)
        storage.set_trial_state_values(trial_id, TrialState.FAIL)
        if trial.params:
            study.enqueue_trial(dict(trial.params))
        logging.getLogger(__name__).info(
            "search: trial %d was interrupted; it runs again", trial.number
        )


def _since(t0: float) -> float:
    return round(time.perf_counter() - t0, 3)
