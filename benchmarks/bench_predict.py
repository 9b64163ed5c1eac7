"""Prediction speed: documents per second of `nlp predict` for each model, on 10,000 documents.

    python benchmarks/bench_predict.py                     # every model
    python benchmarks/bench_predict.py --models logreg bilstm --documents 10000

Each model is trained once (AG News, 3,800 items; neural models for `--epochs` epochs:
speed, not quality, is measured here) in one run with stages normalize + tokenize
(regex). Then, for each model, three figures on the same 10,000 documents (the AG News
items repeated with distinct ids, written as JSONL):

- `nlp predict`: the whole command in a subprocess (start-up, reading, the model's
  stages, prediction, JSONL written), as a user runs it;
- in-process: `pipeline.predict.predict_items` (the same path without the start-up);
- the bare task: its `predict` on documents already through the stages (no reading, no
  stages): what the model itself costs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_classifiers import BASELINES, NEURAL, corpus_for  # noqa: E402
from benchmarks.common import load  # noqa: E402


def train(models: list[str], epochs: int, out: Path) -> Path:
    """One run training every model on AG News; the run folder."""
    from pipeline.config import resolve_config
    from pipeline.runner import run

    tasks = {
        m: {"model": m, "label": "label", **({"epochs": epochs} if m in NEURAL else {})}
        for m in models
    }
    config = resolve_config(
        {
            "name": "bench-predict",
            "corpus": corpus_for("ag-news"),
            "stages": [{"normalize": {}}, {"tokenize": {"backend": "regex"}}],
            "tasks": tasks,
            "output": {"dir": str(out / "run")},
        }
    )
    return run(config).run_dir


def write_inputs(path: Path, n: int) -> Path:
    """`n` AG News items (repeated, distinct ids) as JSONL with title + description text."""
    import csv

    source = corpus_for("ag-news")["path"]
    with open(source, encoding="utf-8", newline="") as fh:
        rows = [f"{r['title']}\n\n{r['description']}" for r in csv.DictReader(fh)]
    with path.open("wb") as out:
        for i in range(n):
            out.write(orjson.dumps({"id": f"doc-{i}", "text": rows[i % len(rows)]}) + b"\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=BASELINES + NEURAL)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()

    from pipeline.document import Document
    from pipeline.predict import ModelFolder, annotated_documents, predict_items
    from pipeline.registry import lookup

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        run_dir = train(args.models, args.epochs, tmp_path)
        inputs = write_inputs(tmp_path / "inputs.jsonl", args.documents)
        reader = lookup("reader", "jsonl")
        print(f"\nprediction on {args.documents:,} AG News documents ({load()})")
        print("model         nlp predict   in-process        bare task   (documents/s)")
        for model_name in args.models:
            folder = run_dir / "tasks" / model_name
            t0 = time.perf_counter()
            done = subprocess.run(
                [sys.executable, str(ROOT / "cli.py"), "predict", str(folder), str(inputs)]
                + ["--reader", "jsonl", "-o", str(tmp_path / "out.jsonl")],
                capture_output=True,
                text=True,
            )
            cli_seconds = time.perf_counter() - t0
            if done.returncode != 0:
                raise SystemExit(done.stderr)

            model = ModelFolder.open(folder)
            t0 = time.perf_counter()
            n = sum(1 for _ in predict_items(model, reader(path=str(inputs)).read()))
            in_process = time.perf_counter() - t0
            assert n == args.documents

            docs: list[Document] = list(annotated_documents(model, reader(path=str(inputs)).read()))
            t0 = time.perf_counter()
            lines = list(model.task.predict(docs))
            bare = time.perf_counter() - t0
            assert len(lines) == args.documents
            print(
                f"{model_name:12s} {args.documents / cli_seconds:11,.0f}  "
                f"{args.documents / in_process:11,.0f}  {args.documents / bare:15,.0f}"
            )


if __name__ == "__main__":
    main()
