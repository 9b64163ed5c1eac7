"""Topics (`method: lda | nmf`): what the documents are about, and how that moves over time.

`LdaTopics` (gensim, seeded; `LdaMulticore` when `workers` > 1) and `NmfTopics`
(scikit-learn's NMF over TF-IDF) share one implementation (`TopicTask`):

1. one pass over the corpus: each document's tokens (`field`, `drop_stop`) into a gensim
   `Dictionary` and a packed bag of words, its date (`meta[date_field]`); documents are
   not kept;
2. vocabulary limits (`Dictionary.filter_extremes`: `min_df` documents at least,
   `max_df` fraction at most, `max_features` most frequent);
3. one model per number of topics in `num_topics`; with several, the best by coherence
   (gensim's `CoherenceModel`, texts re-read from the corpus) is kept;
4. each document's topic distribution into `predictions.jsonl`, the most representative
   documents per topic, and the topic shares per `period` (`trends.csv`, `trends.png`).

Outputs in the task folder: `topics.json`, `predictions.jsonl`, `representative.json`,
`metrics.json`, `trends.csv` / `trends.png` (when documents have dates),
`coherence.png` (when several numbers of topics were compared) and `report.json`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import Field as Range

from pipeline.config import ConfigError
from pipeline.document import Document
from pipeline.registry import register

from ..ml.dates import Period
from ..represent.tokens import Field
from .base import AnalyticsTask, JsonLines, document_tokens, staged_key, write_json
from .topic_corpus import (
    NO_TERMS,
    NO_TOKENS,
    CorpusData,
    PackedBows,
    TokenTexts,
    dictionary_from_json,
    dictionary_to_json,
    read_corpus,
)
from .topic_models import LdaModelFit, NmfModelFit, coherence_by_k, read_json
from .topic_outputs import TopDocuments, plot_coherence, write_report, write_trends
from .trends import PeriodShares

__all__ = ["LdaTopics", "NmfTopics", "TopicTask"]

logger = logging.getLogger(__name__)

NumTopics = int | list[int]  # each at least 2, the list not empty: see `check_params`
Coherence = Literal["c_v", "u_mass", "c_npmi"]
NO_WEIGHT = "no topic weight"  # NMF gave the document zero weight on every topic
VOCABULARY_FILE = "vocabulary.json"


class TopicTask(AnalyticsTask):
    """What `lda` and `nmf` share (see the module docstring); subclasses fit the model."""

    num_topics: int | list[int]
    coherence: str | None
    field: Field
    drop_stop: bool
    min_df: int
    max_df: float
    max_features: int | None
    seed: int
    top_words: int
    representative: int
    date_field: str | None
    period: Period
    label: ClassVar[str] = ""

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """Cheap checks: numbers of topics of at least 2; choosing among several needs a
        coherence measure."""
        ks = params.get("num_topics")
        numbers = ks if isinstance(ks, list) else [ks]
        if not numbers or any(not isinstance(k, int) or k < 2 for k in numbers):
            return [
                f"num_topics: {ks!r} is invalid: give a number of topics of at least 2, "
                "or a non-empty list of them (e.g. [5, 10, 15, 20])"
            ]
        if len(set(numbers)) > 1 and params.get("coherence") is None:
            return [
                f"coherence: null cannot choose among num_topics {sorted(set(ks))}: "
                "set coherence (c_v, u_mass or c_npmi) or give one number of topics"
            ]
        return []

    # -- the model, per method ------------------------------------------------------------

    def _fit_model(self, bows: PackedBows, dictionary: Any, k: int) -> Any:
        raise NotImplementedError

    def _load_model(self, folder: Path, dictionary: Any) -> Any:
        raise NotImplementedError

    # -- fitting -----------------------------------------------------------------------------

    def _fit(self, corpus: Iterable[Document], staging: Path, run_dir: Path | None) -> None:
        where = staged_key(staging)
        problems = self.check_params(self.get_params())
        if problems:
            raise ConfigError.of([ConfigError(f"{where}.{p}") for p in problems])
        data = read_corpus(
            corpus,
            field=self.field,
            drop_stop=self.drop_stop,
            date_field=self.date_field,
            min_df=self.min_df,
            max_df=self.max_df,
            max_features=self.max_features,
            where=where,
        )
        ks, notes = self._possible_ks(len(data.bows), where)
        models = {k: self._fit_model(data.bows, data.dictionary, k) for k in ks}
        terms = {k: m.topic_terms(self.top_words) for k, m in models.items()}
        scores: dict[int, tuple[float | None, list[float | None]]] = {}
        if self.coherence is not None:
            texts = TokenTexts(corpus, field=self.field, drop_stop=self.drop_stop, where=where)
            scores = coherence_by_k(
                {k: [[w for w, _ in topic] for topic in t] for k, t in terms.items()},
                measure=self.coherence,
                dictionary=data.dictionary,
                texts=texts,
                bows=data.bows,
            )
        chosen = _best_k(ks, scores)
        self.num_topics_ = chosen
        self.dictionary_ = data.dictionary
        self.model_ = models[chosen]
        self.topics_ = terms[chosen]
        models.clear()
        summary = self._write_documents(corpus, data, staging)
        topics = [
            {
                "id": t,
                "words": [w for w, _ in words],
                "weights": [round(v, 6) for _, v in words],
                "share": round(summary["shares"][t], 6),
                "coherence": scores[chosen][1][t] if scores else None,
            }
            for t, words in enumerate(self.topics_)
        ]
        write_json(staging / "topics.json", topics)
        by_k = {str(k): scores[k][0] for k in ks} if scores else {}
        if len(by_k) > 1:
            plot_coherence(staging / "coherence.png", scores, chosen, self.coherence or "")
        metrics = {
            "method": self.method,
            "num_topics": chosen,
            "num_topics_tried": ks,
            "coherence": {"measure": self.coherence, "by_k": by_k, "chosen": by_k.get(str(chosen))},
            "documents": len(data.ids),
            "modelled": summary["modelled"],
            "skipped": dict(summary["skipped"]),
            "vocabulary": len(data.dictionary),
            "date_field": self.date_field,
            "period": self.period,
            "dated": summary["trends"].dated,
            "undated": summary["trends"].undated,
            "trends": summary["trends_note"],
            "notes": notes,
        }
        write_json(staging / "metrics.json", metrics)
        write_report(staging, self.label, metrics, topics, summary["representative"])

    def _possible_ks(self, n_docs: int, where: str) -> tuple[list[int], list[str]]:
        """The numbers of topics to fit: each needs at least as many documents as topics."""
        asked = (
            sorted(set(self.num_topics)) if isinstance(self.num_topics, list) else [self.num_topics]
        )
        possible = [k for k in asked if k <= n_docs]
        if not possible:
            raise ConfigError(
                f"{where}.num_topics: {_show(self.num_topics)} topics need at least as many "
                f"documents with tokens, and the corpus has {n_docs}: lower num_topics "
                "or give the task more documents"
            )
        dropped = [k for k in asked if k > n_docs]
        notes = (
            [f"num_topics {dropped} dropped: only {n_docs} documents have tokens"]
            if dropped
            else []
        )
        for note in notes:
            logger.warning("%s: %s", where, note)
        return possible, notes

    def _write_documents(
        self, corpus: Iterable[Document], data: CorpusData, staging: Path
    ) -> dict[str, Any]:
        """predictions.jsonl, representative.json and trends (one pass over the kept data)."""
        k = self.num_topics_
        trends = PeriodShares(k, period=self.period)
        totals = np.zeros(k)
        top = TopDocuments(k, self.representative)
        skipped: Counter[str] = Counter()
        modelled = 0
        distributions = self.model_.training_distributions(data.bows)
        with JsonLines(staging / "predictions.jsonl") as out:
            for position, (doc_id, slot) in enumerate(zip(data.ids, data.slots, strict=True)):
                if isinstance(slot, str):
                    skipped[slot] += 1
                    out.write({"id": doc_id, **_skipped(slot)})
                    continue
                dist = next(distributions)
                if dist is None:
                    skipped[NO_WEIGHT] += 1
                    out.write({"id": doc_id, **_skipped(NO_WEIGHT)})
                    continue
                modelled += 1
                out.write({"id": doc_id, **_prediction(dist)})
                totals += dist
                if self.date_field is not None:
                    trends.add(data.dates[position], dist)
                top.add(position, dist)
        shares = totals / modelled if modelled else totals
        representative = top.entries(corpus, data.ids)
        write_json(staging / "representative.json", representative)
        return {
            "modelled": modelled,
            "skipped": skipped,
            "shares": shares.tolist(),
            "representative": representative,
            "trends": trends,
            "trends_note": write_trends(staging, trends, self.topics_, self.date_field),
        }

    # -- using -----------------------------------------------------------------------------

    def predict_document(self, doc: Document) -> dict[str, Any]:
        """`{"topic", "distribution"}` of one processed document (`topic`: the most likely),
        or `{"topic": None, "distribution": None, "skipped": reason}`."""
        tokens = document_tokens(doc, field=self.field, drop_stop=self.drop_stop, where=self.method)
        if not tokens:
            return _skipped(NO_TOKENS)
        bow = self.dictionary_.doc2bow(tokens)
        if not bow:
            return _skipped(NO_TERMS)
        dist = self.model_.distribution(bow)
        return _skipped(NO_WEIGHT) if dist is None else _prediction(dist)

    def topics(self) -> list[list[tuple[str, float]]]:
        """Each topic's top words with their weights."""
        return self.topics_

    def _save_state(self, folder: Path) -> None:
        write_json(folder / VOCABULARY_FILE, dictionary_to_json(self.dictionary_))
        self.model_.save(folder)

    def _load_state(self, folder: Path) -> None:
        self.dictionary_ = dictionary_from_json(read_json(folder / VOCABULARY_FILE))
        self.model_ = self._load_model(folder, self.dictionary_)
        self.num_topics_ = self.model_.num_topics
        self.topics_ = self.model_.topic_terms(self.top_words)


@register("task", "lda")
class LdaTopics(TopicTask):
    """Topics by LDA (gensim's `LdaModel`; `LdaMulticore` with `workers` > 1), seeded.

    `num_topics`: a number, or a list to fit each and keep the best by `coherence`
    (`c_v`, `u_mass`, `c_npmi`; null skips it, for a single number). Tokens: `field`,
    `drop_stop`; vocabulary: `min_df` (documents, at least), `max_df` (fraction, at
    most), `max_features` (most frequent kept). `passes`, `iterations`, `alpha`: gensim's
    (`workers` > 1 trains with `LdaMulticore`, whose topics differ from one worker's).
    `top_words` per topic, `representative` documents per topic; trends of the topic
    shares per `period` from `meta[date_field]` (null: no trends).
    """

    method = "lda"
    label = "LDA"

    def __init__(
        self,
        *,
        num_topics: NumTopics = 10,
        coherence: Coherence | None = "c_v",
        field: Field = "lower",
        drop_stop: bool = True,
        min_df: Annotated[int, Range(ge=1)] = 2,
        max_df: Annotated[float, Range(gt=0.0, le=1.0)] = 0.5,
        max_features: Annotated[int, Range(ge=1)] | None = None,
        passes: Annotated[int, Range(ge=1)] = 10,
        iterations: Annotated[int, Range(ge=1)] = 50,
        alpha: Literal["symmetric", "asymmetric", "auto"]
        | Annotated[float, Range(gt=0.0)] = "symmetric",
        workers: Annotated[int, Range(ge=1)] = 1,
        seed: int = 1,
        top_words: Annotated[int, Range(ge=1)] = 10,
        representative: Annotated[int, Range(ge=0)] = 3,
        date_field: str | None = "published",
        period: Period = "week",
    ):
        self.num_topics = num_topics
        self.coherence = coherence
        self.field = field
        self.drop_stop = drop_stop
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.passes = passes
        self.iterations = iterations
        self.alpha = alpha
        self.workers = workers
        self.seed = seed
        self.top_words = top_words
        self.representative = representative
        self.date_field = date_field
        self.period = period

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """The shared checks, and `alpha: auto`, which `LdaMulticore` does not learn."""
        problems = super().check_params(params)
        if params.get("alpha") == "auto" and (params.get("workers") or 1) > 1:
            problems.append(
                "alpha: 'auto' is not available with workers > 1 (gensim's LdaMulticore "
                "does not learn alpha): set workers: 1 or another alpha"
            )
        return problems

    def _fit_model(self, bows: PackedBows, dictionary: Any, k: int) -> LdaModelFit:
        return LdaModelFit.fit(
            bows,
            dictionary,
            k,
            passes=self.passes,
            iterations=self.iterations,
            alpha=self.alpha,
            workers=self.workers,
            seed=self.seed,
        )

    def _load_model(self, folder: Path, dictionary: Any) -> LdaModelFit:
        return LdaModelFit.load(folder, dictionary, iterations=self.iterations, seed=self.seed)


@register("task", "nmf")
class NmfTopics(TopicTask):
    """Topics by NMF (scikit-learn) over TF-IDF (scikit-learn's `TfidfTransformer`) of the counts.

    Parameters as `lda` (tokens, vocabulary, `num_topics`, `coherence`, trends), plus
    `init` (the NNDSVD family: `nndsvd`, `nndsvda`, `nndsvdar`) and `max_iter`. A
    document's distribution is its NMF weights normalized to sum to 1.
    """

    method = "nmf"
    label = "NMF"

    def __init__(
        self,
        *,
        num_topics: NumTopics = 10,
        coherence: Coherence | None = "c_v",
        field: Field = "lower",
        drop_stop: bool = True,
        min_df: Annotated[int, Range(ge=1)] = 2,
        max_df: Annotated[float, Range(gt=0.0, le=1.0)] = 0.5,
        max_features: Annotated[int, Range(ge=1)] | None = None,
        init: Literal["nndsvd", "nndsvda", "nndsvdar"] = "nndsvda",
        max_iter: Annotated[int, Range(ge=1)] = 400,
        seed: int = 1,
        top_words: Annotated[int, Range(ge=1)] = 10,
        representative: Annotated[int, Range(ge=0)] = 3,
        date_field: str | None = "published",
        period: Period = "week",
    ):
        self.num_topics = num_topics
        self.coherence = coherence
        self.field = field
        self.drop_stop = drop_stop
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.init = init
        self.max_iter = max_iter
        self.seed = seed
        self.top_words = top_words
        self.representative = representative
        self.date_field = date_field
        self.period = period

    def _fit_model(self, bows: PackedBows, dictionary: Any, k: int) -> NmfModelFit:
        return NmfModelFit.fit(
            bows, dictionary, k, init=self.init, max_iter=self.max_iter, seed=self.seed
        )

    def _load_model(self, folder: Path, dictionary: Any) -> NmfModelFit:
        return NmfModelFit.load(
            folder, dictionary, init=self.init, max_iter=self.max_iter, seed=self.seed
        )


def _best_k(ks: list[int], scores: Mapping[int, tuple[float | None, Any]]) -> int:
    """The k of highest mean coherence (the smallest on ties; the first without scores)."""
    scored = [(scores[k][0], k) for k in ks if k in scores and scores[k][0] is not None]
    if not scored:
        return ks[0]
    best = max(value for value, _ in scored)
    return min(k for value, k in scored if value == best)


def _prediction(dist: np.ndarray) -> dict[str, Any]:
    return {"topic": int(np.argmax(dist)), "distribution": [round(float(v), 6) for v in dist]}


def _skipped(reason: str) -> dict[str, Any]:
    return {"topic": None, "distribution": None, "skipped": reason}


def _show(value: Any) -> str:
    return str(sorted(set(value))) if isinstance(value, list) else str(value)
