"""Reader for coreference gold data in the CoNLL-2012 format (OntoNotes, LitBank).

One token per line, tab- or space-separated columns (document id, part, token index,
word, ..., coreference); the last column holds the coreference brackets: `(12` opens a
mention of entity 12, `12)` closes it, `(12)` is a one-token mention, several are
joined by `|`, and `-` or `_` mean none. Blank lines end sentences; `#begin document`
and `#end document` delimit documents.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ConllDocument", "conll_files", "read_conll"]

_BRACKET = re.compile(r"\(?\d+\)?")
CONLL_SUFFIXES = (".conll", ".gold_conll", ".v4_gold_conll")


@dataclass
class ConllDocument:
    """One gold document: its tokens, where sentences start, and entity clusters.

    Mentions are token spans `(start, end)`, end exclusive; `text()` lays the tokens
    out with single spaces (one sentence per line) and returns their offsets.
    """

    name: str
    tokens: list[str] = field(default_factory=list)
    sentence_starts: list[int] = field(default_factory=list)
    clusters: list[list[tuple[int, int]]] = field(default_factory=list)

    def text(self) -> tuple[str, list[int], list[int]]:
        """The document text and each token's character start and end in it."""
        starts: list[int] = []
        ends: list[int] = []
        pieces: list[str] = []
        position = 0
        sentence_starts = set(self.sentence_starts)
        for i, token in enumerate(self.tokens):
            if i:
                separator = "\n" if i in sentence_starts else " "
                pieces.append(separator)
                position += 1
            starts.append(position)
            pieces.append(token)
            position += len(token)
            ends.append(position)
        return "".join(pieces), starts, ends


def conll_files(path: str | Path) -> list[Path]:
    """The CoNLL files at `path`: the file itself, or the CoNLL files in a folder, sorted."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.name.endswith(CONLL_SUFFIXES))
        if not files:
            raise FileNotFoundError(f"no CoNLL files ({', '.join(CONLL_SUFFIXES)}) in {path}")
        return files
    if not path.exists():
        raise FileNotFoundError(f"gold coreference data not found: {path}")
    return [path]


def read_conll(path: str | Path) -> Iterator[ConllDocument]:
    """Stream the documents (one per `#begin document` part) of a CoNLL file.

    Raises `ValueError` naming the file and line for unbalanced coreference brackets.
    """
    path = Path(path)
    doc: ConllDocument | None = None
    open_spans: dict[str, list[int]] = defaultdict(list)
    mentions: dict[str, list[tuple[int, int]]] = defaultdict(list)
    new_sentence = True

    def finish() -> ConllDocument | None:
        if doc is None:
            return None
        doc.clusters = [
            sorted(spans) for _, spans in sorted(mentions.items(), key=lambda kv: min(kv[1]))
        ]
        return doc

    with path.open(encoding="utf-8") as fh:
        for line_no, raw in enumerate(fh, start=1):
            line = raw.rstrip("\n")
            if line.startswith("#begin document"):
                done = finish()
                if done is not None:
                    yield done
                name = line[len("#begin document") :].strip().strip("()").split(")")[0].strip()
                doc = ConllDocument(name=name or f"{path.stem}:{line_no}")
                open_spans.clear()
                mentions.clear()
                new_sentence = True
                continue
            if line.startswith("#end document"):
                done = finish()
                if done is not None:
                    yield done
                doc = None
                continue
            if not line.strip():
                new_sentence = True
                continue
            if line.startswith("#"):
                continue
            columns = line.split("\t") if "\t" in line else line.split()
            if len(columns) < 4:
                raise ValueError(
                    f"{path}:{line_no}: expected at least 4 columns, got {len(columns)}"
                )
            if doc is None:
                doc = ConllDocument(name=path.stem)
            index = len(doc.tokens)
            if new_sentence:
                doc.sentence_starts.append(index)
                new_sentence = False
            doc.tokens.append(columns[3])
            coref = columns[-1].strip()
            if coref in ("", "-", "_"):
                continue
            for part in coref.split("|"):
                if not _BRACKET.fullmatch(part):
                    raise ValueError(f"{path}:{line_no}: bad coreference field {coref!r}")
                entity = part.strip("()")
                if part.startswith("("):
                    open_spans[entity].append(index)
                if part.endswith(")"):
                    if not open_spans[entity]:
                        raise ValueError(f"{path}:{line_no}: {part!r} closes no open mention")
                    start = open_spans[entity].pop()
                    mentions[entity].append((start, index + 1))
    done = finish()
    if done is not None:
        yield done
