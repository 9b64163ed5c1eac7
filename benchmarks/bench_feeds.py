"""Daily-feed benchmarks: Dask scaling, per-shard overhead, incremental runs, memory, load held.

    python benchmarks/bench_feeds.py                      # every section, load held 60 s
    python benchmarks/bench_feeds.py dask overhead        # some sections:
                                                          #   dask | overhead | incremental | memory | load
    python benchmarks/bench_feeds.py load --duration 600  # the issue's 10-minute figure

Text: gensim's 300 Lee news articles, and the real feeds in ../shared/data/feeds/real
(replicated with distinct GUIDs and links to make volume; set NLP_SHARED_DATA to move it).
Stages: the bundled news job's (normalize, spaCy tokenize, sentences, stopwords).
Prints one line per measurement, with the machine's load average, since on a shared
machine the load decides much of the result.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import SHARED, lee_texts, load, timed, write_corpus  # noqa: E402

NEWS_STAGES = [
    {"normalize": {"unicode": "NFKC", "whitespace": True}},
    {"tokenize": {"backend": "spacy"}},
    {"sentences": {"backend": "rules"}},
    {"stopwords": {"lists": ["spacy"]}},
]


def config(corpus: dict, out: Path, stages=NEWS_STAGES, output=None, **execution) -> dict:
    from pipeline.config import resolve_config

    return resolve_config(
        {
            "name": "bench-feeds",
            "corpus": corpus,
            "stages": stages,
            "execution": {"shard_size": 200, "cache": False, **execution},
            "output": {"dir": str(out), **(output or {})},
        }
    )


# -- Dask ------------------------------------------------------------------------------------


CLUSTER_OPTIONS = {
    "threads_per_worker": 1,
    "dashboard_address": None,
    "scheduler_kwargs": {"dashboard": False, "dashboard_address": ":0"},
    "silence_logs": logging.ERROR,
}


def bench_dask(tmp: Path, rounds: int = 3) -> None:
    """Serial vs LocalClusters of 1 and 2 workers on 6,000 Lee articles, in `rounds` rounds.

    This machine's speed drifts by tens of percent from minute to minute, so each round
    times serial and both clusters back to back and the median of the per-round speed-ups
    is the figure. The cold line includes starting the cluster and loading spaCy in each worker.
    """
    from dask.distributed import LocalCluster

    from pipeline.runner import run

    corpus = {"reader": "jsonl", "path": str(write_corpus(tmp / "dask.jsonl", 20))}  # 6,000 docs
    run(config({**corpus, "limit": 200}, tmp / "warm-serial"))  # spaCy loaded, as in the workers
    t_cold, cold = timed(
        lambda: run(config(corpus, tmp / "dask-cold", executor="dask", workers=2, shard_size=500))
    )
    n = cold.counts["in"]
    print(
        f"dask      LocalCluster x2, cold       {n / t_cold:8,.0f} docs/s ({t_cold:.1f} s, {n} docs, with "
        f"cluster start and spaCy loading in each worker)   [{load()}]"
    )
    speedups: dict[int, list[float]] = {1: [], 2: []}
    with (
        LocalCluster(n_workers=1, **CLUSTER_OPTIONS) as one,
        LocalCluster(n_workers=2, **CLUSTER_OPTIONS) as two,
    ):
        clusters = {1: one.scheduler_address, 2: two.scheduler_address}
        for workers, address in clusters.items():
            warmup = {**corpus, "limit": 400}
            run(config(warmup, tmp / f"warmup-{workers}", executor="dask", address=address))
        for round_no in range(rounds):
            serial = config(corpus, tmp / f"serial-{round_no}", shard_size=500)
            t_serial, _ = timed(lambda serial=serial: run(serial))
            line = f"dask      round {round_no + 1}: serial {n / t_serial:6,.0f} docs/s"
            for workers, address in clusters.items():
                out = tmp / f"dask{workers}-{round_no}"
                dask = config(corpus, out, executor="dask", address=address, shard_size=500)
                t_dask, _ = timed(lambda dask=dask: run(dask))
                speedups[workers].append(t_serial / t_dask)
                line += (
                    f"; {workers} worker(s) {n / t_dask:6,.0f} docs/s ({t_serial / t_dask:.2f}x)"
                )
            print(f"{line}   [{load()}]")
    for workers, ratios in speedups.items():
        ratios.sort()
        target = "; target >= 1.5" if workers == 2 else ""
        print(
            f"dask      LocalCluster x{workers} (warm) vs serial, median of {rounds} rounds: "
            f"{ratios[len(ratios) // 2]:.2f}x (range {ratios[0]:.2f}-{ratios[-1]:.2f}{target})   [{load()}]"
        )


def bench_overhead(tmp: Path) -> None:
    """What Dask adds per shard: one worker (no parallelism) against serial, on one-document shards."""
    from dask.distributed import LocalCluster

    from pipeline.runner import run

    shards = 200
    path = write_corpus(tmp / "tiny.jsonl", 1)
    corpus = {"reader": "jsonl", "path": str(path), "limit": shards}
    stages = [{"normalize": {}}]

    def tiny(out: str, **execution: object) -> float:
        seconds, _ = timed(
            lambda: run(config(corpus, tmp / out, stages=stages, shard_size=1, **execution))
        )
        return seconds

    t_serial = tiny("tiny-serial")
    with LocalCluster(n_workers=1, **CLUSTER_OPTIONS) as cluster:
        dask = {"executor": "dask", "address": cluster.scheduler_address, "workers": 1}
        tiny("tiny-warm", **dask)
        t_dask = tiny("tiny-dask", **dask)
    per_serial = t_serial / shards * 1000
    per_dask = t_dask / shards * 1000
    print(
        f"overhead  {shards} one-document shards: serial {per_serial:.1f} ms/shard, Dask (1 worker) "
        f"{per_dask:.1f} ms/shard; Dask adds {per_dask - per_serial:.1f} ms per shard task   [{load()}]"
    )


# -- incremental runs ------------------------------------------------------------------------

_ID_TAG = re.compile(rb"(<(?:guid|id|link)\b[^>/]*>\s*(?:<!\[CDATA\[)?\s*)")
_ID_ATTR = re.compile(rb'((?:rdf:about|href)=")')


def replicate_feeds(target: Path, copies: range) -> int:
    """Copy the real feeds once per copy number, every GUID, link and id made distinct."""
    target.mkdir(parents=True, exist_ok=True)
    files = 0
    for copy in copies:
        prefix = rb"\g<1>" + f"c{copy}-".encode()
        for path in sorted((SHARED / "feeds" / "real").iterdir()):
            data = path.read_bytes()
            data = _ID_TAG.sub(prefix, data)
            data = _ID_ATTR.sub(prefix, data)
            (target / f"c{copy:03d}-{path.name}").write_bytes(data)
            files += 1
    return files


def bench_incremental(tmp: Path, copies: int, picks: int = 5) -> None:
    """A cold run, then the next fetch: new feed files holding about 10% new items.

    Which feeds get new items is a random pick (seeds 0..picks-1); feeds differ in bytes
    per item, so the cost of 10% of the items varies with the pick: every pick is timed
    from a copy of the same cold run, and the median and range are printed.
    """
    import corpora  # noqa: F401 - registers the feeds reader
    from pipeline.runner import run
    from pipeline.store import read_documents

    run(config({"reader": "lee-news", "limit": 50}, tmp / "warm"))
    feeds = tmp / "incremental-feeds"
    replicate_feeds(feeds, range(copies))
    out = tmp / "incremental-run"
    cfg = config({"reader": "feeds", "path": str(feeds)}, out, output={"incremental": True})
    t_cold, cold = timed(lambda cfg=cfg: run(cfg))
    per_feed: dict[str, int] = {}
    for doc in read_documents(out):
        name = Path(doc.meta["source"]).name.split("-", 1)[1]
        per_feed[name] = per_feed.get(name, 0) + 1
    ratios = []
    for seed in range(picks):
        run_dir = tmp / f"incremental-run-{seed}"
        shutil.copytree(out, run_dir)
        replicate_feeds(feeds, range(copies, copies + 1))
        wanted, added = 0.1 * cold.counts["out"], 0
        candidates = sorted(feeds.glob(f"c{copies:03d}-*"))
        random.Random(seed).shuffle(candidates)  # which feeds got new items
        for extra in candidates:
            items = per_feed.get(extra.name.split("-", 1)[1], 0) // copies
            if items and added + items <= wanted:
                added += items
            else:
                extra.unlink()
        pick = config(
            {"reader": "feeds", "path": str(feeds)}, run_dir, output={"incremental": True}
        )
        t_inc, inc = timed(lambda pick=pick: run(pick))
        files = sum(inc.manifest["input_files"].values())
        ratios.append(t_inc / t_cold)
        print(
            f"incremental feeds, pick {seed}: +{inc.counts['out']} new "
            f"({inc.counts['out'] / max(cold.counts['out'], 1):.0%}) in "
            f"{inc.manifest['input_files']['read']} of {files} files: {t_inc:.2f} s = {t_inc / t_cold:.0%} of cold   [{load()}]"
        )
        for extra in feeds.glob(f"c{copies:03d}-*"):
            extra.unlink()
    t_noop, _ = timed(lambda cfg=cfg: run(cfg))  # nothing new: the fixed cost of a run
    ratios.sort()
    print(
        f"incremental feeds, cold {cold.counts['out']} docs {t_cold:.1f} s; 10% new: median "
        f"{ratios[len(ratios) // 2]:.0%} of cold (range {ratios[0]:.0%}-{ratios[-1]:.0%} over "
        f"{picks} picks; target <= 15%); nothing new {t_noop:.2f} s   [{load()}]"
    )


# -- memory ----------------------------------------------------------------------------------

MEMORY_CHILD = """
import json, sys
sys.path.insert(0, {root!r})
from benchmarks.bench_feeds import config
from pipeline.runner import run
import corpora
result = run(config({{"reader": "feeds", "path": {feeds!r}}}, __import__("pathlib").Path({out!r}),
                    output={{"incremental": True}}))
print(json.dumps(result.counts))
"""


def bench_memory(tmp: Path, copies: int) -> None:
    results = {}
    for volume in (copies, copies * 10):
        feeds = tmp / f"mem-{volume}"
        replicate_feeds(feeds, range(volume))
        code = MEMORY_CHILD.format(
            root=str(ROOT), feeds=str(feeds), out=str(tmp / f"mem-{volume}-run")
        )
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        stdout = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"memory child failed ({proc.returncode})")
        results[volume] = (json.loads(stdout.strip().splitlines()[-1]), usage.ru_maxrss / 1024)
        shutil.rmtree(feeds)
    (small, small_mb), (big, big_mb) = results[copies], results[copies * 10]
    print(
        f"memory    peak RSS, cold incremental run: {small['in']} items {small_mb:.0f} MiB, "
        f"{big['in']} items {big_mb:.0f} MiB   ratio {big_mb / small_mb:.2f} (target <= 1.2)   [{load()}]"
    )


# -- load held -------------------------------------------------------------------------------


def bench_load(tmp: Path, duration: float) -> None:
    import psutil

    from pipeline import Document, register
    from pipeline.runner import ProgressHook, run
    from pipeline.stage import Reader

    texts = lee_texts()

    @register("reader", "bench-endless-lee")
    class EndlessLee(Reader):
        """The Lee articles over and over, each copy with distinct ids."""

        def read(self) -> Iterator[Document]:
            n = 0
            while True:
                for i, text in enumerate(texts):
                    yield Document(id=f"{n}-{i}", text=text, meta={"source": "lee"})
                n += 1

    class Count(ProgressHook):
        def __init__(self) -> None:
            self.documents = 0

        def advance(self, documents: int, words: int, reused: bool) -> None:
            self.documents += documents

    progress = Count()
    samples: list[tuple[float, float, int]] = []  # (seconds, RSS MiB, documents done)
    process = psutil.Process()
    started = time.perf_counter()
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(1.0):
            samples.append(
                (
                    time.perf_counter() - started,
                    process.memory_info().rss / 2**20,
                    progress.documents,
                )
            )

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    run(
        config({"reader": "bench-endless-lee"}, tmp / "load", shard_size=500),
        progress=progress,
        should_stop=lambda: time.perf_counter() - started > duration,
    )
    stop.set()
    sampler.join()
    elapsed = time.perf_counter() - started
    warm = [s for s in samples if s[0] >= duration * 0.1]
    base = warm[0][1]
    peak = max(s[1] for s in warm)
    window = 60 if duration >= 180 else 10  # seconds per throughput figure
    rates = []
    for start in range(0, len(samples) - window, window):
        (t0, _, d0), (t1, _, d1) = samples[start], samples[start + window]
        rates.append(f"{(d1 - d0) / (t1 - t0):,.0f}")
    print(
        f"load      {duration:.0f} s held: {progress.documents:,} docs, {progress.documents / elapsed:,.0f} docs/s "
        f"overall; per {window} s: {', '.join(rates) or 'n/a'}"
    )
    print(
        f"load      RSS sampled every 1 s ({len(samples)} samples): {base:.0f} MiB after warm-up "
        f"(t={warm[0][0]:.0f} s), peak {peak:.0f} MiB, growth {peak / base - 1:+.1%} (target <= +10%)   [{load()}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "sections", nargs="*", default=["dask", "overhead", "incremental", "memory", "load"]
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=60.0,
        help="seconds the load section runs (600: 10 minutes)",
    )
    parser.add_argument(
        "--copies", type=int, default=3, help="copies of the real feeds for 1x volume"
    )
    args = parser.parse_args()
    import distributed  # noqa: F401 - sets up its loggers, which the next line quiets

    logging.getLogger("distributed").setLevel(logging.ERROR)
    import components  # noqa: F401 - registers the stages
    import corpora  # noqa: F401 - registers the readers

    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, {load()}")
    with tempfile.TemporaryDirectory(prefix="nlp-bench-feeds-") as name:
        tmp = Path(name)
        for section in args.sections:
            if section == "dask":
                bench_dask(tmp)
            elif section == "overhead":
                bench_overhead(tmp)
            elif section == "incremental":
                bench_incremental(tmp, args.copies)
            elif section == "memory":
                bench_memory(tmp, max(1, args.copies // 3))
            elif section == "load":
                bench_load(tmp, args.duration)
            else:
                raise SystemExit(
                    f"unknown section {section!r}; expected dask, overhead, incremental, memory, load"
                )


if __name__ == "__main__":
    main()
