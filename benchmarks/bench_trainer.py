"""Training-core overhead: our `Trainer` vs a minimal hand-written torch loop.

    python benchmarks/bench_trainer.py [--rounds 5] [--epochs 2] [--threads 1]

Same network (an LSTM classifier), same bucketed batches, same optimizer (Adam), same
number of epochs, no validation. The Trainer also records per-layer gradient norms, the
history, and writes an atomic checkpoint and `history.json` every epoch; that is the
overhead measured. Rounds alternate (ours, bare, ours, ...) and each side reports its
median: the ratio is ours / bare (target <= 1.10). Texts: AG News from the shared data
when present, else gensim's Lee articles (repeated).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import SHARED, lee_texts, load  # noqa: E402


def corpus() -> tuple[list[list[str]], list[int], str]:
    """Token lists, integer labels and the corpus's name."""
    import csv
    import re

    path = SHARED / "classification" / "ag_news_test_first_half.csv"
    if path.is_file():
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))[:2000]
        texts = [
            re.findall(r"[a-z0-9']+", f"{r['title']} {r['description']}".lower()) for r in rows
        ]
        return texts, [int(r["label"]) - 1 for r in rows], "AG News (2,000 documents)"
    texts = [re.findall(r"[a-z0-9']+", t.lower())[:80] for t in lee_texts()] * 6
    return texts, [i % 2 for i in range(len(texts))], "Lee articles x6 (1,800 documents)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch

    from components.models.networks import RNNClassifier
    from components.models.training import BucketBatcher, Trainer, make_optimizer
    from components.models.vocab import Vocabulary

    torch.set_num_threads(args.threads)
    texts, labels, name = corpus()
    vocab = Vocabulary.build(texts, min_count=2)
    ids = [vocab.encode(t) for t in texts]
    classes = max(labels) + 1

    def model() -> torch.nn.Module:
        torch.manual_seed(0)
        return RNNClassifier(len(vocab), 64, hidden=64, cell="lstm", num_classes=classes)

    def batches() -> BucketBatcher:
        return BucketBatcher(ids, labels, batch_size=64, max_length=128, seed=0)

    def ours() -> float:
        net, data = model(), batches()
        trainer = Trainer(epochs=args.epochs, lr=1e-3, grad_clip=0.0, patience=0, device="cpu")
        with tempfile.TemporaryDirectory() as workdir:
            t0 = time.perf_counter()
            trainer.fit(net, data, workdir=Path(workdir))
            return time.perf_counter() - t0

    def bare() -> float:
        net, data = model(), batches()
        loss_fn = torch.nn.CrossEntropyLoss()
        t0 = time.perf_counter()
        optimizer = make_optimizer("adam", net.parameters(), lr=1e-3)
        for _ in range(args.epochs):
            net.train()
            for batch in data:
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(net(*batch.inputs), batch.target)
                loss.backward()
                optimizer.step()
        return time.perf_counter() - t0

    ours()  # warm-up: imports, allocator
    times: dict[str, list[float]] = {"ours": [], "bare": []}
    for _ in range(args.rounds):
        times["ours"].append(ours())
        times["bare"].append(bare())
    a, b = statistics.median(times["ours"]), statistics.median(times["bare"])
    print(
        f"trainer on {name}, {args.epochs} epochs, {args.rounds} interleaved rounds, "
        f"{args.threads} thread(s), {load()}:\n"
        f"  Trainer (grad norms, history, checkpoint each epoch) median {a:.2f}s "
        f"[{min(times['ours']):.2f}-{max(times['ours']):.2f}]\n"
        f"  hand-written loop median {b:.2f}s [{min(times['bare']):.2f}-{max(times['bare']):.2f}]\n"
        f"  overhead ratio {a / b:.3f} (target <= 1.10)"
    )


if __name__ == "__main__":
    main()
