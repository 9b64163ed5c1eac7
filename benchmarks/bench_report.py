"""Report generation time: `render_report` on the run folder of 10,000 documents.

    python benchmarks/bench_report.py                       # 10,000 documents, Parquet
    python benchmarks/bench_report.py --documents 10000 --format jsonl --rounds 5

The run folder is made once by a real run: the Lee articles repeated with distinct ids
(plus 50 blank ones, quarantined), stages `tokenize` (regex) only, a naive Bayes task on
a label derived from the text (its section: scores and confusion matrix), and three task
folders whose `report.json` is written with `pipeline.report_sections` (a text, metrics,
a 50-row table and two PNGs each), as the analytics tasks write theirs. Then
`render_report` alone is timed, `--rounds` times; the figures are the median and the
fastest, with the time spent reading the documents' languages (the only part that
grows with the corpus) and the page's size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import lee_texts, load, timed  # noqa: E402

BLANK = 50  # blank documents, quarantined by the run


def write_corpus(path: Path, documents: int) -> Path:
    """`documents` Lee articles with distinct ids (labelled by whether they name Australia),
    then the blank ones."""
    texts = lee_texts()
    with path.open("wb") as fh:
        for n in range(documents):
            text = texts[n % len(texts)]
            label = "australia" if "Australia" in text else "other"
            fh.write(orjson.dumps({"id": f"doc-{n}", "text": text, "label": label}) + b"\n")
        for n in range(BLANK):
            fh.write(orjson.dumps({"id": f"blank-{n}", "text": " ", "label": "other"}) + b"\n")
    return path


def make_run(folder: Path, documents: int, fmt: str) -> Path:
    """The run folder: a real run, then three task folders with report sections."""
    from pipeline.config import resolve_config
    from pipeline.runner import run

    corpus = write_corpus(folder / "corpus.jsonl", documents)
    config = resolve_config(
        {
            "name": f"bench-report-{documents}",
            "corpus": {"reader": "jsonl", "path": str(corpus)},
            "stages": [{"tokenize": {"backend": "regex"}}],
            "tasks": {"category": {"model": "naive-bayes", "label": "label"}},
            "execution": {"shard_size": 1000},
            "output": {"dir": str(folder / "run"), "formats": [fmt]},
        }
    )
    seconds, result = timed(lambda: run(config))
    print(f"run of {documents:,} documents ({fmt}): {seconds:.1f} s; {load()}")
    print(f"  report written by the run: {result.manifest['report']}")
    for k in range(3):
        add_section(result.run_dir / "tasks" / f"view-{k}", order=10 + k)
    return result.run_dir


def add_section(folder: Path, order: int) -> None:
    """A section of every block kind, its table and plots the size an analytics task's are."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from pipeline.report_sections import (
        image_block,
        metrics_block,
        table_block,
        text_block,
        write_section,
    )

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(order)
    for name in ("trend.png", "bars.png"):
        fig, ax = plt.subplots(figsize=(8, 4))
        ax.plot(np.cumsum(rng.normal(size=(60, 5)), axis=0))
        fig.tight_layout()
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)
    rows = [[f"term-{i}", int(rng.integers(1, 1000)), float(rng.random())] for i in range(50)]
    write_section(
        folder,
        f"View {order}",
        [
            text_block("A section as the analytics tasks write them."),
            metrics_block("Figures", {"documents": 10_000, "score": 0.4321}),
            table_block("Rows", ["term", "count", "weight"], rows),
            image_block("Trend", "trend.png"),
            image_block("Bars", "bars.png"),
        ],
        order=order,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--format", choices=["parquet", "jsonl"], default="parquet")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from pipeline.report import render_report
    from pipeline.report_run import language_counts

    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        run_dir = make_run(Path(tmp), args.documents, args.format)
        cold, _ = timed(lambda: render_report(run_dir))  # imports matplotlib, fills the page cache
        times, language_times = [], []
        for _ in range(args.rounds):
            seconds, path = timed(lambda: render_report(run_dir))
            times.append(seconds)
            language_times.append(timed(lambda: language_counts(run_dir))[0])
        counts = language_counts(run_dir)
        assert sum(counts.values()) == args.documents, counts
        size = path.stat().st_size
        print(
            f"render_report, {args.documents:,} documents ({args.format}), {args.rounds} rounds: "
            f"median {statistics.median(times):.3f} s, fastest {min(times):.3f} s; "
            f"of which the languages {statistics.median(language_times):.3f} s; "
            f"page {size / 1e6:.2f} MB; first call in the process {cold:.3f} s; {load()}"
        )


if __name__ == "__main__":
    main()
