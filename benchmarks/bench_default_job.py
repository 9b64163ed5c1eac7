"""Wall time of the default job: `nlp run` with no config, as the README's first command runs it.

    python benchmarks/bench_default_job.py              # 3 rounds, each in a fresh folder
    python benchmarks/bench_default_job.py --rounds 5

Each round runs the whole command in a subprocess (start-up, the 300 Lee articles through
normalize, tokenize, sentences, stopwords, pos + ner, coref, TF-IDF, the six analytics tasks
and the report) in a new empty folder, so nothing is reused. Prints each round's wall time,
the median, and the per-stage and per-task seconds of the median round from its manifest.
The issue's target is under 3 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 180.0


def one_round() -> tuple[float, dict]:
    """Seconds of one cold `nlp run` and its manifest."""
    with tempfile.TemporaryDirectory(prefix="bench-default-") as tmp:
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, str(ROOT / "cli.py"), "run", "--quiet"],
            cwd=tmp, check=True, capture_output=True,
        )  # fmt: skip
        seconds = time.perf_counter() - t0
        manifest = json.loads((Path(tmp) / "runs" / "news" / "manifest.json").read_text())
    return seconds, manifest


def main() -> None:
    """Run the rounds and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rounds = []
    for i in range(args.rounds):
        seconds, manifest = one_round()
        rounds.append((seconds, manifest))
        print(f"round {i + 1}: {seconds:.1f} s")
    rounds.sort(key=lambda r: r[0])
    median_seconds, manifest = rounds[len(rounds) // 2]
    times = [r[0] for r in rounds]
    print(
        f"default job wall time: median {statistics.median(times):.1f} s "
        f"(range {min(times):.1f}-{max(times):.1f}), target < {TARGET_SECONDS:.0f} s: "
        f"{'met' if statistics.median(times) < TARGET_SECONDS else 'NOT met'}"
    )
    print("median round, seconds per stage:")
    for row in manifest["stages"]:
        if row.get("seconds") is not None:
            print(f"  {row['name']:<10} {row['seconds']:7.2f}")
    for name, row in manifest.get("represent", {}).items():
        print(f"  represent {name:<10} {row.get('seconds', 0):7.2f}")
    for name, row in manifest.get("tasks", {}).items():
        print(f"  task {name:<12} {row.get('seconds', 0):7.2f}")
    print(f"  report         {manifest.get('report', {}).get('seconds', 0):7.2f}")


if __name__ == "__main__":
    main()
