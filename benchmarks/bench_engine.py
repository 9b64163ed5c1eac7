"""Engine benchmarks: ratios measured side by side in one run, against the bare libraries.

    python benchmarks/bench_engine.py            # all sections
    python benchmarks/bench_engine.py tokenize   # one section: tokenize | startup | workers |
                                                 # workers-cli | memory | rerun

Corpus: gensim's 300 Lee news articles, repeated to size (each copy gets distinct ids).
Prints one line per measurement; the README's performance section quotes these lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import lee_texts, load, write_corpus  # noqa: E402


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_tokenize() -> None:
    import spacy

    from components import Tokenize
    from pipeline import Document, Pipeline

    texts = lee_texts() * 10
    words = sum(len(t.split()) for t in texts)
    tokenizer = spacy.blank("en").tokenizer
    nlp = Pipeline([Tokenize()])
    list(nlp.pipe(texts[:50]))  # warm up (builds the tokenizer once)

    def bare_spacy() -> None:
        for _ in tokenizer.pipe(texts, batch_size=256):
            pass

    def ours() -> None:
        for _ in nlp.pipe(
            (Document(id=str(i), text=t) for i, t in enumerate(texts)), batch_size=256
        ):
            pass

    # alternating rounds (bare, ours, bare, ours, ...), so that load from other processes hits
    # both alike; the ratio of each round, then their median and range
    ratios, spacy_times, our_times = [], [], []
    for _ in range(5):
        t_spacy = best_of(bare_spacy, repeat=1)
        t_ours = best_of(ours, repeat=1)
        spacy_times.append(t_spacy)
        our_times.append(t_ours)
        ratios.append(t_spacy / t_ours)
    ratios.sort()
    t_spacy, t_ours = min(spacy_times), min(our_times)
    print(f"tokenize  spaCy tokenizer.pipe     {words / t_spacy:12,.0f} words/s (best round)")
    print(
        f"tokenize  nlp-pipeline Tokenize()  {words / t_ours:12,.0f} words/s (best round)   "
        f"ratio vs spaCy: median {ratios[2]:.2f} of 5 alternating rounds "
        f"(range {ratios[0]:.2f}-{ratios[-1]:.2f}; target >= 0.9; {load()})"
    )
    try:
        import nltk

        from components.text.resources import install_punkt_tab

        install_punkt_tab()
        nltk.word_tokenize(texts[0])

        def bare_nltk() -> None:
            for text in texts:
                nltk.word_tokenize(text)

        t_nltk = best_of(bare_nltk, repeat=1)
        print(
            f"tokenize  NLTK word_tokenize       {words / t_nltk:12,.0f} words/s   ours/NLTK {t_nltk / t_ours:.2f}"
        )
    except (ImportError, LookupError) as exc:
        print(f"tokenize  NLTK word_tokenize       unavailable ({exc})")


def run_config(corpus: Path, out: Path, **execution) -> dict:
    from pipeline.config import load_config, resolve_config
    from pipeline.runner import run

    raw = load_config(ROOT / "pipeline" / "defaults" / "news.yaml")
    raw["corpus"] = {"reader": "jsonl", "path": str(corpus)}
    raw["execution"] = {"shard_size": 500, **execution}
    raw["output"] = {"dir": str(out)}
    return run(resolve_config(raw)).manifest


def bench_workers(tmp: Path, rounds: int = 3) -> None:
    """`processes` x2 vs `serial` on 18,000 articles in this process, alternating in `rounds`
    rounds (median), as a program calling `pipeline.runner.run` repeatedly sees it.

    Each round starts a fresh pool. From round 2 on, the serial runs find spaCy imported
    and the process workers are forked from the fork server (Linux) that imported it in
    round 1; `workers-cli` counts every start-up on both sides.
    """
    corpus = write_corpus(tmp / "workers.jsonl", 60)  # 18,000 articles: start-up amortized
    speedups = []
    for round_no in range(rounds):
        serial = run_config(corpus, tmp / f"serial-{round_no}", executor="serial", cache=False)
        parallel = run_config(
            corpus, tmp / f"procs-{round_no}", executor="processes", workers=2, cache=False
        )
        s, p = serial["timings"]["total_seconds"], parallel["timings"]["total_seconds"]
        n = serial["documents"]["in"]
        speedups.append(s / p)
        print(
            f"workers   round {round_no + 1}: serial {n / s:7,.0f} docs/s, processes x2 {n / p:7,.0f} "
            f"docs/s ({n} docs): speed-up {s / p:.2f}   ({load()})"
        )
    report_median("workers   processes x2 vs serial", speedups)


def bench_workers_cli(tmp: Path, rounds: int = 3) -> None:
    """`nlp run` with `processes` x2 vs `serial` on 18,000 articles, each a fresh process
    timed from outside, alternating in `rounds` rounds (median): what a command-line user
    waits for, every start-up (interpreter, imports, spaCy, workers) and shutdown counted."""
    import yaml

    from pipeline.config import load_config

    corpus = write_corpus(tmp / "workers-cli.jsonl", 60)
    n = 60 * len(lee_texts())
    speedups = []
    for round_no in range(rounds):
        seconds = {}
        for executor in ("serial", "processes"):
            raw = load_config(ROOT / "pipeline" / "defaults" / "news.yaml")
            raw["corpus"] = {"reader": "jsonl", "path": str(corpus)}
            raw["execution"] = {
                "shard_size": 500,
                "executor": executor,
                "workers": 2,
                "cache": False,
            }
            raw["output"] = {"dir": str(tmp / f"cli-{executor}-{round_no}")}
            config = tmp / f"cli-{executor}-{round_no}.yaml"
            config.write_text(yaml.safe_dump(raw))
            t0 = time.perf_counter()
            subprocess.run(
                [sys.executable, str(ROOT / "cli.py"), "run", "--quiet", str(config)],
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            seconds[executor] = time.perf_counter() - t0
        s, p = seconds["serial"], seconds["processes"]
        speedups.append(s / p)
        print(
            f"cli       round {round_no + 1}: serial {s:5.1f} s, processes x2 {p:5.1f} s "
            f"({n} docs, wall clock of `nlp run`): speed-up {s / p:.2f}   ({load()})"
        )
    report_median("cli       processes x2 vs serial", speedups)


def warm_worker(payload: tuple[list[tuple[str, dict]], str]) -> int:
    """In a worker: build the stages and run one article through them, as its first shard does."""
    from pipeline import Document
    from pipeline.pipeline import build_stage
    from pipeline.registry import load_plugins

    stages, text = payload
    load_plugins()
    docs = [Document(id="warm", text=text)]
    for name, params in stages:
        docs = list(build_stage(name, params).pipe(docs))
    return os.getpid()


STARTUP_CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from benchmarks.bench_engine import warm_worker
from benchmarks.common import lee_texts
from pipeline.config import load_config, resolve_config, stage_specs
from pipeline.executors import make_executor
from pipeline.pipeline import build_stage
from pipeline.workers import preload_modules
stages = stage_specs(resolve_config(load_config({config!r})))
payloads = [(stages, text) for text in lee_texts()[:2]]
preload = preload_modules(build_stage(name, params) for name, params in stages)
seconds = []
for _ in range(2):
    t0 = time.perf_counter()
    with make_executor("processes", workers=2, recycle_after=50, preload=preload) as executor:
        list(executor.map(warm_worker, payloads))
        seconds.append(time.perf_counter() - t0)
print(json.dumps(seconds))
"""


def bench_startup(rounds: int = 3) -> None:
    """Seconds from entering a `processes` x2 executor until it has run the news stages on two
    articles, in a fresh process: its first pool, then a second one (as after a dead worker,
    or the next run of a program), median of `rounds` processes."""
    code = STARTUP_CHILD.format(
        root=str(ROOT), config=str(ROOT / "pipeline" / "defaults" / "news.yaml")
    )
    first, second = [], []
    for _ in range(rounds):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
        )
        pool_1, pool_2 = json.loads(out.stdout.strip().splitlines()[-1])
        first.append(pool_1)
        second.append(pool_2)
    first.sort()
    second.sort()
    print(
        f"startup   processes x2, news stages ready: first pool {first[rounds // 2]:.2f} s, "
        f"second pool {second[rounds // 2]:.2f} s (median of {rounds} processes; {load()})"
    )


def report_median(label: str, speedups: list[float]) -> None:
    speedups = sorted(speedups)
    print(
        f"{label}, median of {len(speedups)} rounds: {speedups[len(speedups) // 2]:.2f} "
        f"(range {speedups[0]:.2f}-{speedups[-1]:.2f}; target >= 1.6)"
    )


def bench_rerun(tmp: Path) -> None:
    corpus = write_corpus(tmp / "rerun.jsonl", 10)
    t0 = time.perf_counter()
    run_config(corpus, tmp / "rerun")
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm_manifest = run_config(corpus, tmp / "rerun")
    warm = time.perf_counter() - t0
    assert warm_manifest["timings"]["shards_computed"] == 0
    print(
        f"rerun     cold {cold:.2f} s, warm {warm:.3f} s   warm is {cold / warm:.1f}x faster (target >= 20)"
    )


CHILD = """
import resource, sys, json
sys.path.insert(0, {root!r})
sys.argv = ["bench"]
from benchmarks.bench_engine import run_config
from pathlib import Path
m = run_config(Path({corpus!r}), Path({out!r}), executor="serial", shard_size=500)
print(json.dumps({{"maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "docs": m["documents"]["in"]}}))
"""


def bench_memory(tmp: Path) -> None:
    results = {}
    for copies in (3, 30):
        corpus = write_corpus(tmp / f"mem{copies}.jsonl", copies)
        code = CHILD.format(root=str(ROOT), corpus=str(corpus), out=str(tmp / f"mem{copies}"))
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        results[copies] = json.loads(out.stdout.strip().splitlines()[-1])
    small, big = results[3], results[30]
    ratio = big["maxrss_kb"] / small["maxrss_kb"]
    print(
        f"memory    peak RSS {small['docs']} docs {small['maxrss_kb'] / 1024:.0f} MiB, "
        f"{big['docs']} docs {big['maxrss_kb'] / 1024:.0f} MiB   ratio {ratio:.2f} (target <= 1.2)"
    )


def main(argv: list[str]) -> None:
    sections = argv or ["tokenize", "startup", "workers", "workers-cli", "memory", "rerun"]
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="nlp-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for section in sections:
            if section == "tokenize":
                bench_tokenize()
            elif section == "startup":
                bench_startup()
            elif section == "workers":
                bench_workers(tmp)
            elif section == "workers-cli":
                bench_workers_cli(tmp)
            elif section == "memory":
                bench_memory(tmp)
            elif section == "rerun":
                bench_rerun(tmp)
            else:
                raise SystemExit(
                    f"unknown section {section!r}; expected tokenize, startup, workers, "
                    "workers-cli, memory, rerun"
                )


if __name__ == "__main__":
    main(sys.argv[1:])
