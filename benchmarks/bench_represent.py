"""Representation benchmarks: ratios against the bare libraries in one run, and embedding quality.

    python benchmarks/bench_represent.py                 # tfidf, word2vec, glove, memory
    python benchmarks/bench_represent.py tfidf           # one section: tfidf | word2vec | glove | memory
    python benchmarks/bench_represent.py quality         # trains Word2Vec, FastText, GloVe; writes
                                                         # components/represent/RESULTS.md (~15 min, 2 cores)

Speed sections use gensim's 300 Lee news articles (repeated where stated), tokenized
once by our `tokenize` stage before timing: the ratios are "beyond tokenization". TF-IDF
and Word2Vec time ours and the bare library in alternating rounds (A, B, A, B, ...), so
that load from other processes hits both alike, and print the median ratio of the rounds,
their range and the machine's load.
The quality section trains on the largest real English text available offline
(see `embedding_corpus`).
"""

from __future__ import annotations

import bz2
import csv
import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import SHARED, lee_texts, load  # noqa: E402


def tokenized(texts: list[str]) -> list:
    from components.text.tokenize import Tokenize
    from pipeline import Pipeline

    return list(Pipeline([Tokenize()]).pipe(texts))


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def alternating(sides: dict[str, Callable[[], object]], rounds: int = 5) -> dict[str, list[float]]:
    """Seconds of each side in each of `rounds` rounds, the sides run one after the other
    within a round, in reverse order every other round (A B, B A, A B, ...), so that a busy
    spell of the machine, or a drift, hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    for round_ in range(rounds):
        order = list(sides.items())
        for name, fn in order[::-1] if round_ % 2 else order:
            gc.collect()
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def ratios(numerator: list[float], denominator: list[float]) -> str:
    """'median M (range A-B) of N alternating rounds' of the per-round ratios."""
    values = [a / b for a, b in zip(numerator, denominator, strict=True)]
    return (
        f"median {statistics.median(values):.2f} (range {min(values):.2f}-{max(values):.2f}) "
        f"of {len(values)} alternating rounds"
    )


# ---------------------------------------------------------------------------------------------
# speed


def bench_tfidf() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from components.represent import TfIdf

    docs = tokenized(lee_texts()) * 4
    select = TfIdf().select
    joined = [" ".join(select(d)) for d in docs]
    words = sum(len(j.split()) for j in joined)
    # same work: scikit-learn reads the same Documents through the same token selection;
    # "split": scikit-learn on the selected tokens, pre-joined, only splitting on spaces
    times = alternating(
        {
            "ours": lambda: TfIdf().fit_transform(docs),
            "same": lambda: TfidfVectorizer(analyzer=select).fit_transform(docs),
            "split": lambda: TfidfVectorizer(
                tokenizer=str.split, token_pattern=None, lowercase=False
            ).fit_transform(joined),
        },
        rounds=15,
    )
    ours, same, split = (statistics.median(times[k]) for k in ("ours", "same", "split"))
    print(
        f"tfidf fit+transform on {len(docs)} docs / {words} tokens, median seconds: ours {ours:.3f}s, "
        f"TfidfVectorizer with the same token selection {same:.3f}s, on pre-selected tokens "
        f"joined by spaces {split:.3f}s. Time ratio ours / same selection: "
        f"{ratios(times['ours'], times['same'])}; ours / pre-joined: "
        f"{ratios(times['ours'], times['split'])} ({load()})"
    )


def bench_word2vec() -> None:
    from gensim.models import Word2Vec as GensimWord2Vec

    from components.represent import Word2Vec

    docs = tokenized(lee_texts()) * 4
    params = dict(vector_size=100, window=5, min_count=2, sg=1, epochs=5, seed=1, workers=1)
    sentences = [Word2Vec().select(d) for d in docs]
    words = sum(map(len, sentences)) * params["epochs"]
    times = alternating(
        {
            "bare": lambda: GensimWord2Vec(sentences, **params),
            "ours": lambda: Word2Vec(**params).fit(docs),
        },
        rounds=7,
    )
    bare, ours = statistics.median(times["bare"]), statistics.median(times["ours"])
    print(
        f"word2vec (skip-gram, 1 worker), median round: ours {words / ours:,.0f} words/s, "
        f"bare gensim {words / bare:,.0f} words/s; speed ratio ours / gensim "
        f"{ratios(times['bare'], times['ours'])} ({load()})"
    )


def bench_glove() -> None:
    from components.represent import GloVe
    from components.represent.cooccurrence import CooccurrenceCounter

    docs = tokenized(lee_texts()) * 4
    learner = GloVe(vector_size=50, window=10, min_count=2, epochs=5, x_max=10, device="cpu")
    token_lists = [learner.select(d) for d in docs]
    n_tokens = sum(map(len, token_lists))

    def count() -> None:
        counter = CooccurrenceCounter(window=10, weighting="harmonic")
        for tokens in token_lists:
            counter.add(tokens)
        counter.result()

    seconds = best_of(count, repeat=2)
    print(
        f"co-occurrence build (window 10, harmonic): {n_tokens / seconds:,.0f} tokens/s "
        f"({n_tokens} tokens in {seconds:.2f}s)"
    )
    learner.fit(docs)
    print(
        f"glove: {learner.seconds_per_epoch_:.2f} s/epoch on CPU, {learner.cooccurrence_nnz_:,} co-occurrence "
        f"entries, {len(learner.wv_)} words × 50 dims, batch {learner.batch_size} "
        f"(Lee corpus × 4, {n_tokens} tokens)"
    )


def _peak_memory(kind: str, copies: int) -> float:
    """Peak traced memory (MiB) of fitting `kind` on `copies` × the Lee corpus, in a fresh process."""
    code = f"""
import sys, tracemalloc
sys.path.insert(0, {str(ROOT)!r})
from benchmarks.bench_represent import lee_texts, tokenized
from components.represent import Cooccurrence, TfIdf
docs = tokenized(lee_texts())
class Repeated:
    def __iter__(self):
        for _ in range({copies}):
            yield from docs
learner = Cooccurrence(window=5, weighting="harmonic") if {kind!r} == "cooccurrence" else TfIdf()
tracemalloc.start()
if {kind!r} == "cooccurrence":
    learner.fit(Repeated())
else:
    learner.fit_transform(Repeated())
print(tracemalloc.get_traced_memory()[1] / 2**20)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def bench_memory() -> None:
    # co-occurrence: distinct pairs + a buffer of at most 1M pairs, whatever the corpus length;
    # tfidf: its output matrix has one row per document, so it grows with the corpus
    for kind in ("cooccurrence", "tfidf"):
        one, four, sixteen = (_peak_memory(kind, n) for n in (1, 4, 16))
        print(
            f"peak memory {kind} fit (documents excluded): 1× Lee {one:.1f} MiB, 4× {four:.1f} MiB "
            f"(ratio {four / one:.2f}), 16× {sixteen:.1f} MiB (ratio {sixteen / one:.2f})"
        )


# ---------------------------------------------------------------------------------------------
# quality


def embedding_corpus() -> list[str]:
    """The largest real English text available offline here, as a list of document texts.

    - gensim test data: the Wikipedia excerpt (`enwiki-latest-pages-articles1...-shortened.bz2`,
      106 articles, markup stripped by gensim's `filter_wiki`), `lee_background.cor`, `lee.cor`;
    - shared/data: BBC news articles (summarization set, first half), AG News descriptions
      (classification set, first half), GAP Wikipedia snippets (coref set).
    """
    from gensim.corpora.wikicorpus import extract_pages, filter_wiki
    from gensim.test.utils import datapath

    texts: list[str] = []
    wiki = datapath("enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")
    with bz2.open(wiki) as fh:
        for _title, text, _pageid in extract_pages(fh, filter_namespaces=("0",)):
            plain = filter_wiki(text)
            if len(plain.split()) > 50 and not plain.lstrip().lower().startswith("#redirect"):
                texts.append(plain)
    for name in ("lee_background.cor", "lee.cor"):
        with open(datapath(name), encoding="cp1252") as fh:
            texts.extend(line.strip() for line in fh if line.strip())
    bbc = SHARED / "summarization" / "bbc_news_summary_first_half.jsonl"
    if bbc.is_file():
        with open(bbc, encoding="utf-8") as fh:
            texts.extend(json.loads(line)["article"] for line in fh if line.strip())
    ag = SHARED / "classification" / "ag_news_test_first_half.csv"
    if ag.is_file():
        with open(ag, encoding="utf-8", newline="") as fh:
            texts.extend(f"{row['title']}. {row['description']}" for row in csv.DictReader(fh))
    for name in ("gap-development.tsv", "gap-validation.tsv"):
        gap = SHARED / "coref" / name
        if gap.is_file():
            with open(gap, encoding="utf-8", newline="") as fh:
                texts.extend(row["Text"] for row in csv.DictReader(fh, delimiter="\t"))
    return texts


QUALITY_SETTINGS = {
    "word2vec": dict(
        vector_size=100, window=5, min_count=5, sg=1, negative=5, epochs=10, seed=1, workers=1
    ),
    "fasttext": dict(
        vector_size=100, window=5, min_count=5, sg=1, negative=5, epochs=10, seed=1, workers=1
    ),
    # GloVe's own demo.sh settings for a small corpus (text8): window 15, x_max 10
    "glove": dict(
        vector_size=100, window=15, min_count=5, x_max=10.0, epochs=20, seed=1, device="auto"
    ),
}


def bench_quality(out_md: Path = ROOT / "components" / "represent" / "RESULTS.md") -> None:
    from components.represent import FastText, GloVe, Word2Vec, evaluate_vectors, load_vectors

    t0 = time.perf_counter()
    texts = embedding_corpus()
    docs = tokenized(texts)
    n_tokens = sum(len(Word2Vec().select(d)) for d in docs)
    print(
        f"corpus: {len(docs)} documents, {n_tokens:,} tokens (tokenized in {time.perf_counter() - t0:.0f}s)"
    )
    rows = {}
    timings = {}
    for name, cls in (("glove", GloVe), ("word2vec", Word2Vec), ("fasttext", FastText)):
        start = time.perf_counter()
        learner = cls(**QUALITY_SETTINGS[name]).fit(docs)
        timings[name] = time.perf_counter() - start
        scores = evaluate_vectors(learner.wv_)
        label = {"word2vec": "Word2Vec", "fasttext": "FastText", "glove": "GloVe (ours)"}[name]
        rows[f"{label} (this corpus)"] = scores
        print(f"{name}: trained in {timings[name]:.0f}s: {json.dumps(scores)}", flush=True)
    rows = {
        "GloVe 6B 50d (pretrained, 6B tokens)": evaluate_vectors(load_vectors("glove-6b-50d")),
        **rows,
    }
    _write_results(out_md, rows, timings, len(docs), n_tokens)


def _write_results(path: Path, rows: dict, timings: dict, n_docs: int, n_tokens: int) -> None:
    lines = [
        "# Word-embedding quality",
        "",
        "Reproduce: `python benchmarks/bench_represent.py quality` (writes this file).",
        "",
        f"Corpus for the trained models: {n_docs:,} documents, {n_tokens:,} tokens (lowercased, "
        "punctuation dropped; our `tokenize` stage, spaCy backend): gensim's Wikipedia excerpt "
        "(106 articles), Lee news (`lee_background.cor`, `lee.cor`), and from shared/data the BBC "
        "news articles (summarization, first half), AG News titles and descriptions "
        "(classification, first half) and the GAP Wikipedia snippets (coref). No larger "
        "English text is available offline here.",
        "",
        "| vectors | words | dims | WordSim-353 ρ (OOV) | SimLex-999 ρ (OOV) | analogies acc. (OOV) | acc. counting OOV as wrong |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in rows.items():
        ws, sl, an = s["wordsim353"], s["simlex999"], s["analogies"]
        lines.append(
            f"| {name} | {s['words']:,} | {s['dimensions']} | {ws['spearman']:.3f} ({ws['oov_rate']:.0%}) "
            f"| {sl['spearman']:.3f} ({sl['oov_rate']:.0%}) | {an['accuracy']:.3f} ({an['oov_rate']:.0%}) "
            f"| {an['accuracy_all']:.3f} |"
        )
    lines += [
        "",
        "Settings (same vocabulary rule for all three: min_count 5, 100 dimensions):",
        "",
    ]
    for name, settings in QUALITY_SETTINGS.items():
        lines.append(f"- {name}: `{json.dumps(settings)}`, trained in {timings.get(name, 0):.0f}s")
    w2v = rows.get("Word2Vec (this corpus)", {}).get("analogies", {}).get("accuracy")
    glove = rows.get("GloVe (ours) (this corpus)", {}).get("analogies", {}).get("accuracy")
    if w2v and glove is not None:
        lines += [
            "",
            f"GloVe (ours) / Word2Vec analogy accuracy on the same corpus: {glove / w2v:.2f} "
            "(the target is at least 0.80).",
        ]
    answered = rows.get("Word2Vec (this corpus)", {}).get("analogies", {})
    if "syntactic_answered" in answered:
        lines += [
            "",
            f"Of the analogy questions answerable with this corpus' vocabulary, "
            f"{answered['syntactic_answered']:,} are syntactic (plurals, tenses, comparatives, "
            f"nationality adjectives...) and {answered['semantic_answered']:,} semantic (capitals, "
            "currencies, family): FastText's character n-grams make it far stronger on the "
            "syntactic ones, hence its lead on this small corpus.",
        ]
    lines += [
        "",
        "Scores: Spearman ρ with human ratings (gensim `evaluate_word_pairs`), analogy "
        "accuracy by 3CosAdd over the 300,000 most frequent words with gensim's rules; "
        "pairs and questions with an out-of-vocabulary word are skipped (OOV rate in brackets).",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {path}")


SECTIONS = {
    "tfidf": bench_tfidf,
    "word2vec": bench_word2vec,
    "glove": bench_glove,
    "memory": bench_memory,
    "quality": bench_quality,
}


def main(argv: list[str]) -> None:
    names = argv or ["tfidf", "word2vec", "glove", "memory"]
    for name in names:
        if name not in SECTIONS:
            raise SystemExit(f"unknown section {name!r}; choose from {', '.join(SECTIONS)}")
        SECTIONS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
