"""Peak memory of one long document through tokenize + pos + ner, against the size of the document.

    python benchmarks/bench_long_documents.py              # 0.1, 1 and 10 MB
    python benchmarks/bench_long_documents.py --mb 0.1 1   # some sizes only

Each size runs in a fresh process (so each peak is its own): the document is Lee news
articles joined into ONE line (no paragraph breaks to cut at, the hardest case), processed by
`Pipeline([Tokenize(), Sentences(), PartOfSpeech(), NamedEntities()])`. Prints the peak
resident memory (`ru_maxrss`, in MiB and GB) and the words per second for each size, with the
machine's load; the target is a peak of at most 1.5 GB (1,500,000,000 bytes = 1,430 MiB) for
every size, i.e. memory bounded by the piece spaCy sees (`CHUNK_CHARS`), not the document.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import load  # noqa: E402

TARGET_BYTES = 1_500_000_000

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from benchmarks.common import lee_texts
from components import NamedEntities, PartOfSpeech, Sentences, Tokenize
from pipeline import Pipeline

texts = lee_texts()
target = int({mb} * 1_000_000)
parts, size, i = [], 0, 0
while size < target:
    parts.append(texts[i % len(texts)])
    size += len(parts[-1]) + 1
    i += 1
text = " ".join(parts)[:target]
pipeline = Pipeline([Tokenize(), Sentences(), PartOfSpeech(), NamedEntities()])
t0 = time.perf_counter()
doc = pipeline(text)
seconds = time.perf_counter() - t0
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"chars": len(text), "words": doc.words, "entities": len(doc.entities),
                  "seconds": seconds, "peak_mb": peak_mb}}))
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, nargs="*", default=[0.1, 1.0, 10.0])
    args = parser.parse_args(argv)
    print(f"machine: python {sys.version.split()[0]}")
    for mb in args.mb:
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", CHILD.format(root=str(ROOT), mb=mb)],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        peak_gb = row["peak_mb"] * 2**20 / 1e9
        print(
            f"long-doc  {row['chars'] / 1e6:5.1f} MB one line: peak RSS {row['peak_mb']:,.0f} MiB "
            f"({peak_gb:.2f} GB), {row['words'] / row['seconds']:,.0f} words/s, "
            f"{row['entities']:,} entities ({time.perf_counter() - t0:.0f} s with start-up; "
            f"target <= 1.5 GB = {TARGET_BYTES / 2**20:,.0f} MiB; {load()})",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
