"""Suggestions for mistyped names, shared by config validation, the registry and the CLI."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean"]


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """A hint naming the option closest to `word`, to append to an error message.

    Returns `"; did you mean 'x'?"` (the match shown with `repr`) when difflib finds a
    close enough option, else `""`.
    """
    close = difflib.get_close_matches(word, list(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
