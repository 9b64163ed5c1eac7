"""The `lstm-lm` language model on gensim's Lee articles: training and decoding speed, quality.

    python benchmarks/bench_lm.py [--threads 1] [--epochs 2]          # speed
    python benchmarks/bench_lm.py --quality [--epochs 20]             # perplexity + generations
    python benchmarks/bench_lm.py --fine-tune [--epochs 5]            # AG News, then Lee

Speed: training tokens/s (the 90% training part, one epoch each, validation included in
the epoch time) and decoding tokens/s of greedy and beam 4 continuations of 30 prompts
(exactly 40 tokens each: min_length = max_length). Quality: a 90% / 10% document split
(seed 0), validation perplexity per epoch, and one prompt ("The government said") continued by greedy, beam 4, temperature 0.8,
top-k 40 and top-p 0.9 (seed 1). Fine-tune: 5 epochs on the AG News titles and
descriptions of the shared data, then Lee (90/10) from scratch or with `init_from`.
Texts are tokenized with the spaCy tokenizer stage.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import lee_texts, load  # noqa: E402

PROMPT = "The government said"
SMALL = {"embed_dim": 64, "hidden": 64, "layers": 1, "dropout": 0.2}
QUALITY = {"embed_dim": 128, "hidden": 128, "layers": 2, "dropout": 0.4}


def documents(texts: list[str]) -> list:
    """The texts through the spaCy tokenizer stage."""
    from pipeline.pipeline import Pipeline

    nlp = Pipeline.from_config({"stages": [{"tokenize": {"backend": "spacy"}}]})
    return list(nlp.pipe(texts))


def speed(args: argparse.Namespace) -> None:
    """Training and decoding tokens per second."""
    from components.models.language_model import LstmLanguageModelTask

    docs = documents(lee_texts())
    task = LstmLanguageModelTask(**SMALL, epochs=args.epochs, threads=args.threads, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        task.fit(docs, Path(tmp) / "tasks" / "lm")
        metrics = json.loads((Path(tmp) / "tasks" / "lm" / "metrics.json").read_text())
    print(f"model {SMALL}, vocabulary {metrics['vocabulary']:,}; {load()}")
    print(
        f"training: {metrics['train_tokens']:,} tokens x {args.epochs} epochs in "
        f"{metrics['training_seconds']:.1f} s = {metrics['train_tokens_per_second']:,.0f} tokens/s"
    )
    import torch

    torch.set_num_threads(args.threads)
    prompts = docs[:30]
    for name, options in (("greedy", {"strategy": "greedy"}), ("beam 4", {"strategy": "beam"})):
        t0 = time.perf_counter()
        out = list(task.predict(prompts, max_length=40, min_length=40, beam=4, **options))
        seconds = time.perf_counter() - t0
        generated = 40 * len(out)  # min_length = max_length: exactly 40 tokens each
        print(
            f"decoding {name}: {generated:,} tokens in {seconds:.2f} s = "
            f"{generated / seconds:,.0f} tokens/s (prompt encoding included)"
        )


def quality(args: argparse.Namespace) -> None:
    """Per-epoch validation perplexity and the prompt under each decoding strategy."""
    import torch

    from components.models.language_model import LstmLanguageModelTask

    torch.set_num_threads(args.threads)
    docs = documents(lee_texts())
    params = {**QUALITY, "epochs": args.epochs, "patience": 3, "validation": 0.1, "seed": 0}
    task = LstmLanguageModelTask(**params, threads=args.threads)
    folder = Path(args.out or tempfile.mkdtemp()) / "tasks" / "lm"
    task.fit(docs, folder)
    task.save(folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    print(f"params {params}; {load()}")
    print(f"vocabulary {metrics['vocabulary']:,}; documents {metrics['documents']}")
    print(f"trained in {metrics['training_seconds']:.0f} s; best epoch {metrics['best_epoch']}")
    for epoch, (tr, va) in enumerate(
        zip(metrics["train_perplexity"], metrics["val_perplexity"], strict=True), start=1
    ):
        print(f"epoch {epoch}: train perplexity {tr:.1f}, validation perplexity {va:.1f}")
    print(f"validation perplexity (exact, per document): {metrics['validation']['perplexity']:.1f}")
    prompt = documents([PROMPT])
    strategies = (
        ("greedy", {"strategy": "greedy"}),
        ("beam 4", {"strategy": "beam", "beam": 4}),
        ("beam 4, min_length 10", {"strategy": "beam", "beam": 4, "min_length": 10}),
        ("temperature 0.8", {"strategy": "sample", "temperature": 0.8}),
        ("top-k 40", {"strategy": "top-k", "top_k": 40}),
        ("top-p 0.9", {"strategy": "top-p", "top_p": 0.9}),
    )
    for name, options in strategies:
        text = next(iter(task.predict(prompt, max_length=40, seed=1, **options)))["text"]
        print(f"{name}: {PROMPT} ... {text}")


def fine_tune(args: argparse.Namespace) -> None:
    """Lee validation perplexity from scratch vs after pretraining on AG News descriptions."""
    import csv

    import torch

    from benchmarks.common import SHARED
    from components.models.language_model import LstmLanguageModelTask

    torch.set_num_threads(args.threads)
    path = SHARED / "classification" / "ag_news_test_first_half.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        news = [f"{r['title']}. {r['description']}" for r in csv.DictReader(fh)]
    small = {**SMALL, "epochs": args.epochs, "seed": 0, "threads": args.threads}
    root = Path(args.out or tempfile.mkdtemp())
    t0 = time.perf_counter()
    general = LstmLanguageModelTask(**small, validation=0.05)
    general.fit(documents(news), root / "tasks" / "general")
    general.save(root / "tasks" / "general")
    print(f"pretrained on {len(news):,} AG News items in {time.perf_counter() - t0:.0f} s")
    lee = documents(lee_texts())
    for i, (name, extra) in enumerate((
        ("from scratch", {}),
        ("init_from AG News (union)", {"init_from": str(root / "tasks" / "general")}),
        ("init_from AG News (new)", {"init_from": str(root / "tasks" / "general"),
                                     "init_vocabulary": "new"}),
    )):  # fmt: skip
        folder = root / "tasks" / f"lee-{i}"
        LstmLanguageModelTask(**small, validation=0.1, **extra).fit(lee, folder)
        metrics = json.loads((folder / "metrics.json").read_text())
        per_epoch = ", ".join(f"{p:.1f}" for p in metrics["val_perplexity"])
        print(
            f"Lee, {name}: validation perplexity {metrics['validation']['perplexity']:.1f} "
            f"(per epoch {per_epoch}; vocabulary {metrics['vocabulary']:,})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--fine-tune", action="store_true", help="AG News, then Lee")
    parser.add_argument("--out", default=None, help="quality: keep the model under OUT")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for noisy in ("gensim", "spacy", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.fine_tune:
        args.epochs = args.epochs or 5
        fine_tune(args)
    elif args.quality:
        args.epochs = args.epochs or 20
        quality(args)
    else:
        args.epochs = args.epochs or 2
        speed(args)


if __name__ == "__main__":
    main()
