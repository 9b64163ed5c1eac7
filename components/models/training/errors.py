"""The error every part of the training core raises for a setting it cannot use."""

from __future__ import annotations

__all__ = ["TrainingError"]


class TrainingError(ValueError):
    """A training setting that cannot be used; the message names the key and the valid values."""
