"""Topics benchmark: LDA through our `lda` task vs bare gensim on the same token lists.

    python benchmarks/bench_topics.py            # speed: 7 alternating rounds
    python benchmarks/bench_topics.py 11         # speed: more rounds
    python benchmarks/bench_topics.py quality    # c_v of lda, nmf and bare gensim (~5 min)

gensim's 300 Lee news articles go through our stages once (spaCy tokenizer, spaCy stop
words) before timing. Each round times, one after the other (order reversed every
other round, so a busy spell of the machine hits all alike):

- ours: `LdaTopics(num_topics=10, coherence=None, passes=10, iterations=50, seed=1)`
  fitted on the Documents: token selection, dictionary, vocabulary limits, training,
  every document's distribution into predictions.jsonl, representative documents,
  metrics and the report section;
- bare: gensim `Dictionary` + `filter_extremes` (the same limits) + `doc2bow` +
  `LdaModel` with the same keyword arguments (`lda_params`) on the selected token lists;
- bare + distributions: the same, then `get_document_topics` of every document (the
  work our predictions.jsonl adds).

It prints, for CPU time and wall clock, the median seconds and the median per-round ratio
with its range, the fastest round of each side (on a shared machine the least disturbed)
and their ratio, and the load, after checking that ours and bare gensim learn the same topics. BLAS runs
one thread on both sides.

The quality section fits `lda` and `nmf` with `num_topics: [5, 10, 15, 20]` (every other
parameter at its default) on the Lee articles and on the 1,111 BBC articles of the shared
data, behind `tokenize` (spaCy) + `stopwords`, and bare gensim `LdaModel` (default
parameters, `random_state=1` for repeatability) at our LDA's chosen number of topics on
`gensim.utils.simple_preprocess` tokens, stop words kept. It prints markdown: c_v of each
on its own texts and on one common reference (our tokens, lowercased, stop words kept),
the top words of each chosen topic, and on BBC the agreement of each document's main
topic with the article's category (NMI).
"""

from __future__ import annotations

import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # both sides alike, before numpy is imported

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import lee_texts, load  # noqa: E402

K, PASSES, ITERATIONS, SEED = 10, 10, 50, 1
MIN_DF, MAX_DF = 2, 0.5


def alternating(
    sides: dict[str, Callable[[], object]], rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """(wall seconds, CPU seconds of this process) of each side in each round, sides in
    reverse order every other round."""
    wall: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    for round_ in range(rounds):
        order = list(sides.items())
        for name, fn in order[::-1] if round_ % 2 else order:
            gc.collect()
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    return wall, cpu


def ratios(numerator: list[float], denominator: list[float]) -> str:
    """'median M (range A-B)' of the per-round ratios."""
    values = [a / b for a, b in zip(numerator, denominator, strict=True)]
    return f"median {statistics.median(values):.3f} (range {min(values):.3f}-{max(values):.3f})"


def main(rounds: int = 7) -> None:
    from gensim.corpora import Dictionary
    from gensim.models import LdaModel

    from components.analytics.topic_models import lda_params
    from components.analytics.topics import LdaTopics
    from components.represent.tokens import token_stream
    from pipeline.pipeline import Pipeline

    stages = [{"tokenize": {"backend": "spacy"}}, {"stopwords": {"lists": ["spacy"]}}]
    docs = list(Pipeline.from_config({"stages": stages}).pipe(lee_texts()))
    texts = [token_stream(d, field="lower", drop_stop=True) for d in docs]
    params = lda_params(K, passes=PASSES, iterations=ITERATIONS, alpha="symmetric", seed=SEED)
    work = Path(tempfile.mkdtemp(prefix="bench-topics-"))

    def ours() -> LdaTopics:
        task = LdaTopics(
            num_topics=K, coherence=None, passes=PASSES, iterations=ITERATIONS, seed=SEED,
            min_df=MIN_DF, max_df=MAX_DF,
        )  # fmt: skip
        return task.fit(docs, work / "tasks" / "topics")

    def bare() -> LdaModel:
        dictionary = Dictionary(texts)
        dictionary.filter_extremes(no_below=MIN_DF, no_above=MAX_DF, keep_n=None)
        bows = [dictionary.doc2bow(t) for t in texts]
        return LdaModel(bows, id2word=dictionary, **params)

    def bare_with_distributions() -> list:
        model = bare()
        bows = [model.id2word.doc2bow(t) for t in texts]
        return [model.get_document_topics(b, minimum_probability=0.0) for b in bows]

    task, model = ours(), bare()  # warm-up, and the check that both learn the same model
    same = [[w for w, _ in t] for t in task.topics()] == [
        [w for w, _ in model.show_topic(t, 10)] for t in range(K)
    ]
    wall, cpu = alternating(
        {"ours": ours, "bare": bare, "bare+dist": bare_with_distributions}, rounds=rounds
    )
    shutil.rmtree(work, ignore_errors=True)
    print(
        f"LDA on {len(docs)} Lee articles ({sum(map(len, texts))} tokens), k={K}, "
        f"passes={PASSES}, iterations={ITERATIONS}, seed={SEED}, one BLAS thread; same topics "
        f"as bare gensim: {same}. {rounds} alternating rounds."
    )
    for title, times in (("CPU", cpu), ("wall", wall)):
        median = {name: statistics.median(values) for name, values in times.items()}
        print(
            f"{title} seconds, median: ours {median['ours']:.3f}, bare gensim "
            f"{median['bare']:.3f}, bare + every document's distribution "
            f"{median['bare+dist']:.3f}. Ratio ours / bare: {ratios(times['ours'], times['bare'])}"
            f"; ours / bare + distributions: {ratios(times['ours'], times['bare+dist'])}"
        )
        best = {name: min(values) for name, values in times.items()}
        print(
            f"{title} seconds, fastest round (least disturbed by other processes): ours "
            f"{best['ours']:.3f}, bare {best['bare']:.3f}, bare + distributions "
            f"{best['bare+dist']:.3f}; ratio ours / bare {best['ours'] / best['bare']:.3f}, "
            f"ours / bare + distributions {best['ours'] / best['bare+dist']:.3f}"
        )
    print(f"({load()})")


# ---------------------------------------------------------------------------------------------
# quality


def _c_v(topics: list[list[str]], texts: list[list[str]]) -> tuple[float, int]:
    """(c_v of `topics` over `texts`, how many topic words `texts` never has)."""
    from gensim.corpora import Dictionary
    from gensim.models.coherencemodel import CoherenceModel

    dictionary = Dictionary(texts)
    known = [[w for w in t if w in dictionary.token2id] for t in topics]
    missing = sum(len(t) - len(k) for t, k in zip(topics, known, strict=True))
    model = CoherenceModel(
        topics=known, texts=texts, dictionary=dictionary, coherence="c_v", processes=1
    )
    return model.get_coherence(), missing


def _quality_of(name: str, texts: list[str], labels: list[str] | None) -> list[str]:
    import json

    from gensim.corpora import Dictionary
    from gensim.models import LdaModel
    from gensim.utils import simple_preprocess
    from sklearn.metrics import normalized_mutual_info_score

    from components.analytics.topics import LdaTopics, NmfTopics
    from components.represent.tokens import token_stream
    from pipeline.pipeline import Pipeline

    stages = [{"tokenize": {"backend": "spacy"}}, {"stopwords": {"lists": ["spacy"]}}]
    docs = list(Pipeline.from_config({"stages": stages}).pipe(texts))
    reference = [token_stream(d, field="lower", drop_stop=False) for d in docs]
    work = Path(tempfile.mkdtemp(prefix="topics-quality-"))
    rows, words = [], []
    chosen_lda = 0
    for cls in (LdaTopics, NmfTopics):
        t0 = time.perf_counter()
        folder = work / "tasks" / cls.method
        cls(num_topics=[5, 10, 15, 20]).fit(docs, folder)
        seconds = time.perf_counter() - t0
        metrics = json.loads((folder / "metrics.json").read_text())
        topics = json.loads((folder / "topics.json").read_text())
        k = metrics["num_topics"]
        chosen_lda = k if cls is LdaTopics else chosen_lda
        by_k = ", ".join(f"{kk}: {v:.3f}" for kk, v in metrics["coherence"]["by_k"].items())
        common, missing = _c_v([t["words"] for t in topics], reference)
        nmi = ""
        if labels is not None:
            main_topic = [
                json.loads(line)["topic"] for line in (folder / "predictions.jsonl").open()
            ]
            nmi = f"{normalized_mutual_info_score(labels, [str(t) for t in main_topic]):.3f}"
        rows.append(
            f"| {cls.method} (ours) | {k} | {metrics['coherence']['chosen']:.3f} | {by_k} | "
            f"{common:.3f} ({missing} words missing) | {nmi} | {seconds:.0f} s |"
        )
        words.append((f"{cls.method} (ours), {k} topics", [t["words"] for t in topics]))
    t0 = time.perf_counter()
    simple = [simple_preprocess(t) for t in texts]
    dictionary = Dictionary(simple)
    bows = [dictionary.doc2bow(t) for t in simple]
    model = LdaModel(bows, id2word=dictionary, num_topics=chosen_lda, random_state=1)
    seconds = time.perf_counter() - t0
    bare_topics = [[w for w, _ in model.show_topic(t, 10)] for t in range(chosen_lda)]
    own, _ = _c_v(bare_topics, simple)
    common, missing = _c_v(bare_topics, reference)
    nmi = ""
    if labels is not None:
        main_topic = [max(model.get_document_topics(b), key=lambda p: p[1])[0] for b in bows]
        nmi = f"{normalized_mutual_info_score(labels, [str(t) for t in main_topic]):.3f}"
    rows.append(
        f"| bare gensim LdaModel, simple_preprocess | {chosen_lda} (ours') | {own:.3f} | | "
        f"{common:.3f} ({missing} words missing) | {nmi} | {seconds:.0f} s |"
    )
    words.append((f"bare gensim LdaModel, {chosen_lda} topics", bare_topics))
    shutil.rmtree(work, ignore_errors=True)
    out = [
        f"### {name} ({len(texts)} documents)",
        "",
        "| model | topics | c_v (own texts) | c_v by k | c_v (common reference) | "
        "NMI with category | fit time |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    for title, topics in words:
        out += [f"Top words, {title}:", ""]
        out += [f"{i}. {', '.join(t)}" for i, t in enumerate(topics)] + [""]
    return out


def quality() -> None:
    import json

    from benchmarks.common import SHARED

    lines = _quality_of("Lee news (gensim's lee_background.cor)", lee_texts(), None)
    bbc = SHARED / "summarization" / "bbc_news_summary_first_half.jsonl"
    if bbc.is_file():
        rows = [json.loads(line) for line in bbc.open(encoding="utf-8")]
        labels = [r["id"].split("/")[0] for r in rows]
        lines += _quality_of("BBC articles (field `article`)", [r["article"] for r in rows], labels)
    else:
        lines.append(f"(BBC articles not found at {bbc})")
    print("\n".join(lines))
    print(f"({load()})")


if __name__ == "__main__":
    if sys.argv[1:] == ["quality"]:
        quality()
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
