"""The YAML config: loading, `--set` overrides and validation into typed, fully resolved settings.

Every component's parameters are validated by a pydantic model generated from its
constructor signature, so the config is the single source of truth: unknown keys,
wrong types and out-of-range values fail with one line naming the key path, the
bad value and what is allowed. The resolved config has every default filled in.
"""

from __future__ import annotations

import typing
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from . import registry
from .hints import did_you_mean

__all__ = [
    "ConfigError",
    "UnknownKeyError",
    "load_config",
    "apply_overrides",
    "resolve_config",
    "dump_config",
    "DEFAULT_CONFIG",
]

DEFAULT_CONFIG = Path(__file__).parent / "defaults" / "news.yaml"
TOP_LEVEL_KEYS = ("name", "corpus", "stages", "represent", "tasks", "execution", "output")
TASK_ENGINE_KEYS = ("languages", "search")  # task settings the engine applies, not the component


class ConfigError(ValueError):
    """A config problem, described in one line: key path, bad value, what is allowed.

    `resolve_config` reports every problem it finds at once: its error then has one line
    per problem in its message, and the lines in `problems`.
    """

    def __init__(self, message: str, *, problems: Sequence[str] | None = None):
        super().__init__(message)
        self.problems = list(problems) if problems else [message]

    @classmethod
    def of(cls, errors: Sequence[ConfigError]) -> ConfigError:
        """One error for `errors`: the error itself when there is one problem, else one line each."""
        problems = [line for error in errors for line in error.problems]
        if len(errors) == 1 and len(problems) == 1:
            return errors[0]
        return cls("\n".join(problems), problems=problems)


class UnknownKeyError(ConfigError):
    """A key the section (or component) does not take; the message lists the allowed keys."""


class ExecutionSettings(BaseModel):
    """How a run executes: executor, workers, shard size, cache."""

    model_config = ConfigDict(extra="forbid")

    executor: Literal["serial", "processes", "dask"] = "serial"
    workers: Annotated[int, Field(ge=1, le=512)] = 2
    shard_size: Annotated[int, Field(ge=1)] = 1000
    batch_size: Annotated[int, Field(ge=1)] = 256
    cache: bool = True
    recycle_after: Annotated[int, Field(ge=1)] = 50
    address: str | None = None
    retries: Annotated[int, Field(ge=0, le=100)] = 2
    # the run exits non-zero (its own code) when quarantined / in is above this share
    max_quarantined: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    cache_keep: Literal["all", "current"] | Annotated[int, Field(ge=0)] = "all"  # or max bytes


def _default_formats() -> list[Literal["parquet", "jsonl"]]:
    return ["parquet"]


class OutputSettings(BaseModel):
    """Where and how results are written.

    `dir` is a local folder or an fsspec URL; for a remote one (s3://, gs://) the run works
    in the local folder `staging` (None: `~/.cache/nlp-pipeline/staging/<hash of dir>`, root
    overridable with NLP_PIPELINE_STAGING) and publishes it to `dir` (see `pipeline.remote`).
    """

    model_config = ConfigDict(extra="forbid")

    dir: str | None = None
    formats: list[Literal["parquet", "jsonl"]] = Field(default_factory=_default_formats)
    incremental: bool = False
    staging: str | None = None


class CorpusLimits(BaseModel):
    """Engine-level corpus keys, common to every reader."""

    model_config = ConfigDict(extra="forbid")

    limit: Annotated[int, Field(ge=1)] | None = None
    max_chars: Annotated[int, Field(ge=1)] = 1_000_000
    allow_empty: bool = False  # a corpus with no item is an error unless this is true


# ---------------------------------------------------------------------------------------------
# loading and overrides


def load_config(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """Read a config from a YAML path or take a dict; returns a fresh dict (YAML loaded safely)."""
    if isinstance(source, Mapping):
        return _deepcopy(dict(source))
    path = Path(source)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: invalid YAML{where}: {problem}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the config must be a mapping of sections, got {type(data).__name__}"
        )
    return data


def _deepcopy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deepcopy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deepcopy(v) for v in value]
    return value


def apply_overrides(config: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply `KEY.PATH=VALUE` overrides (values parsed as YAML) and return the config.

    In `stages`, a path segment may be the stage's name (`stages.tokenize.backend=regex`)
    or its index (`stages.1.backend=regex`).
    """
    for item in overrides:
        key, sep, raw_value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"--set {item!r}: expected KEY=VALUE, e.g. stages.tokenize.backend=regex"
            )
        try:
            value = yaml.safe_load(raw_value) if raw_value.strip() else ""
        except yaml.YAMLError:
            value = raw_value
        _set_path(config, key.strip().split("."), value, key.strip())
    return config


def _set_path(config: dict[str, Any], parts: list[str], value: Any, key: str) -> None:
    node: Any = config
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            node, part_key = _stage_slot(node, part, key)
            if last:
                raise ConfigError(
                    f"--set {key}: give a parameter of the stage, e.g. {key}.PARAM=VALUE"
                )
            if node is None:
                raise ConfigError(f"--set {key}: stage {part!r} has no parameters mapping")
            continue
        if not isinstance(node, dict):
            raise ConfigError(f"--set {key}: {'.'.join(parts[:depth])} is not a mapping")
        if last:
            node[part] = value
            return
        child = node.get(part)
        if child is None:
            child = [] if part == "stages" and depth == 0 else {}
            node[part] = child
        node = child


def _stage_slot(stages: list[Any], part: str, key: str) -> tuple[dict[str, Any] | None, str]:
    names = [_stage_name(entry) for entry in stages]
    if part.isdigit():
        index = int(part)
        if index >= len(stages):
            raise ConfigError(
                f"--set {key}: stage index {index} out of range (the config has {len(stages)} stages)"
            )
    elif part in names:
        index = names.index(part)
    else:
        hint = did_you_mean(part, [n for n in names if n])
        raise ConfigError(
            f"--set {key}: no stage {part!r} in the config{hint} (stages: {', '.join(map(str, names))})"
        )
    entry = stages[index]
    if isinstance(entry, str):
        entry = {entry: {}}
        stages[index] = entry
    if isinstance(entry, dict) and len(entry) == 1:
        name = next(iter(entry))
        if entry[name] is None:
            entry[name] = {}
        return entry[name], name
    return None, part


def _stage_name(entry: Any) -> str | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and len(entry) == 1:
        return str(next(iter(entry)))
    return None


# ---------------------------------------------------------------------------------------------
# validation


@cache
def component_model(kind: str, name: str) -> type[BaseModel]:
    """A pydantic model of a registered component's constructor parameters (extra keys forbidden)."""
    cls = registry.lookup(kind, name)
    try:
        hints = typing.get_type_hints(cls.__init__, include_extras=True)  # type: ignore[misc]
    except (NameError, TypeError):
        hints = {}
    fields: dict[str, Any] = {}
    for pname, param in registry.parameters(cls).items():
        annotation = hints.get(pname, Any)
        default = ... if param.default is param.empty else param.default
        fields[pname] = (annotation, default)
    config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    with warnings.catch_warnings():
        # a parameter may be called as a BaseModel method is (seq2seq's `copy`): the model
        # only validates, nobody calls its methods
        warnings.filterwarnings("ignore", message=r'Field name ".*" .* shadows an attribute')
        return create_model(f"{kind}_{name}_params", __config__=config, **fields)


def validate_params(model: type[BaseModel], data: Any, path: str) -> dict[str, Any]:
    """Validate the parameters `data` (at key path `path`) against `model`; return them resolved.

    Raises `ConfigError` with one line per wrong key (the first error of each).
    """
    values, errors = _validated(model, data, path)
    if errors:
        raise ConfigError.of(list(errors.values()))
    return values


def _validated(
    model: type[BaseModel], data: Any, path: str
) -> tuple[dict[str, Any], dict[Any, ConfigError]]:
    """The resolved parameters, or the error of every wrong key (the first one of each), by key."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        error = ConfigError(f"{path}: expected a mapping of parameters, got {_show(data)}")
        return {}, {None: error}
    try:
        return model.model_validate(dict(data)).model_dump(mode="json"), {}
    except ValidationError as exc:
        first_per_key: dict[Any, Any] = {}
        for err in exc.errors(include_url=False):
            first_per_key.setdefault(err["loc"][0] if err["loc"] else None, err)
        return {}, {key: _explain(err, model, path) for key, err in first_per_key.items()}


def _explain(err: Any, model: type[BaseModel], path: str) -> ConfigError:
    """Turn one pydantic error into a one-line `ConfigError` (`UnknownKeyError` for an
    extra key): key path, bad value, what is allowed."""
    loc = ".".join(str(p) for p in err["loc"])
    full = f"{path}.{loc}" if path and loc else (path or loc)
    kind = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        allowed = list(model.model_fields)
        key = str(err["loc"][-1])
        hint = did_you_mean(key, allowed)
        return UnknownKeyError(
            f"{full}: unknown key{hint} (allowed: {', '.join(allowed) or 'no parameters'})"
        )
    if kind == "missing":
        return ConfigError(f"{full}: required key is missing")
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        options = [o.strip().strip("'\"") for o in expected.replace(" or ", ", ").split(",")]
        hint = did_you_mean(str(value), options)
        return ConfigError(f"{full}: {_show(value)} is not allowed{hint} (allowed: {expected})")
    message = err["msg"]
    message = message[0].lower() + message[1:] if message else "invalid value"
    return ConfigError(f"{full}: {_show(value)} is invalid: {message}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_keys(data: Mapping[str, Any], allowed: Iterable[str], path: str) -> None:
    allowed = list(allowed)
    errors: list[ConfigError] = []
    for key in data:
        if key not in allowed:
            hint = did_you_mean(str(key), allowed)
            where = f"{path}.{key}" if path else str(key)
            errors.append(
                UnknownKeyError(f"{where}: unknown key{hint} (allowed: {', '.join(allowed)})")
            )
    if errors:
        raise ConfigError.of(errors)


def _lookup(kind: str, name: Any, path: str) -> None:
    if not isinstance(name, str):
        raise ConfigError(f"{path}: expected a {kind} name, got {_show(name)}")
    try:
        registry.lookup(kind, name)
    except registry.RegistryError:
        known = registry.names(kind)
        hint = did_you_mean(name, known)
        raise ConfigError(
            f"{path}: unknown {kind} {name!r}{hint} (available: {', '.join(known) or 'none installed'})"
        ) from None


def _checked(
    kind: str, name: str, data: Any, path: str
) -> tuple[dict[str, Any], list[ConfigError]]:
    """A component's parameters validated (defaults filled in) and checked by the component
    itself (`check_params`: an encoding exists, a file is there), with every problem found.

    When some keys are wrong, the component still checks the others (wrong ones at their
    defaults), so that fixing the first problems does not reveal new ones.
    """
    model = component_model(kind, name)
    values, errors = _validated(model, data, path)
    if errors:
        if None in errors:
            return {}, list(errors.values())
        right = {k: v for k, v in (data or {}).items() if k not in errors}
        values, more = _validated(model, right, path)
        if more:  # a required key is wrong too: nothing to check with
            return {}, list(errors.values())
    problems = registry.param_problems(registry.lookup(kind, name), values)
    own = [ConfigError(f"{path}.{problem}") for problem in problems]
    return values, [*errors.values(), *own]


def _component(kind: str, name: str, params: Any, path: str) -> dict[str, Any]:
    """A component's parameters validated, defaults filled in, and checked by the component."""
    values, errors = _checked(kind, name, params, path)
    if errors:
        raise ConfigError.of(errors)
    return values


class _Problems:
    """The config errors found so far: `resolve_config` reports them all at once."""

    def __init__(self) -> None:
        self.errors: list[ConfigError] = []

    @contextmanager
    def kept(self) -> Iterator[None]:
        """Run the checks in the block, keeping a `ConfigError` instead of stopping at it."""
        try:
            yield
        except ConfigError as exc:
            self.errors.append(exc)

    def raise_any(self) -> None:
        """Raise one `ConfigError` for everything kept (one line each), if anything was."""
        if self.errors:
            raise ConfigError.of(self.errors)


def resolve_config(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a raw config and return it fully resolved: every default visible, types checked.

    Every section and every component is checked, components by their own `check_params`
    too (encodings, files, models), so what a run would refuse is found before it reads
    data. Raises one `ConfigError` with one line per problem found.
    """
    problems = _Problems()
    with problems.kept():
        _check_keys(raw, TOP_LEVEL_KEYS, "")
    name = raw.get("name", "run")
    with problems.kept():
        _check_name(name)
    corpus: dict[str, Any] = {}
    with problems.kept():
        corpus = _resolve_corpus(raw.get("corpus"))
    stages = _resolve_stages(raw.get("stages"), problems)
    represent = _resolve_named_section(raw.get("represent"), "represent", "represent", problems)
    tasks = _resolve_tasks(raw.get("tasks"), problems)
    execution: dict[str, Any] = {}
    with problems.kept():
        execution = validate_params(ExecutionSettings, raw.get("execution"), "execution")
    output: dict[str, Any] = {}
    with problems.kept():
        output = validate_params(OutputSettings, raw.get("output"), "output")
        if not output["formats"]:
            raise ConfigError(
                "output.formats: [] is invalid: list at least one of 'parquet', 'jsonl'"
            )
    problems.raise_any()
    if not output["dir"]:
        output["dir"] = str(Path("runs") / name)

    return {
        "name": name,
        "corpus": corpus,
        "stages": stages,
        "represent": represent,
        "tasks": tasks,
        "execution": execution,
        "output": output,
    }


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"name: {_show(name)} is invalid: expected a non-empty string")
    if "/" in name or "\\" in name or name.strip(".") == "" or ".." in name:
        raise ConfigError(
            f"name: {_show(name)} is invalid: no '/', '\\' or '..' (it names the run folder)"
        )


def _resolve_corpus(corpus_raw: Any) -> dict[str, Any]:
    if corpus_raw is None:
        raise ConfigError(
            "corpus: required section is missing (e.g. corpus: {reader: text, path: data/*.txt})"
        )
    if not isinstance(corpus_raw, Mapping):
        raise ConfigError(f"corpus: expected a mapping, got {_show(corpus_raw)}")
    if "reader" not in corpus_raw:
        raise ConfigError(
            f"corpus.reader: required key is missing (available: {', '.join(registry.names('reader'))})"
        )
    reader = corpus_raw["reader"]
    _lookup("reader", reader, "corpus.reader")
    limit_keys = set(CorpusLimits.model_fields)
    reader_params = {k: v for k, v in corpus_raw.items() if k != "reader" and k not in limit_keys}
    limits = {k: v for k, v in corpus_raw.items() if k in limit_keys}
    params, errors = _checked("reader", reader, reader_params, "corpus")
    engine_keys = f"; engine keys: {', '.join(sorted(limit_keys))}"
    errors = [  # an unknown key may be meant as an engine-level one: name those too
        UnknownKeyError(f"{error}{engine_keys}") if isinstance(error, UnknownKeyError) else error
        for error in errors
    ]
    limit_values, limit_errors = _validated(CorpusLimits, limits, "corpus")
    if errors or limit_errors:
        raise ConfigError.of([*errors, *limit_errors.values()])
    return {"reader": reader, **params, **limit_values}


def _resolve_stages(stages_raw: Any, problems: _Problems) -> list[dict[str, Any]]:
    stages_raw = stages_raw or []
    if not isinstance(stages_raw, list):
        problems.errors.append(
            ConfigError(f"stages: expected a list of stages, got {_show(stages_raw)}")
        )
        return []
    stages: list[dict[str, Any]] = []
    for i, entry in enumerate(stages_raw):
        with problems.kept():
            stage_name = _stage_name(entry)
            if stage_name is None:
                raise ConfigError(
                    f"stages[{i}]: expected a stage name or a one-key mapping like {{tokenize: {{backend: spacy}}}}, got {_show(entry)}"
                )
            _lookup("stage", stage_name, f"stages[{i}]")
            params = {} if isinstance(entry, str) else entry[stage_name]
            stages.append(
                {stage_name: _component("stage", stage_name, params, f"stages[{i}].{stage_name}")}
            )
    return stages


def _resolve_named_section(
    section: Any, kind: str, path: str, problems: _Problems
) -> dict[str, Any]:
    if not section:
        return {}
    if not isinstance(section, Mapping):
        problems.errors.append(
            ConfigError(f"{path}: expected a mapping of {kind} components, got {_show(section)}")
        )
        return {}
    out = {}
    for comp_name, params in section.items():
        with problems.kept():
            _lookup(kind, comp_name, f"{path}.{comp_name}")
            out[comp_name] = _component(kind, comp_name, params, f"{path}.{comp_name}")
    return out


def _resolve_tasks(section: Any, problems: _Problems) -> dict[str, Any]:
    if not section:
        return {}
    if not isinstance(section, Mapping):
        problems.errors.append(
            ConfigError(
                f"tasks: expected a mapping of task names to settings, got {_show(section)}"
            )
        )
        return {}
    out = {}
    for task_name, params in section.items():
        with problems.kept():
            out[task_name] = _resolve_task(task_name, params)
    return out


def _resolve_task(task_name: str, params: Any) -> dict[str, Any]:
    path = f"tasks.{task_name}"
    if not isinstance(params, Mapping):
        raise ConfigError(
            f"{path}: expected a mapping with `model:` or `method:`, got {_show(params)}"
        )
    selector = "model" if "model" in params else "method" if "method" in params else None
    if selector is None:
        raise ConfigError(f"{path}: missing `model:` or `method:` naming the task component")
    component = params[selector]
    _lookup("task", component, f"{path}.{selector}")
    rest = {k: v for k, v in params.items() if k not in (selector, *TASK_ENGINE_KEYS)}
    resolved = {selector: component, **_component("task", component, rest, path)}
    if params.get("languages") is not None:
        resolved["languages"] = _task_languages(params["languages"], f"{path}.languages")
    if params.get("search") is not None:
        task_params = {k: v for k, v in resolved.items() if k not in (selector, "languages")}
        resolved["search"] = _task_search(params["search"], component, task_params, path)
    return resolved


def _task_search(value: Any, component: str, params: dict[str, Any], path: str) -> dict[str, Any]:
    """A task's `search:` (engine-level: a hyperparameter search by the tuner) resolved;
    each space value is checked by the component's own validation, and the tuner checks
    what it can before any trial (`search_problems`: the metric the task writes)."""
    from .search_config import resolve_search

    def check(trial_params: dict[str, Any]) -> list[str]:
        _, errors = _checked("task", component, trial_params, path)
        return [line for error in errors for line in error.problems]

    where = f"{path}.search"
    search, problems = resolve_search(value, params, check, where)
    if not problems:
        try:
            tuner = registry.lookup("tuner", "optuna")
        except registry.RegistryError:
            raise ConfigError(f"{where}: no tuner 'optuna' is installed to run it") from None
        own = getattr(tuner, "search_problems", None)
        problems = [f"{where}.{p}" for p in own(component, params, search)] if own else []
    if problems:
        raise ConfigError.of([ConfigError(line) for line in problems])
    return search


def _task_languages(value: Any, path: str) -> list[str]:
    """A task's `languages:` (engine-level: the documents it is fitted on), as ISO 639-1 codes."""
    codes = [value] if isinstance(value, str) else value
    if (
        not isinstance(codes, list)
        or not codes
        or not all(isinstance(c, str) and c.isalpha() and 2 <= len(c) <= 3 for c in codes)
    ):
        raise ConfigError(
            f"{path}: expected a list of ISO 639-1 language codes such as [en, de], "
            f"got {_show(value)}"
        )
    return [c.lower() for c in codes]


def dump_config(config: Mapping[str, Any]) -> str:
    """Render a resolved config as YAML (key order kept)."""
    return yaml.safe_dump(
        dict(config), sort_keys=False, allow_unicode=True, default_flow_style=False
    )


def stage_specs(config: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The `(name, params)` pairs of a resolved config's stages, in order."""
    return [(next(iter(entry)), dict(next(iter(entry.values())))) for entry in config["stages"]]
