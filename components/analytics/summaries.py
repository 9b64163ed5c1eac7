"""Extractive summaries: Lead, TextRank and LexRank rank each document's own sentences.

Every method reads the sentences the `sentences` stage set (`doc.sentences`), keeps
`sentences: N` of them (or `ratio` of them, rounded half up, at least one) in document
order and joins their original texts with a space. `predictions.jsonl` holds
`{"id", "summary", "sentences": [indices]}`; equal scores go to the earlier sentence.

- `lead`: the first N sentences (the news baseline, Lead-3).
- `textrank` (Mihalcea & Tarau 2004): PageRank (networkx, `damping`) over the complete
  graph of the document's sentences weighted by their cosine similarity, no self-loops.
- `lexrank` (Erkan & Radev 2004): PageRank over the graph linking sentences whose
  idf-modified cosine exceeds `threshold`, each link weighing 1 (self-loops included, as in
  the paper's Algorithm 3); `continuous: true` weighs every link by its cosine instead (the
  threshold is then unused). `damping` is 1 - the paper's d (d = 0.15: damping 0.85).

`similarity: tfidf` compares term-frequency x idf sentence vectors (which is the paper's
idf-modified cosine). The idf comes from the run's documents, idf(w) = log(N / df(w)): the
paper defines idf over documents, not sentences, and crabcamp/lexrank computes it from a
corpus of documents; sumy treats each sentence of the one article as a document, which
leaves an article's topic words, found in most of its sentences, almost weightless. The cost: a first pass over the corpus counting document
frequencies, saved as `idf.json`. A word the corpus never had gets log(N + 1); a corpus of
one document carries no idf, and every word then weighs 1.
`similarity: vectors` compares sentences' mean word vectors (`vectors`: "spacy-md",
"glove-6b-50d" or a path `components.represent.pretrained.load_vectors` reads, such as a
run's `represent/word2vec` folder); negative cosines count as 0.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import numpy as np

from pipeline.config import ConfigError
from pipeline.document import Document, Span
from pipeline.registry import register
from pipeline.report_sections import metrics_block, table_block, text_block, write_section

from ..ml.rouge import ROUGE_TYPES, RougeMeans
from ..represent.tokens import Field
from .base import AnalyticsTask, JsonLines, document_tokens, write_json
from .sentence_graph import (
    lexrank_weights,
    pagerank_scores,
    read_idf,
    sentence_tokens,
    textrank_weights,
    tfidf_similarities,
    vector_similarities,
    vectors_problems,
    write_idf,
)

__all__ = ["LeadSummary", "LexRankSummary", "TextRankSummary"]

logger = logging.getLogger(__name__)

Similarity = Literal["tfidf", "vectors"]
SAMPLES = 5


class ExtractiveSummary(AnalyticsTask):
    """What the extractive summarisers share: length, outputs, ROUGE against `meta[reference]`.

    Subclasses store their parameters and implement `_scores(doc, sentences)`, one
    centrality per sentence (higher is kept first)."""

    label: ClassVar[str] = ""
    sentences: int | None
    ratio: float | None
    reference: str | None

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """Problems types cannot express: sentences and ratio both set or both unset, values
        out of range, word vectors that are not installed; as "key: message" lines."""
        sentences, ratio = params.get("sentences"), params.get("ratio")
        problems = []
        if sentences is not None and ratio is not None:
            problems.append(
                f"sentences: both sentences ({sentences}) and ratio ({ratio}) are set; keep "
                "one: `sentences: null` to summarise by ratio, or drop `ratio`"
            )
        elif sentences is None and ratio is None:
            problems.append(
                "sentences: neither sentences nor ratio is set; give `sentences: N` (e.g. 3) "
                "or `ratio: R` (e.g. 0.3)"
            )
        if sentences is not None and sentences < 1:
            problems.append(f"sentences: {sentences} is invalid: keep at least 1 sentence")
        if ratio is not None and not 0 < ratio <= 1:
            problems.append(f"ratio: {ratio} is invalid: give a share of sentences in (0, 1]")
        if "damping" in params and not 0 < params["damping"] < 1:
            problems.append(f"damping: {params['damping']} is invalid: use a value in (0, 1)")
        if "threshold" in params and not 0 <= params["threshold"] < 1:
            problems.append(f"threshold: {params['threshold']} is invalid: use a value in [0, 1)")
        if params.get("similarity") == "vectors":
            problems.extend(vectors_problems(str(params.get("vectors"))))
        return problems

    # -- fitting -------------------------------------------------------------------------

    def fit(self, corpus: Iterable[Document], run_dir: Path) -> Self:
        """Summarise every document of `corpus` into the task folder `run_dir`."""
        self.task_name_ = Path(run_dir).name
        return super().fit(corpus, run_dir)

    def _fit(self, corpus: Iterable[Document], staging: Path, run_dir: Path | None) -> None:
        self._check()
        t0 = time.perf_counter()
        self._prepare(corpus)
        with JsonLines(staging / "predictions.jsonl") as out:
            tally = self._summarise_all(corpus, out)
        metrics = {"method": self.method, **tally, "seconds": round(time.perf_counter() - t0, 3)}
        samples = metrics.pop("samples")
        write_json(staging / "metrics.json", metrics)
        self._write_report(staging, metrics, samples)
        logger.info(
            "%s: %d documents summarised in %.1f s",
            self._where,
            tally["documents"],
            metrics["seconds"],
        )

    def _prepare(self, corpus: Iterable[Document]) -> None:
        """Learn what ranking needs from the corpus (nothing by default)."""

    def _summarise_all(self, corpus: Iterable[Document], out: JsonLines | None) -> dict[str, Any]:
        """One pass: each document summarised (written to `out` when given), ROUGE against
        the reference when one is set, and the counts `metrics.json` reports."""
        rouge = RougeMeans(types=ROUGE_TYPES) if self.reference else None
        documents = short = chosen = without_reference = 0
        skipped: Counter[str] = Counter()
        meta_keys: set[str] = set()
        samples: list[tuple[str, Any, str]] = []
        for doc in corpus:
            result = self._summarise(doc)
            documents += 1
            if out is not None:
                out.write(result)
            if len(samples) < SAMPLES:
                samples.append((doc.id, doc.meta.get("title"), result["summary"]))
            if "skipped" in result:
                skipped[result["skipped"]] += 1
                continue
            chosen += len(result["sentences"])
            assert doc.sentences is not None
            if self.sentences is not None and len(doc.sentences) < self.sentences:
                short += 1
            if rouge is not None:
                reference = _reference_text(doc.meta.get(self.reference))
                if reference is None:
                    without_reference += 1
                    if len(meta_keys) < 50:
                        meta_keys.update(map(str, doc.meta))
                else:
                    rouge.add(result["summary"], reference)
        summarised = documents - sum(skipped.values())
        tally: dict[str, Any] = {
            "documents": documents,
            "summarised": summarised,
            "short": short,
            "skipped": dict(skipped),
            "mean_sentences": round(chosen / summarised, 3) if summarised else 0.0,
        }
        if rouge is not None:
            if summarised and not rouge.documents:
                raise ConfigError(
                    f"{self._where}.reference: none of the {summarised} summarised documents "
                    f"has a text in meta[{self.reference!r}]; their meta keys: "
                    f"{', '.join(sorted(meta_keys)) or 'none'}. Set `reference` to the key "
                    "holding the reference summary (or leave it unset)"
                )
            tally["rouge"] = rouge.result()
            tally["without_reference"] = without_reference
        tally["samples"] = samples
        return tally

    # -- using ---------------------------------------------------------------------------

    def predict_document(self, doc: Document) -> dict[str, Any]:
        """`{"id", "summary", "sentences": [indices]}`, or `{"id", "summary": "", "skipped":
        "no sentences"}` for a document without a sentence. A document the `sentences`
        stage did not see is a `ConfigError` naming the stage to add."""
        self._check()
        return self._summarise(doc)

    def _summarise(self, doc: Document) -> dict[str, Any]:
        spans = doc.sentences
        if spans is None:
            raise ConfigError(
                f"{self._where}: document {doc.id!r} has no sentence layer: add a `sentences` "
                "stage to `stages:` (after `tokenize`) so summaries can pick sentences"
            )
        n = len(spans)
        if not n:
            return {"id": doc.id, "summary": "", "skipped": "no sentences"}
        keep = self._length(n)
        if keep >= n:
            chosen = list(range(n))
        else:
            scores = self._scores(doc, spans)
            ranked = sorted(range(n), key=lambda i: (-round(float(scores[i]), 12), i))
            chosen = sorted(ranked[:keep])
        summary = " ".join(spans[i].text for i in chosen)
        return {"id": doc.id, "summary": summary, "sentences": chosen}

    def evaluate(self, corpus: Iterable[Document]) -> dict[str, Any]:
        """ROUGE-1/2/L (mean precision, recall, F1) of the summaries against
        `meta[reference]`, with the counts: `{"rouge": {...}, "documents", ...}`."""
        if not self.reference:
            raise ConfigError(
                f"{self._where}.reference: no reference to evaluate against: set `reference` "
                "to the meta field holding each document's reference summary"
            )
        self._check()
        tally = self._summarise_all(corpus, None)
        tally.pop("samples")
        return tally

    def _length(self, n: int) -> int:
        """How many of `n` sentences to keep."""
        if self.sentences is not None:
            return int(self.sentences)
        assert self.ratio is not None
        return max(1, math.floor(self.ratio * n + 0.5))

    def _scores(self, doc: Document, spans: Sequence[Span]) -> np.ndarray:
        raise NotImplementedError

    def _check(self) -> None:
        problems = self.check_params(self.get_params())
        if problems:
            raise ConfigError.of([ConfigError(f"{self._where}.{p}") for p in problems])

    @property
    def _where(self) -> str:
        return f"tasks.{getattr(self, 'task_name_', self.method)}"

    def _load_state(self, folder: Path) -> None:
        self.task_name_ = Path(folder).name

    # -- report --------------------------------------------------------------------------

    def _title(self) -> str:
        length = (
            f"{self.sentences} sentence{'s' if self.sentences != 1 else ''}"
            if self.sentences is not None
            else f"{self.ratio:.0%} of the sentences"
        )
        return f"Summaries ({self.label}, {length})"

    def _write_report(
        self, folder: Path, metrics: Mapping[str, Any], samples: list[tuple[str, Any, str]]
    ) -> None:
        skipped = sum(metrics["skipped"].values())
        text = (
            f"{metrics['summarised']} of {metrics['documents']} documents summarised, "
            f"{metrics['mean_sentences']} sentences each on average; {metrics['short']} had "
            f"fewer sentences than asked (kept whole), {skipped} had no sentence."
        )
        blocks: list[dict[str, Any]] = [text_block(text)]
        rouge = metrics.get("rouge")
        if rouge is not None:
            values: dict[str, Any] = {}
            for rouge_type in ROUGE_TYPES:
                name = "ROUGE-" + rouge_type.removeprefix("rouge")
                for figure in ("f1", "recall", "precision"):
                    values[f"{name} {figure}"] = round(rouge[rouge_type][figure], 4)
            values["documents scored"] = rouge["documents"]
            blocks.append(metrics_block(f"ROUGE against meta[{self.reference!r}]", values))
        with_title = any(title for _, title, _ in samples)
        columns = ["id", "title", "summary"] if with_title else ["id", "summary"]
        rows = [
            [doc_id, str(title or ""), summary] if with_title else [doc_id, summary]
            for doc_id, title, summary in samples
        ]
        blocks.append(table_block("Sample summaries", columns, rows))
        write_section(folder, self._title(), blocks, order=40)


@register("task", "lead")
class LeadSummary(ExtractiveSummary):
    """Lead: the first sentences of each document, the classic news baseline.

    `sentences` of them, or `ratio` of the document's sentences. `reference`: a meta field
    holding reference summaries (ROUGE)."""

    method = "lead"
    label = "Lead"

    def __init__(
        self, *, sentences: int | None = 3, ratio: float | None = None, reference: str | None = None
    ):
        self.sentences = sentences
        self.ratio = ratio
        self.reference = reference

    def _scores(self, doc: Document, spans: Sequence[Span]) -> np.ndarray:
        return -np.arange(len(spans), dtype=float)


class GraphSummary(ExtractiveSummary):
    """The sentence-graph summarisers: similarities, PageRank, the corpus idf they keep."""

    similarity: Similarity
    vectors: str
    field: Field
    drop_stop: bool
    damping: float

    def _prepare(self, corpus: Iterable[Document]) -> None:
        if self.similarity != "tfidf":
            return
        frequencies: Counter[str] = Counter()
        documents = 0
        for doc in corpus:
            if doc.sentences is None:
                self._summarise(doc)  # raises, naming the stage to add
            tokens = document_tokens(
                doc, field=self.field, drop_stop=self.drop_stop, where=self._where
            )
            frequencies.update(set(tokens))
            documents += 1
        self.documents_ = documents
        self.document_frequencies_ = dict(frequencies)

    def _scores(self, doc: Document, spans: Sequence[Span]) -> np.ndarray:
        tokens = sentence_tokens(
            doc, spans, field=self.field, drop_stop=self.drop_stop, where=self._where
        )
        if self.similarity == "vectors":
            similarities = self._vector_similarities(tokens)
        else:
            similarities = self._tfidf_similarities(tokens)
        return pagerank_scores(self._weights(similarities), damping=self.damping)

    def _weights(self, similarities: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _tfidf_similarities(self, tokens: list[list[str]]) -> np.ndarray:
        """Cosine of the sentences' term-frequency x corpus-idf vectors."""
        if not hasattr(self, "document_frequencies_"):
            raise RuntimeError(
                f"{self._where}: similarity 'tfidf' needs the corpus idf: fit the task "
                "(or load a fitted task folder) before summarising"
            )
        return tfidf_similarities(
            tokens, documents=self.documents_, document_frequencies=self.document_frequencies_
        )

    def _vector_similarities(self, tokens: list[list[str]]) -> np.ndarray:
        """Cosine of the sentences' mean word vectors, negatives as 0."""
        if getattr(self, "_word_vectors", None) is None:
            from ..represent.pretrained import load_vectors

            self._word_vectors = load_vectors(self.vectors)
        return vector_similarities(self._word_vectors, tokens)

    def _save_state(self, folder: Path) -> None:
        if hasattr(self, "document_frequencies_"):
            write_idf(folder, self.documents_, self.document_frequencies_)

    def _load_state(self, folder: Path) -> None:
        super()._load_state(folder)
        idf = read_idf(folder)
        if idf is not None:
            self.documents_, self.document_frequencies_ = idf


@register("task", "textrank")
class TextRankSummary(GraphSummary):
    """TextRank: PageRank (`damping`) over the cosine-weighted sentence graph of each document.

    `similarity`: "tfidf" (corpus idf) or "vectors" (mean word vectors from `vectors`);
    `field` / `drop_stop`: which tokens make the sentence vectors; `sentences` or `ratio`:
    the length; `reference`: a meta field holding reference summaries (ROUGE)."""

    method = "textrank"
    label = "TextRank"

    def __init__(
        self,
        *,
        sentences: int | None = 3,
        ratio: float | None = None,
        similarity: Similarity = "tfidf",
        vectors: str = "spacy-md",
        damping: float = 0.85,
        field: Field = "lower",
        drop_stop: bool = False,
        reference: str | None = None,
    ):
        self.sentences = sentences
        self.ratio = ratio
        self.similarity = similarity
        self.vectors = vectors
        self.damping = damping
        self.field = field
        self.drop_stop = drop_stop
        self.reference = reference

    def _weights(self, similarities: np.ndarray) -> np.ndarray:
        return textrank_weights(similarities)


@register("task", "lexrank")
class LexRankSummary(GraphSummary):
    """LexRank (Erkan & Radev 2004): PageRank over a graph of similar sentences.

    Sentences are linked by an idf-modified cosine above `threshold`; `continuous` weighs
    the links by the cosine instead.

    Other parameters as for `textrank` (`damping` 0.85 is the paper's d = 0.15). With
    `similarity: vectors` nearly every pair of mean word vectors has a cosine above 0.1, so
    the paper's threshold links everything and the ranking falls back to document order
    (Lead's choice on 943 of 1,111 BBC articles): raise `threshold` or use `continuous`."""

    method = "lexrank"
    label = "LexRank"

    def __init__(
        self,
        *,
        sentences: int | None = 3,
        ratio: float | None = None,
        threshold: float = 0.1,
        continuous: bool = False,
        similarity: Similarity = "tfidf",
        vectors: str = "spacy-md",
        damping: float = 0.85,
        field: Field = "lower",
        drop_stop: bool = False,
        reference: str | None = None,
    ):
        self.sentences = sentences
        self.ratio = ratio
        self.threshold = threshold
        self.continuous = continuous
        self.similarity = similarity
        self.vectors = vectors
        self.damping = damping
        self.field = field
        self.drop_stop = drop_stop
        self.reference = reference

    def _title(self) -> str:
        title = super()._title()
        return title.replace("LexRank", "continuous LexRank") if self.continuous else title

    def _weights(self, similarities: np.ndarray) -> np.ndarray:
        return lexrank_weights(similarities, threshold=self.threshold, continuous=self.continuous)


def _reference_text(value: Any) -> str | None:
    """A reference summary from a meta value, or `None` when it is missing or blank."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if text.strip() else None
