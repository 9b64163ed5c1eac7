"""The `keywords` task: keyphrases per document (TF-IDF, TextRank, YAKE) and for the corpus.

- TF-IDF: a document's uni- and bigrams (within runs of kept tokens, so a term never
  spans a stopword or punctuation) ranked by term count x smoothed corpus idf
  (`ln((1 + N) / (1 + df)) + 1`, as scikit-learn's). Two passes over the corpus:
  document frequencies, then scores; only terms in two documents or more are kept as
  state (a term missing from it has document frequency 1 here, as in the corpus).
- TextRank keyphrases (Mihalcea & Tarau 2004), written here: pytextrank and summa run
  their own tokenizer and tagger (spaCy / pattern) on the raw text, so no maintained
  library does it over the token layer (and lemmas, stopwords, POS) our stages set.
  Candidate words pass a syntactic filter (NOUN, PROPN, ADJ when a `pos` stage ran,
  else alphabetic non-stopwords); consecutive candidates of a sentence are linked
  (window 2 over the filtered sequence, as the paper's figure 2 and pytextrank do;
  summa and pke count the window over all words); PageRank (networkx) ranks the words;
  the top third are keywords; runs of adjacent keywords in the text become phrases
  (at most `ngram_max` words each), scored by the mean of their words' ranks (summa's
  choice).
- YAKE (Campos et al. 2020): the `yake` package on the raw text (its own stopwords;
  `field` and `drop_stop` do not apply). YAKE scores are lower-is-better; the score
  here is their inverse `1 / yake_score`, higher is better and ratios are kept.

Tokens without a letter (numbers, punctuation) are never part of a keyphrase.
Corpus keyphrases: each document's scores divided by its best one, summed per phrase
(case-insensitive) over the documents, with the number of documents.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from pydantic import Field

from pipeline import report_sections as report
from pipeline.config import ConfigError
from pipeline.document import Document
from pipeline.registry import register

from ..represent.tokens import Field as TokenField
from .base import AnalyticsTask, JsonLines, document_tokens, staged_key, write_json

__all__ = ["Keywords"]

POS_KEPT = frozenset({"NOUN", "PROPN", "ADJ"})
STATE_FILE = "document_frequencies.json"
_HAS_LETTER = re.compile(r"[^\W\d_]").search
_ALPHABETIC = re.compile(r"[^\W\d_]+(?:[-'’.][^\W\d_]+)*\.?").fullmatch
_TITLES = {"tfidf": "TF-IDF", "textrank": "TextRank", "yake": "YAKE"}

Term = tuple[str, int, int]  # key, start and end offsets in the text


@register("task", "keywords")
class Keywords(AnalyticsTask):
    """Keyphrases of each document and of the corpus: TF-IDF, TextRank or YAKE.

    - `algorithm`: tfidf | textrank (default) | yake (see the module docstring).
    - `top`: keyphrases per document; `corpus_top`: corpus keyphrases kept.
    - `ngram_max`: the longest phrase in words (TF-IDF uses at most 2).
    - `field`, `drop_stop`: which token form keys a phrase (lower, lemma, ...) and
      whether stopwords (`stopwords` stage) are left out (tfidf and textrank).
    """

    method = "keywords"

    def __init__(
        self,
        *,
        algorithm: Literal["tfidf", "textrank", "yake"] = "textrank",
        top: Annotated[int, Field(ge=1)] = 10,
        corpus_top: Annotated[int, Field(ge=1)] = 30,
        ngram_max: Annotated[int, Field(ge=1, le=6)] = 3,
        field: TokenField = "lower",
        drop_stop: bool = True,
    ):
        self.algorithm = algorithm
        self.top = top
        self.corpus_top = corpus_top
        self.ngram_max = ngram_max
        self.field = field
        self.drop_stop = drop_stop

    # -- one document ----------------------------------------------------------------------

    def predict_document(self, doc: Document) -> dict[str, Any]:
        """`{"id", "keywords": [{"phrase", "score"}, ...]}` (best first; a phrase is the
        text as written at its first occurrence), or `{"id", "skipped": reason}`."""
        return self._predict(doc, f"tasks.{self.method}")

    def _predict(self, doc: Document, where: str) -> dict[str, Any]:
        if self.algorithm == "yake":
            if not _HAS_LETTER(doc.text):
                return {"id": doc.id, "skipped": "empty text"}
            phrases = self._yake(doc.text)
        else:
            terms, runs, sentence_of = self._terms(doc, where)
            if not terms:
                reason = "no content words" if _HAS_LETTER(doc.text) else "empty text"
                return {"id": doc.id, "skipped": reason}
            if self.algorithm == "tfidf":
                phrases = self._tfidf(doc.text, runs)
            else:
                phrases = self._textrank(doc, terms, sentence_of)
        if not phrases:
            return {"id": doc.id, "skipped": "no keyphrase"}
        return {"id": doc.id, "keywords": phrases}

    def _terms(
        self, doc: Document, where: str
    ) -> tuple[list[Term | None], list[list[Term]], list[int]]:
        """Per token: its key and offsets when it may be part of a phrase (else None); the
        runs of such adjacent tokens; the sentence index of each token."""
        tokens = doc.tokens
        needs = [self.field] if self.field in ("norm", "lemma", "stem") else []
        needs += ["is_stop"] if self.drop_stop else []
        if tokens is None or any(getattr(tokens, name) is None for name in needs):
            document_tokens(doc, field=self.field, drop_stop=self.drop_stop, where=where)
            raise ConfigError(f"{where}.field: document {doc.id!r} lacks a token column")
        texts = tokens.text
        if self.field == "text":
            values = texts
        elif self.field == "lower":
            values = [v.lower() for v in (tokens.norm or texts)]
        else:
            values = getattr(tokens, self.field)
        stops = tokens.is_stop if self.drop_stop else None
        starts, ends = tokens.start, tokens.end
        terms: list[Term | None] = []
        for i, (value, text) in enumerate(zip(values, texts, strict=True)):
            keep = value and _HAS_LETTER(text) and not (stops and stops[i])
            terms.append((value, starts[i], ends[i]) if keep else None)
        sentence_starts = [s.start for s in doc.sentences or ()]
        sentence_of = [bisect_right(sentence_starts, s) for s in starts]
        runs: list[list[Term]] = []
        for i, term in enumerate(terms):
            if term is None:
                continue
            if i and terms[i - 1] is not None and sentence_of[i - 1] == sentence_of[i]:
                runs[-1].append(term)
            else:
                runs.append([term])
        return (terms if runs else []), runs, sentence_of

    def _ngrams(self, runs: list[list[Term]]) -> Iterator[Term]:
        """Every n-gram (n <= min(ngram_max, 2)) inside a run: key, start, end."""
        longest = min(self.ngram_max, 2)
        for run in runs:
            for n in range(1, longest + 1):
                for i in range(len(run) - n + 1):
                    words = run[i : i + n]
                    yield " ".join(w[0] for w in words), words[0][1], words[-1][2]

    def _tfidf(self, text: str, runs: list[list[Term]]) -> list[dict[str, Any]]:
        frequencies = getattr(self, "document_frequencies_", None)
        if frequencies is None:
            raise ConfigError(
                "keywords with algorithm 'tfidf' need the corpus's document frequencies: "
                "fit the task on a corpus first (nlp run), then predict"
            )
        counts: Counter[str] = Counter()
        first: dict[str, tuple[int, int]] = {}
        for key, start, end in self._ngrams(runs):
            counts[key] += 1
            first.setdefault(key, (start, end))
        n = self.documents_
        scores = {
            key: count * (math.log((1 + n) / (1 + frequencies.get(key, 1))) + 1)
            for key, count in counts.items()
        }
        return _best(scores, first, text, self.top)

    def _textrank(
        self, doc: Document, terms: list[Term | None], sentence_of: list[int]
    ) -> list[dict[str, Any]]:
        import networkx as nx

        pos = doc.tokens.pos if doc.tokens is not None else None
        texts = doc.tokens.text if doc.tokens is not None else []
        candidate = [
            term is not None
            and (pos[i] in POS_KEPT if pos is not None else bool(_ALPHABETIC(texts[i])))
            for i, term in enumerate(terms)
        ]
        graph = nx.Graph()
        previous: tuple[str, int] | None = None  # the last candidate's key and sentence
        for i, term in enumerate(terms):
            if not candidate[i]:
                continue
            graph.add_node(term[0])
            if previous is not None and previous[1] == sentence_of[i] and previous[0] != term[0]:
                graph.add_edge(previous[0], term[0])
            previous = (term[0], sentence_of[i])
        if not graph:
            return []
        rank = nx.pagerank(graph, alpha=0.85)
        ordered = sorted(rank, key=lambda k: (-rank[k], k))
        keywords = set(ordered[: math.ceil(len(ordered) / 3)])
        scores: dict[str, float] = {}
        first: dict[str, tuple[int, int]] = {}
        run: list[Term] = []
        for i, term in enumerate([*terms, None]):
            inside = term is not None and candidate[i] and term[0] in keywords
            if inside and run and sentence_of[i] == sentence_of[i - 1]:
                run.append(term)
                continue
            for j in range(0, len(run), self.ngram_max):
                words = run[j : j + self.ngram_max]
                key = " ".join(w[0] for w in words)
                scores[key] = sum(rank[w[0]] for w in words) / len(words)
                first.setdefault(key, (words[0][1], words[-1][2]))
            run = [term] if inside else []
        return _best(scores, first, doc.text, self.top)

    def _yake(self, text: str) -> list[dict[str, Any]]:
        extractor = getattr(self, "_extractor", None)
        if extractor is None:
            import yake

            extractor = self._extractor = yake.KeywordExtractor(
                lan="en", n=self.ngram_max, top=self.top
            )
        return [
            {"phrase": phrase, "score": round(1.0 / max(float(score), 1e-12), 6)}
            for phrase, score in extractor.extract_keywords(text)
        ]

    # -- the corpus --------------------------------------------------------------------------

    def _fit(self, corpus: Iterable[Document], staging: Path, run_dir: Path | None) -> None:
        where = staged_key(staging)
        if self.algorithm == "tfidf":
            self._count_documents(corpus, where)
        phrases: dict[str, list[Any]] = {}  # key: [phrase as first seen, documents, score]
        skipped: Counter[str] = Counter()
        with JsonLines(staging / "predictions.jsonl") as out:
            for doc in corpus:
                row = self._predict(doc, where)
                out.write(row)
                if "skipped" in row:
                    skipped[row["skipped"]] += 1
                    continue
                best = row["keywords"][0]["score"] or 1.0
                for keyword in row["keywords"]:
                    entry = phrases.setdefault(
                        keyword["phrase"].lower(), [keyword["phrase"], 0, 0.0]
                    )
                    entry[1] += 1
                    entry[2] += keyword["score"] / best
        ranked = sorted(phrases.values(), key=lambda e: (-e[2], -e[1], e[0].lower()))
        self.corpus_keywords_ = [
            {"phrase": phrase, "documents": documents, "score": round(score, 4)}
            for phrase, documents, score in ranked[: self.corpus_top]
        ]
        metrics = {
            "algorithm": self.algorithm,
            "documents": out.count,
            "with_keyphrases": out.count - sum(skipped.values()),
            "skipped": dict(skipped),
            "distinct_phrases": len(phrases),
        }
        write_json(staging / "metrics.json", metrics)
        write_json(staging / "keywords.json", self.corpus_keywords_)
        self._write_report(staging, metrics)

    def _count_documents(self, corpus: Iterable[Document], where: str) -> None:
        """First TF-IDF pass: in how many documents each term occurs."""
        frequencies: Counter[str] = Counter()
        documents = 0
        for doc in corpus:
            terms, runs, _ = self._terms(doc, where)
            if terms:
                documents += 1
                frequencies.update({key for key, _, _ in self._ngrams(runs)})
        self.documents_ = documents
        self.document_frequencies_ = {k: n for k, n in frequencies.items() if n > 1}

    def _write_report(self, folder: Path, metrics: dict[str, Any]) -> None:
        name = _TITLES[self.algorithm]
        rows = [[k["phrase"], k["documents"], k["score"]] for k in self.corpus_keywords_]
        blocks = [
            report.text_block(
                f"{name} keyphrases, {self.top} per document; a corpus keyphrase's score is "
                "the sum over documents of its score divided by the document's best."
            ),
            report.metrics_block(
                "Documents",
                {
                    "documents": metrics["documents"],
                    "with keyphrases": metrics["with_keyphrases"],
                    **{f"skipped ({k})": n for k, n in metrics["skipped"].items()},
                    "distinct keyphrases": metrics["distinct_phrases"],
                },
            ),
            report.table_block("Corpus keyphrases", ["keyphrase", "documents", "score"], rows),
        ]
        report.write_section(folder, f"Keywords ({name})", blocks, order=35)

    # -- files -------------------------------------------------------------------------------

    def _save_state(self, folder: Path) -> None:
        if getattr(self, "document_frequencies_", None) is not None:
            state = {"documents": self.documents_, "frequencies": self.document_frequencies_}
            (folder / STATE_FILE).write_bytes(orjson.dumps(state))

    def _load_state(self, folder: Path) -> None:
        path = folder / STATE_FILE
        if path.is_file():
            state = orjson.loads(path.read_bytes())
            self.documents_ = state["documents"]
            self.document_frequencies_ = state["frequencies"]


def _best(
    scores: dict[str, float], first: dict[str, tuple[int, int]], text: str, top: int
) -> list[dict[str, Any]]:
    """The `top` best keys as `{"phrase": text at the first occurrence, "score"}`."""
    ranked = sorted(scores, key=lambda k: (-scores[k], first[k][0]))[:top]
    return [
        {"phrase": text[first[k][0] : first[k][1]], "score": round(scores[k], 6)} for k in ranked
    ]
