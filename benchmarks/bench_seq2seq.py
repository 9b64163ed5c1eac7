"""Seq2seq with attention: training and decoding speed on CPU, and headline quality.

    python benchmarks/bench_seq2seq.py speed [--pairs 1000] [--threads 1]
    python benchmarks/bench_seq2seq.py quality --data ag|bbc|bbc-summary [--epochs 6] ...

`speed`: AG News description -> title pairs through `Seq2SeqTask` (the task's own
batches and the shared Trainer): training target tokens per second over the epochs, then
decoding tokens per second (generated tokens, EOS included) of greedy (batched) and
beam 4 (one source at a time) over the same sources.
`quality`: the task fitted as a run would (regex tokenizer, 10% held out, seeded) on
AG News (description -> title), the BBC articles (text without its first line -> first
line) or the BBC summaries (article without its title -> summary); prints the ROUGE F1
of greedy, beam and Lead from `metrics.json` with the model's size and the times.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import SHARED, load  # noqa: E402


def documents(data: str, limit: int | None = None) -> list:
    """Tokenized documents (regex tokenizer) with their target in `meta["title"]`."""
    from pipeline import Pipeline
    from pipeline.document import Document

    pairs: list[tuple[str, str]] = []
    if data == "ag":
        with open(
            SHARED / "classification" / "ag_news_test_first_half.csv", encoding="utf-8"
        ) as fh:
            pairs = [(r["description"], r["title"]) for r in csv.DictReader(fh)]
    else:
        path = SHARED / "summarization" / "bbc_news_summary_first_half.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            title, _, body = row["article"].strip().partition("\n")
            pairs.append((body.strip(), title.strip() if data == "bbc" else row["summary"]))
    docs = []
    for text, title in pairs[:limit]:
        doc = Document.from_text(text)
        doc.meta["title"] = title
        docs.append(doc)
    nlp = Pipeline.from_config({"stages": [{"tokenize": {"backend": "regex"}}]})
    return list(nlp.pipe(docs))


def speed(args: argparse.Namespace) -> None:
    """Training and decoding tokens/s of a small model on `--pairs` AG News pairs."""
    import torch

    from components.models.seq2seq import Seq2SeqTask
    from components.models.seq2seq_data import pair_batches
    from components.models.training import Trainer, cpu_threads
    from components.represent.tokens import token_stream

    docs = documents("ag", args.pairs)
    task = Seq2SeqTask(
        embed_dim=64,
        hidden_size=128,
        copy=True,
        max_vocab=5000,
        max_source=50,
        epochs=args.epochs,
        predictions="held_out",
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "tasks" / "headline"
        folder.mkdir(parents=True)
        t0 = time.perf_counter()
        task.fit(docs, folder)
        metrics = json.loads((folder / "metrics.json").read_text())
    train_docs = metrics["split"]["sizes"]["train"]
    sources = [token_stream(d)[: task.max_source] for d in docs]
    with cpu_threads(args.threads):
        batches = pair_batches(
            task.collect_pairs(docs, "bench"),
            range(train_docs),
            task.vocabulary_.index,
            copy=True,
            batch_size=task.batch_size,
            shuffle=True,
            seed=1,
        )
        tokens = sum(len(b.target) for b in batches)
        trainer = Trainer(epochs=args.epochs, lr=1e-3, seed=1, monitor="train_loss")
        t0 = time.perf_counter()
        trainer.fit(task.network_, batches)
        train_seconds = time.perf_counter() - t0
        print(
            f"training: {tokens * args.epochs / train_seconds:,.0f} target tokens/s "
            f"({train_docs} pairs x {args.epochs} epochs, {tokens:,} target tokens per epoch, "
            f"{train_seconds:.1f} s; embed 64, hidden 128, copy, vocabulary "
            f"{metrics['vocabulary']:,}; {load()})"
        )
        for strategy in ("greedy", "beam"):
            t0 = time.perf_counter()
            out = task.generate(sources, strategy=strategy, no_repeat_ngram=0)
            seconds = time.perf_counter() - t0
            generated = sum(len(w) + 1 for w in out)
            print(
                f"decoding {strategy}{' 4' if strategy == 'beam' else ''}: "
                f"{generated / seconds:,.0f} tokens/s ({len(sources)} sources, "
                f"{generated:,} tokens, {seconds:.1f} s; {torch.get_num_threads()} thread)"
            )


def quality(args: argparse.Namespace) -> None:
    """Fit the task on `--data` and print ROUGE of greedy, beam and Lead on the held-out 10%."""
    from components.models.seq2seq import Seq2SeqTask

    docs = documents(args.data, args.limit)
    params = {
        "embed_dim": args.embed,
        "hidden_size": args.hidden,
        "max_source": args.max_source,
        "max_target": args.max_target,
        "max_vocab": args.vocab,
        "epochs": args.epochs,
        "copy": not args.no_copy,
        "coverage": args.coverage,
        "attention": args.attention,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "teacher_forcing_decay": args.decay,
        "teacher_forcing_floor": args.floor,
        "embeddings": args.embeddings,
        "patience": args.patience,
        "predictions": "held_out",
        "split": {"test": 0.1, "validation": args.validation, "seed": 1, "stratify": False},
    }
    task = Seq2SeqTask(**params)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "tasks" / "headline"
        folder.mkdir(parents=True)
        t0 = time.perf_counter()
        task.fit(docs, folder)
        seconds = time.perf_counter() - t0
        metrics = json.loads((folder / "metrics.json").read_text())
        samples = [json.loads(x) for x in (folder / "predictions.jsonl").read_text().splitlines()]
    weights = sum(p.numel() for p in task.network_.parameters())
    print(f"data {args.data}: {len(docs)} documents; {params}")
    print(
        f"sizes {metrics['split']['sizes']}, vocabulary {metrics['vocabulary']}, {weights:,} weights"
    )
    print(
        f"epochs run {len(metrics['history'])}, training {metrics['training_seconds']:.0f} s, "
        f"decoding {metrics['decoding_seconds']}, whole fit {seconds:.0f} s ({load()})"
    )
    for row in metrics["history"]:
        print(
            f"  epoch {row['epoch']}: train {row['train_loss']:.3f} val {row.get('val_loss', 0):.3f}"
        )
    test = metrics["test"]
    for name in ("greedy", "beam", "lead"):
        f1 = [test[name][t]["f1"] for t in ("rouge1", "rouge2", "rougeL")]
        print(f"{name:7s} R-1 {f1[0]:.4f}  R-2 {f1[1]:.4f}  R-L {f1[2]:.4f}")
    refs = {d.id: d.meta["title"] for d in docs}
    held_out = [d for d in docs if d.id in {s["id"] for s in samples if s["split"] == "test"}]
    if args.data == "bbc-summary":
        import re

        from components.ml.rouge import rouge_scores

        lead3 = [" ".join(re.split(r"(?<=[.!?])\s+", d.text.strip())[:3]) for d in held_out]
        f1 = rouge_scores(lead3, [refs[d.id] for d in held_out])
        print(
            f"Lead-3  R-1 {f1['rouge1']['f1']:.4f}  R-2 {f1['rouge2']['f1']:.4f}  "
            f"R-L {f1['rougeL']['f1']:.4f}  (first three sentences, regex split)"
        )
    if args.block is not None:
        from components.ml.rouge import rouge_scores

        for strategy in ("greedy", "beam"):
            out = task.predict(held_out, strategy=strategy, no_repeat_ngram=args.block)
            f1 = rouge_scores([p["text"] for p in out], [refs[d.id] for d in held_out])
            print(
                f"{strategy:7s} R-1 {f1['rouge1']['f1']:.4f}  R-2 {f1['rouge2']['f1']:.4f}  "
                f"R-L {f1['rougeL']['f1']:.4f}  (no_repeat_ngram {args.block})"
            )
    for line in [s for s in samples if s["split"] == "test"][:6]:
        print(f"  {line['text']!r}  <-  {refs[line['id']][:120]!r}")


def main() -> None:
    """Parse the arguments and run the chosen measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--pairs", type=int, default=1000)
    s.add_argument("--epochs", type=int, default=1)
    s.add_argument("--threads", type=int, default=1)
    q = sub.add_parser("quality")
    q.add_argument("--data", choices=["ag", "bbc", "bbc-summary"], default="ag")
    q.add_argument("--limit", type=int, default=None)
    q.add_argument("--epochs", type=int, default=6)
    q.add_argument("--embed", type=int, default=64)
    q.add_argument("--hidden", type=int, default=128)
    q.add_argument("--max-source", type=int, default=60)
    q.add_argument("--max-target", type=int, default=20)
    q.add_argument("--vocab", type=int, default=10000)
    q.add_argument("--batch-size", type=int, default=32)
    q.add_argument("--lr", type=float, default=2e-3)
    q.add_argument("--attention", default="bahdanau")
    q.add_argument("--decay", default="none")
    q.add_argument("--embeddings", default=None)
    q.add_argument("--floor", type=float, default=0.8)
    q.add_argument("--patience", type=int, default=2)
    q.add_argument("--validation", type=float, default=0.1, help="0: no early stopping")
    q.add_argument("--block", type=int, default=None, help="also decode with this no_repeat_ngram")
    q.add_argument("--coverage", action="store_true")
    q.add_argument("--no-copy", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    speed(args) if args.mode == "speed" else quality(args)


if __name__ == "__main__":
    main()
