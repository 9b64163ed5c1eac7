"""Word-embedding benchmarks: WordSim-353, SimLex-999 (Spearman) and the Google analogies.

All three datasets ship with gensim (`gensim.test.utils.datapath`). Similarity uses
gensim's `evaluate_word_pairs`; analogies use a batched 3CosAdd with exactly the
rules of gensim's `evaluate_word_analogies` (case-insensitive, the question words
excluded, the 300,000 most frequent words searched), in matrix products rather
than one `most_similar` call per question.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import Field as Range

from pipeline.registry import register

from .pretrained import load_vectors

__all__ = ["Embeddings", "evaluate_vectors", "analogy_accuracy"]

ANALOGY_VOCAB = 300_000


def _datapath(name: str) -> str:
    from gensim.test.utils import datapath

    return datapath(name)


def analogy_accuracy(
    kv: Any, path: str | None = None, *, restrict_vocab: int = ANALOGY_VOCAB, batch: int = 512
) -> dict[str, Any]:
    """Accuracy on an analogy file ("a b c d" lines, ": section" headers), as gensim computes it.

    Returns `accuracy` (over the questions whose four words are known), `coverage`
    (share of questions answered), `accuracy_all` (unknown questions counted wrong),
    and per-section `sections` {name: [correct, answered]}.
    """
    path = path or _datapath("questions-words.txt")
    keys = kv.index_to_key[:restrict_vocab]
    ok_vocab = {k.upper(): kv.get_index(k) for k in reversed(keys)}
    unit = kv.vectors[: len(keys)].astype(np.float32)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    questions: list[tuple[int, int, int, str, set[str]]] = []
    section_of: list[str] = []
    sections: dict[str, list[int]] = {}
    total = 0
    section = ""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith(": "):
                section = line[2:].strip()
                sections.setdefault(section, [0, 0])
                continue
            words = [w.upper() for w in line.split()]
            if len(words) != 4:
                continue
            total += 1
            a, b, c, expected = words
            if any(w not in ok_vocab for w in words):
                continue
            questions.append((ok_vocab[a], ok_vocab[b], ok_vocab[c], expected, {a, b, c}))
            section_of.append(section)
    import torch

    unit_t = torch.from_numpy(unit)
    correct = 0
    for start in range(0, len(questions), batch):
        chunk = questions[start : start + batch]
        ia = torch.tensor([q[0] for q in chunk])
        ib = torch.tensor([q[1] for q in chunk])
        ic = torch.tensor([q[2] for q in chunk])
        query = (unit_t[ib] + unit_t[ic] - unit_t[ia]) / 3.0
        query = query / torch.linalg.vector_norm(query, dim=1, keepdim=True).clamp_min(1e-12)
        scores = query @ unit_t.T
        rows = torch.arange(len(chunk))
        for idx in (ia, ib, ic):
            scores[rows, idx] = -torch.inf
        top = torch.topk(scores, min(5, scores.shape[1]), dim=1).indices.tolist()
        for n, (question, candidates) in enumerate(zip(chunk, top, strict=True)):
            expected, ignore = question[3], question[4]
            predicted = None
            for candidate in candidates:
                predicted = keys[candidate].upper()
                if predicted in ok_vocab and predicted not in ignore:
                    break
            hit = predicted == expected
            correct += hit
            counts = sections[section_of[start + n]]
            counts[0] += hit
            counts[1] += 1
    answered = len(questions)
    return {
        "accuracy": correct / answered if answered else 0.0,
        "accuracy_all": correct / total if total else 0.0,
        "coverage": answered / total if total else 0.0,
        "questions": total,
        "sections": sections,
    }


def similarity_scores(kv: Any, path: str) -> dict[str, float]:
    """Spearman correlation with human ratings of word pairs, and the OOV rate (a fraction)."""
    _, spearman, oov_percent = kv.evaluate_word_pairs(path, restrict_vocab=len(kv))
    return {"spearman": float(spearman.statistic), "oov_rate": float(oov_percent) / 100.0}


def evaluate_vectors(kv: Any) -> dict[str, Any]:
    """Scores of word vectors on WordSim-353, SimLex-999 and the Google analogy set."""
    analogies = analogy_accuracy(kv)
    split = {"semantic": [0, 0], "syntactic": [0, 0]}
    for name, (correct, answered) in analogies["sections"].items():
        part = split["syntactic" if name.startswith("gram") else "semantic"]
        part[0] += correct
        part[1] += answered
    return {
        "words": len(kv),
        "dimensions": int(kv.vector_size),
        "wordsim353": similarity_scores(kv, _datapath("wordsim353.tsv")),
        "simlex999": similarity_scores(kv, _datapath("simlex999.txt")),
        "analogies": {
            "accuracy": analogies["accuracy"],
            "accuracy_all": analogies["accuracy_all"],
            "oov_rate": 1.0 - analogies["coverage"],
            "questions": analogies["questions"],
            **{
                f"{part}_{key}": value
                for part, (correct, answered) in split.items()
                for key, value in (
                    ("accuracy", correct / answered if answered else 0.0),
                    ("answered", answered),
                )
            },
        },
    }


@register("evaluator", "embeddings")
class Embeddings:
    """Score word vectors on WordSim-353, SimLex-999 (Spearman) and Google analogies (accuracy).

    - `path`: a vectors file (word2vec text or binary, GloVe text), a folder saved by
      a word-vector learner, or a packaged name ("glove-6b-50d", "spacy-md").
    - `limit`: score only the most frequent `limit` words.

    `evaluate()` returns a dict with each benchmark's score and out-of-vocabulary rate
    (pairs or questions with an unknown word are skipped, as gensim does;
    `accuracy_all` counts unknown analogy questions as wrong).
    """

    version = "1"

    def __init__(self, *, path: str, limit: Annotated[int, Range(ge=1)] | None = None):
        self.path = path
        self.limit = limit

    def evaluate(self) -> dict[str, Any]:
        """Load the vectors and run the three benchmarks."""
        kv = load_vectors(self.path, limit=self.limit)
        scores = evaluate_vectors(kv)
        scores["vectors"] = (
            str(self.path) if not Path(str(self.path)).exists() else str(Path(self.path))
        )
        return scores
