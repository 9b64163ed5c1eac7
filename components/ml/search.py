"""Tuning any task (`search:` of a task entry): an optuna study whose trials fit the task.

Each trial fits the task's component with the base parameters and the trial's values into
`tasks/NAME/search/trials/K/` on the run's documents and reads its score from the
`metrics.json` it wrote: the cross-validated mean and standard deviation of `metric`
(`cv.summary.METRIC`) for a task that takes `cv:` (3 folds when the task has none), else
the number at the dotted path `metric`. Trials run in batches of `workers` through the
run's executor (`Executor.map(run_trial, payloads)`: plain data in, each worker rebuilds
the task from its name and parameters), and optuna is told each result in trial order,
so a seeded search gives the same trials on any executor.

The study lives in a journal file (`search/study-KEY.journal`, KEY a hash of the search
settings but `trials` and `workers`, the task's other parameters and the run's inputs):
an interrupted search resumes with its finished trials kept, the trials it was running
marked failed and replaced by new trials with the same values; more `trials` continue
the study; other changed settings start a new one. The
search writes `trials.csv`, `best.yaml` (the run's config with the best values and no
`search:`), `search.png` and `search.json` into `search/`.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import orjson

from pipeline import registry
from pipeline.config import ConfigError, dump_config
from pipeline.files import atomic_write
from pipeline.hints import did_you_mean
from pipeline.interfaces import Executor
from pipeline.registry import register

from .search_outputs import best_blocks, record_search, write_trials_csv
from .search_space import (
    CV_SCORES,
    apply_values,
    decode_values,
    distributions,
    grid_space,
)
from .search_trials import (
    finished_trials,
    in_trial_order,
    replace_interrupted,
    run_trial,
    scored_values,
    to_fit,
)

__all__ = ["OptunaSearch", "run_trial"]

logger = logging.getLogger(__name__)

TRIAL_CV_FOLDS = 3  # cross-validation of the trials of a task without `cv:`
#: called after each trial is told: `(study, frozen trial)`; raising stops the search
TrialCallback = Callable[[Any, Any], None]


@register("tuner", "optuna")
class OptunaSearch:
    """A seeded optuna search over a task's parameters (`search:`), scored by the task's
    own cross-validation, its trials on the run's executor; then the best values.

    `method`: grid (every point of the `choice` / `int` entries) | random | tpe (optuna's
    Tree-structured Parzen Estimator); `trials`: how many trials to finish; `metric` and
    `direction`: what to optimize; `workers`: trials run at a time (None: the run's
    `execution.workers`); `space`: `{KEY: {choice | uniform | log_uniform | int |
    log_int: ...}}` (see `pipeline.search_config`).
    """

    def __init__(
        self,
        *,
        method: Literal["grid", "random", "tpe"] = "tpe",
        trials: int = 20,
        seed: int = 1,
        metric: str = "accuracy",
        direction: Literal["maximize", "minimize"] = "maximize",
        workers: int | None = None,
        space: dict[str, Any] | None = None,
    ):
        self.method = method
        self.trials = trials
        self.seed = seed
        self.metric = metric
        self.direction = direction
        self.workers = workers
        self.space = space

    def get_params(self) -> dict[str, Any]:
        """The search settings, as given."""
        return {name: getattr(self, name) for name in registry.parameters(type(self))}

    @classmethod
    def search_problems(
        cls, component: str, params: Mapping[str, Any], search: Mapping[str, Any]
    ) -> list[str]:
        """What the search cannot do with this task, before any trial ("key: message"
        lines): a cross-validated task must be scored by a score its folds summarize
        (the component's `search_metrics` when it declares them, else the
        classification scores)."""
        task = registry.lookup("task", component)
        metric = str(search.get("metric", "accuracy"))
        if not _cross_validated(task, metric):
            return []
        known = list(getattr(task, "search_metrics", CV_SCORES))
        if metric in known:
            return []
        return [
            f"metric: {metric!r} is not a cross-validated score of {component}"
            f"{did_you_mean(metric, known)} (scores: {', '.join(known)}; or a dotted path "
            "into metrics.json such as validation.accuracy)"
        ]

    # ------------------------------------------------------------------ the search

    def search(
        self,
        *,
        name: str,
        component: str,
        params: Mapping[str, Any],
        run_dir: Path,
        languages: list[str] | None,
        config: Mapping[str, Any] | None,
        executor: Executor,
        inputs: list[str],
        callbacks: Sequence[TrialCallback] = (),
    ) -> dict[str, Any]:
        """Run or resume the study for task `name`; write its outputs into
        `RUN/tasks/NAME/search/` and return the component's parameters with the best
        values set. `callbacks` are called after each finished trial."""
        import optuna

        _route_optuna_logs()
        where = f"tasks.{name}.search"
        problems = self.search_problems(component, params, self.get_params())
        if problems:
            raise ConfigError.of([ConfigError(f"{where}.{p}") for p in problems])
        space = dict(self.space or {})
        if not space:
            raise ConfigError(f"{where}.space: no parameter to search")
        task = registry.lookup("task", component)
        cross_validated = _cross_validated(task, self.metric)
        base = dict(params)
        self.cv_added_ = cross_validated and base.get("cv") is None
        if self.cv_added_:
            from .splits import CrossValidation

            base["cv"] = CrossValidation(folds=TRIAL_CV_FOLDS).model_dump(mode="json")
            logger.info("search %s: trials cross-validated with %d folds", name, TRIAL_CV_FOLDS)
        folder = Path(run_dir) / "tasks" / name / "search"
        study = self._study(folder, name, component, base, inputs)
        replace_interrupted(study)
        workers = self.workers or _run_workers(config) or max(1, executor.workers)
        fixed = distributions(space)
        context = {
            "name": name,
            "component": component,
            "run_dir": str(run_dir),
            "languages": list(languages) if languages else None,
            "pipeline": {
                "stages": list((config or {}).get("stages") or []),
                "corpus": dict((config or {}).get("corpus") or {}),
            },
            "metric": self.metric,
            "cross_validated": cross_validated,
        }
        while (left := self.trials - finished_trials(study)) > 0:
            batch = [study.ask(fixed) for _ in range(min(workers, left))]
            scored = scored_values(study)
            payloads = [
                {
                    **context,
                    "number": trial.number,
                    "folder": str(folder / "trials" / str(trial.number)),
                    "params": apply_values(base, decode_values(space, trial.params)),
                }
                for trial in to_fit(batch, scored)
            ]
            results = in_trial_order(batch, scored, executor.map(run_trial, payloads))
            self._run_batch(study, batch, results, callbacks, where)
        complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if not complete:
            errors = [t.user_attrs.get("error") for t in study.trials if t.user_attrs.get("error")]
            raise ConfigError(
                f"{where}: every trial failed; the first: {errors[0] if errors else 'unknown'}"
            )
        best = study.best_trial
        self.best_values_ = decode_values(space, best.params)
        self.best_score_ = float(best.value)
        self.best_std_ = best.user_attrs.get("std")
        self.best_trial_ = best.number
        self.trials_ = study.trials
        self.name_ = name
        self._write_outputs(folder, space, config)
        return apply_values(params, self.best_values_)

    def _study(
        self, folder: Path, name: str, component: str, base: Mapping[str, Any], inputs: list[str]
    ) -> Any:
        """The study of these settings: loaded from its journal, or new (old trials gone)."""
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        # `trials` and `workers` are left out: more trials continue the same study
        settings = {k: v for k, v in self.get_params().items() if k not in ("trials", "workers")}
        blob = orjson.dumps(
            [component, base, settings, inputs], option=orjson.OPT_SORT_KEYS, default=str
        )
        key = hashlib.sha256(blob).hexdigest()[:16]
        journal = folder / f"study-{key}.journal"
        if not journal.exists():
            shutil.rmtree(folder / "trials", ignore_errors=True)  # another study's trials
        folder.mkdir(parents=True, exist_ok=True)
        storage = JournalStorage(JournalFileBackend(str(journal)))
        study = optuna.create_study(
            storage=storage,
            study_name=f"{name}-{key}",
            direction=self.direction,
            load_if_exists=True,
        )
        # a resumed study gets a sampler seeded apart from the first, so it does not
        # propose the first session's values again
        study.sampler = self._sampler(len(study.trials))
        return study

    def _sampler(self, trials_before: int) -> Any:
        import numpy as np
        import optuna

        seed = int(np.random.SeedSequence([self.seed, trials_before]).generate_state(1)[0])
        seed = self.seed if trials_before == 0 else seed
        if self.method == "grid":

            class WalkedGrid(optuna.samplers.GridSampler):
                """The grid without its `study.stop()` once every point is done (allowed
                only inside `study.optimize`): the search loop counts its trials itself."""

                def after_trial(self, *args: Any, **kwargs: Any) -> None:
                    return None

            return WalkedGrid(grid_space(self.space or {}), seed=seed)
        if self.method == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        return optuna.samplers.TPESampler(seed=seed)

    def _run_batch(
        self,
        study: Any,
        batch: list[Any],
        results: Iterable[dict[str, Any]],
        callbacks: Sequence[TrialCallback],
        where: str,
    ) -> None:
        """Tell optuna each trial's result in trial order; a trial that found a config
        problem (the task refuses its data, the metric is not written) stops the search."""
        from optuna.trial import TrialState

        told = 0
        try:
            for trial, result in zip(batch, results, strict=True):
                trial.set_user_attr("seconds", result["seconds"])
                if "repeat_of" in result:
                    trial.set_user_attr("repeat_of", result["repeat_of"])
                if result["kind"] == "ok":
                    trial.set_user_attr("std", result["std"])
                    frozen = study.tell(trial, result["mean"])
                else:
                    message = self._trial_error(result, where)
                    trial.set_user_attr("error", message)
                    frozen = study.tell(trial, state=TrialState.FAIL)
                    if result["kind"] in ("config", "metric"):
                        raise ConfigError(message)
                    logger.warning("search trial %d failed: %s", trial.number, message)
                told += 1
                logger.info(
                    "%s trial %d: %s %s (%.1f s)", where, trial.number,
                    self.metric, _score_text(frozen), result["seconds"],
                )  # fmt: skip
                for callback in callbacks:
                    callback(study, frozen)
        except ConfigError:
            for trial in batch[told + 1 :]:
                trial.set_user_attr("error", "not run: an earlier trial stopped the search")
                study.tell(trial, state=TrialState.FAIL)
            raise

    def _trial_error(self, result: Mapping[str, Any], where: str) -> str:
        if result["kind"] == "metric":
            available = result.get("available") or []
            hint = did_you_mean(self.metric, available)
            return (
                f"{where}.metric: {result['path']!r} is not in the trials' metrics.json{hint} "
                f"(numbers there: {', '.join(available) or 'none'})"
            )
        return str(result["error"])

    # ------------------------------------------------------------------ outputs

    def _write_outputs(
        self, folder: Path, space: Mapping[str, Any], config: Mapping[str, Any] | None
    ) -> None:
        """trials.csv, search.json, search.png and (with the run's config) best.yaml."""
        from .search_plot import search_png

        rows = write_trials_csv(folder / "trials.csv", self.trials_, space)
        atomic_write(
            folder / "search.json", orjson.dumps(self.summary(), option=orjson.OPT_INDENT_2)
        )
        scored = [r for r in rows if r["state"] != "interrupted"]
        search_png(
            [r["number"] for r in scored],
            [r["mean"] for r in scored],
            [r["std"] for r in scored],
            folder / "search.png",
            metric=self._metric_label(),
            maximize=self.direction == "maximize",
            title=f"{self.name_}: {self.method} search, {len(scored)} trials",
        )
        if config is not None and self.name_ in (config.get("tasks") or {}):
            header = (
                f"# the run's config with tasks.{self.name_} set to the best values of its "
                f"{self.method} search ({self.metric} {self.best_score_:.4f}); no search:\n"
            )
            text = header + dump_config(best_config(config, self.name_, self.best_values_))
            atomic_write(folder / "best.yaml", text.encode("utf-8"))

    def _metric_label(self) -> str:
        if self.metric in CV_SCORES or "." not in self.metric:
            folds = f"{TRIAL_CV_FOLDS}-fold " if getattr(self, "cv_added_", False) else ""
            return f"{self.metric} ({folds}cv mean)"
        return self.metric

    def summary(self) -> dict[str, Any]:
        """The search's outcome (after `search`), JSON-ready: `metrics.json`'s `search`."""
        states = [t.state.name.lower() for t in self.trials_]
        return {
            "best_params": self.best_values_,
            "best_score": self.best_score_,
            "best_std": self.best_std_,
            "best_trial": self.best_trial_,
            "trials": states.count("complete"),
            "failed": sum(1 for t in self.trials_ if t.state.name == "FAIL"),
            "repeats": sum(1 for t in self.trials_ if "repeat_of" in t.user_attrs),
            "method": self.method,
            "metric": self.metric,
            "direction": self.direction,
            # the task has no `cv:`: its trials were scored by this many folds
            "trial_cv_folds": TRIAL_CV_FOLDS if self.cv_added_ else None,
            "space": self.space,
        }

    def record(self, folder: Path) -> None:
        """Add the search's outcome to the fitted task's `metrics.json` (`search`) and its
        report section (best values, best trials, the plot)."""
        record_search(Path(folder), self.summary(), best_blocks(self, Path(folder)))


def best_config(config: Mapping[str, Any], name: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The run's resolved config with task `name`'s `search:` removed and `values` set."""
    from pipeline.search_config import set_dotted

    out = copy.deepcopy(dict(config))
    entry = {k: v for k, v in out["tasks"][name].items() if k != "search"}
    for key, value in values.items():
        entry = set_dotted(entry, key, value)
    out["tasks"][name] = entry
    return out


def _cross_validated(task: type, metric: str) -> bool:
    """Whether trials are scored by the task's cross-validation: it takes `cv:` and the
    metric is a score's name, not a dotted path into metrics.json."""
    return "cv" in registry.parameters(task) and "." not in metric


def _run_workers(config: Mapping[str, Any] | None) -> int | None:
    execution = (config or {}).get("execution") or {}
    workers = execution.get("workers")
    return workers if isinstance(workers, int) else None


def _route_optuna_logs() -> None:
    """Optuna's messages through this project's logging (no handler of its own)."""
    import optuna

    optuna.logging.disable_default_handler()
    optuna.logging.enable_propagation()
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def _score_text(frozen: Any) -> str:
    if frozen.value is None:
        return "failed"
    std = frozen.user_attrs.get("std")
    return f"{frozen.value:.4f}" + (f" ± {std:.4f}" if std is not None else "")
