"""The `coref` evaluator: score the `coref` stage on GAP or CoNLL-format gold data.

`nlp evaluate coref --gold PATH`: a `.tsv` file is read as GAP (F1 of the pronoun-name
decisions, overall and by gender, and the bias F/M); a `.conll` file or a folder of
them (e.g. LitBank) is scored with MUC, B-cubed, CEAF-e and the CoNLL F1, counting a
predicted mention only when its token span matches a gold mention exactly (gold
singletons included, as in the reference scorer; `without_singletons` repeats the
scores with gold singletons left out, as for OntoNotes, since the stage outputs none).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from pipeline.document import Document
from pipeline.registry import register

from .conll import conll_files, read_conll
from .gap import gap_decisions, gap_scores, read_gap
from .resolver import Coref
from .scoring import conll_scores

__all__ = ["CorefEvaluator", "evaluate_conll", "evaluate_gap"]

logger = logging.getLogger(__name__)


def evaluate_gap(path: str | Path, stage: Coref, *, limit: int | None = None) -> dict[str, Any]:
    """GAP scores of `stage` on the GAP `.tsv` file at `path` (first `limit` rows)."""
    examples = list(read_gap(path, limit=limit))
    started = time.perf_counter()
    docs = (Document.from_text(e.text, id=e.id) for e in examples)
    decisions = [
        gap_decisions(example, doc.coref or [])
        for example, doc in zip(examples, stage.pipe(docs), strict=True)
    ]
    seconds = time.perf_counter() - started
    scores = gap_scores(examples, decisions)
    return {"dataset": "gap", "gold": str(path), **scores, "seconds": round(seconds, 2)}


def evaluate_conll(path: str | Path, stage: Coref, *, limit: int | None = None) -> dict[str, Any]:
    """MUC, B-cubed, CEAF-e and CoNLL F1 of `stage` on CoNLL gold documents at `path`.

    Each gold document is given to the stage with its gold tokenization, so predicted
    and gold mentions are compared as token spans; scores are micro-averaged over
    documents (mention ids are prefixed with the document).
    """
    key: list[list[tuple[int, int, int]]] = []
    response: list[list[tuple[int, int, int]]] = []
    documents = 0
    started = time.perf_counter()
    for file in conll_files(path):
        for gold in read_conll(file):
            if limit is not None and documents >= limit:
                break
            text, starts, ends = gold.text()
            doc = Document.from_text(text, id=gold.name)
            doc.set_tokens(starts, ends)
            stage(doc)
            token_of_start = {s: i for i, s in enumerate(starts)}
            token_of_end = {e: i + 1 for i, e in enumerate(ends)}
            for cluster in gold.clusters:
                key.append([(documents, s, e) for s, e in cluster])
            for cluster in doc.coref or []:
                mentions = []
                for span in cluster:
                    s, e = token_of_start.get(span.start), token_of_end.get(span.end)
                    if s is not None and e is not None:
                        mentions.append((documents, s, e))
                if mentions:
                    response.append(mentions)
            documents += 1
    seconds = time.perf_counter() - started
    gold_mentions = {m for c in key for m in c}
    predicted = {m for c in response for m in c}
    scores = conll_scores(key, response)
    # The stage drops singletons; OntoNotes-style scores leave gold singletons out too.
    without = conll_scores([c for c in key if len(c) > 1], response)
    return {
        "dataset": "conll",
        "gold": str(path),
        "documents": documents,
        "mentions": {
            "gold": len(gold_mentions),
            "predicted": len(predicted),
            "matched": len(gold_mentions & predicted),
        },
        **{
            name: dict(value) if isinstance(value, dict) else value
            for name, value in scores.items()
        },
        "without_singletons": {
            name: dict(value) if isinstance(value, dict) else value
            for name, value in without.items()
        },
        "seconds": round(seconds, 2),
    }


@register("evaluator", "coref")
class CorefEvaluator:
    """Score the `coref` stage on gold data: GAP (`.tsv`) or CoNLL (`.conll` file or folder).

    - `gold`: path to a GAP `.tsv` file, a CoNLL file, or a folder of CoNLL files.
    - `model`: spaCy pipeline for the stage (default: the standard resolver's choice).
    - `limit`: score only the first N GAP rows or CoNLL documents.

    GAP: precision/recall/F1 of the pronoun-name decisions overall, masculine and
    feminine, and the bias (feminine F1 / masculine F1). CoNLL: MUC, B-cubed, CEAF-e
    and their average F1.
    """

    version = "1"

    def __init__(
        self,
        *,
        gold: str,
        model: str | None = None,
        limit: Annotated[int, Field(ge=1)] | None = None,
    ):
        self.gold = gold
        self.model = model
        self.limit = limit

    def evaluate(self) -> dict[str, Any]:
        """Run the stage over the gold data and return the metrics as a dict."""
        path = Path(self.gold).expanduser()
        if not path.exists():
            raise FileNotFoundError(
                f"gold coreference data not found: {path} (a GAP .tsv, a CoNLL file or a folder)"
            )
        stage = Coref(model=self.model)
        if path.is_file() and path.suffix.lower() == ".tsv":
            return evaluate_gap(path, stage, limit=self.limit)
        return evaluate_conll(path, stage, limit=self.limit)
