"""nlp-pipeline's engine: documents, registry, config, the `Pipeline` and the streaming runner."""

from .document import Alignment, Document, Rejected, Span, Token, TokenTable, content_id
from .registry import register
from .stage import Reader, Stage, StageError

__all__ = [
    "Alignment", "Document", "Pipeline", "Reader", "Rejected", "Span", "Stage", "StageError",
    "Token", "TokenTable", "content_id", "register",
]  # fmt: skip


def __getattr__(name: str):
    # Pipeline pulls in the config machinery; import it only when asked for.
    if name == "Pipeline":
        from .pipeline import Pipeline

        return Pipeline
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
