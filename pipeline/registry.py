"""The component registry: stages, readers, learners and tasks looked up by name.

Components register themselves with `@register("stage", "tokenize")`. Packages
(ours included) expose their components through the entry-point group
`nlp_pipeline.components`: each entry point names a module whose import registers
its components. The engine never imports a component directly.

A package may also declare a component without importing it, with
`register_lazy("represent", "tfidf", "components.represent.tfidf")`: the module is
imported (and its `@register` runs) the first time the name is looked up. So a worker
that runs only text stages never imports the learners' libraries (scikit-learn).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

from .hints import did_you_mean

__all__ = [
    "CODE_ENV",
    "CodeError",
    "load_code",
    "ENTRY_POINT_GROUP",
    "KINDS",
    "RegistryError",
    "register",
    "register_lazy",
    "lookup",
    "names",
    "load_plugins",
    "param_problems",
]

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "nlp_pipeline.components"
CODE_ENV = "NLP_PIPELINE_CODE"  # local files of components, for worker processes to import
KINDS = ("stage", "reader", "represent", "task", "evaluator", "tuner")

_REGISTRY: dict[str, dict[str, type]] = {kind: {} for kind in KINDS}
_LAZY: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}  # name -> module to import
_plugins_loaded = False

T = TypeVar("T", bound=type)


class RegistryError(LookupError):
    """A component name that is not registered; the message lists what is."""


def register(kind: str, name: str) -> Callable[[T], T]:
    """Class decorator: register a component under `kind` ("stage", "reader", ...) and `name`.

    Sets `cls.name = name` and `cls.kind = kind`; `cls.version` defaults to "1" and
    should change whenever the component's output changes for the same input.
    """
    if kind not in _REGISTRY:
        raise ValueError(f"unknown component kind {kind!r}; expected one of {', '.join(KINDS)}")

    def decorator(cls: T) -> T:
        existing = _REGISTRY[kind].get(name)
        if existing is not None and existing is not cls and _qualname(existing) != _qualname(cls):
            raise ValueError(f"{kind} {name!r} is already registered by {_qualname(existing)}")
        cls.name = name  # type: ignore[attr-defined]
        cls.kind = kind  # type: ignore[attr-defined]
        if not hasattr(cls, "version"):
            cls.version = "1"  # type: ignore[attr-defined]
        _REGISTRY[kind][name] = cls
        return cls

    return decorator


def register_lazy(kind: str, name: str, module: str) -> None:
    """Declare that importing `module` registers the component `name` of `kind`.

    Nothing is imported now: `lookup` imports the module the first time it is asked for
    `name`, and `names` lists it meanwhile.
    """
    if kind not in _REGISTRY:
        raise ValueError(f"unknown component kind {kind!r}; expected one of {', '.join(KINDS)}")
    if name not in _REGISTRY[kind]:
        _LAZY[kind][name] = module


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def load_plugins() -> None:
    """Import every module named in the `nlp_pipeline.components` entry-point group (once),
    and the local files of components named in `NLP_PIPELINE_CODE` (see `load_code`)."""
    global _plugins_loaded
    if not _plugins_loaded:
        _plugins_loaded = True
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                ep.load()
            except ImportError as exc:  # a broken plugin must not take the engine down
                logger.warning("could not load components from %s (%s): %s", ep.name, ep.value, exc)
    for path in os.environ.get(CODE_ENV, "").split(os.pathsep):
        if path:
            _import_code(Path(path))


def load_code(paths: Iterable[str | Path]) -> None:
    """Import local Python files that register components (`nlp run --code my_components.py`,
    as spaCy's `--code`), so a plug-in needs no package for a first try.

    The files are also named in the environment variable `NLP_PIPELINE_CODE`, which worker
    processes (process pools, a local Dask cluster) inherit and import in `load_plugins`.
    Raises `CodeError` (one line) for a missing file or one that fails to import.
    """
    resolved = [Path(path).expanduser().resolve() for path in paths]
    for path in resolved:
        _import_code(path)
    known = [p for p in os.environ.get(CODE_ENV, "").split(os.pathsep) if p]
    os.environ[CODE_ENV] = os.pathsep.join(dict.fromkeys([*known, *map(str, resolved)]))


class CodeError(RuntimeError):
    """A `--code` file is missing or cannot be imported; the message is one line."""


_CODE_LOADED: set[Path] = set()


def _import_code(path: Path) -> None:
    if path in _CODE_LOADED:
        return
    if not path.is_file():
        raise CodeError(f"--code {path}: no such file")
    name = "nlp_pipeline_code_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CodeError(f"--code {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the user's file: say what broke, in one line
        del sys.modules[name]
        raise CodeError(f"--code {path}: {type(exc).__name__}: {exc}") from None
    _CODE_LOADED.add(path)


def lookup(kind: str, name: str) -> type:
    """Return the class registered as `name` of `kind`, or raise `RegistryError` with suggestions."""
    load_plugins()
    table = _REGISTRY[kind]
    if name in table:
        return table[name]
    module = _LAZY[kind].get(name)
    if module is not None:
        importlib.import_module(module)
        if name in table:
            return table[name]
        raise RegistryError(
            f"{kind} {name!r} is declared by {module}, but importing it did not register it"
        )
    known = names(kind)
    hint = did_you_mean(name, known)
    raise RegistryError(f"unknown {kind} {name!r}{hint} (registered: {', '.join(known) or 'none'})")


def names(kind: str) -> list[str]:
    """Sorted names registered for `kind`."""
    load_plugins()
    return sorted({*_REGISTRY[kind], *_LAZY[kind]})


def parameters(cls: type) -> dict[str, inspect.Parameter]:
    """The keyword parameters of a component's constructor, in order."""
    sig = inspect.signature(cls.__init__)  # type: ignore[misc]
    return {
        p.name: p
        for p in sig.parameters.values()
        if p.name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }


def param_problems(cls: type, params: Mapping[str, Any]) -> list[str]:
    """What a component finds wrong with its validated parameters, as "key: message" lines.

    Components may declare a classmethod `check_params(params) -> list[str]` for checks
    that types cannot express (an encoding that exists, a file that is there, an installed
    model); it must be cheap, import no heavy library and load nothing. Default: no problems.
    """
    check = getattr(cls, "check_params", None)
    return list(check(params)) if check is not None else []


def summary(cls: type) -> str:
    """First line of a component's docstring."""
    doc = inspect.getdoc(cls) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def describe(cls: type) -> dict[str, Any]:
    """A component's name, kind, version, summary and parameters with their defaults."""
    params = {}
    for pname, p in parameters(cls).items():
        default: Any = None if p.default is inspect.Parameter.empty else p.default
        if hasattr(default, "model_dump"):  # a pydantic settings object: shown as in YAML
            default = default.model_dump()
        params[pname] = {
            "default": default,
            "required": p.default is inspect.Parameter.empty,
            "type": _type_name(p.annotation),
        }
    return {
        "name": cls.name,  # type: ignore[attr-defined]
        "kind": cls.kind,  # type: ignore[attr-defined]
        "version": cls.version,  # type: ignore[attr-defined]
        "summary": summary(cls),
        "doc": inspect.getdoc(cls) or "",
        "parameters": params,
    }


def _type_name(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return "any"
    if isinstance(annotation, str):
        return annotation
    text = repr(annotation) if not isinstance(annotation, type) else annotation.__name__
    return text.replace("typing.", "")
