"""Text-classification quality: every model with stratified k-fold cross-validation, side by side.

    python benchmarks/bench_classifiers.py                        # both data sets, every model
    python benchmarks/bench_classifiers.py --data mini-newsgroup --models logreg bilstm
    python benchmarks/bench_classifiers.py --folds 5 --set epochs=8

Each data set is one `nlp run` (through `pipeline.runner.run`, the same engine users run):
stages normalize + tokenize (regex), then one `tasks:` entry per model with
`cv: {folds: K, stratified: true, seed: 1}`, all on the same documents and folds. Prints
accuracy and macro-F1 (mean ± standard deviation over the folds) and the training time
of each model, with the TF-IDF + logistic-regression baseline first. The models run with
their defaults (plus `--set` overrides for all neural models): nothing here is tuned to
the data.

Data: `../shared/data/classification/ag_news_test_first_half.csv` (3,800 AG News items,
4 classes, title + description; set NLP_SHARED_DATA to its folder's parent) and gensim's
`mini_newsgroup` (200 posts, 2 classes, headers removed: reader `newsgroups-mini`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import SHARED, load  # noqa: E402

BASELINES = ["logreg", "linear-svm", "naive-bayes"]
NEURAL = ["mlp", "textcnn", "lstm", "bilstm", "gru", "rnn", "transformer"]


def corpus_for(name: str) -> dict[str, Any]:
    """The `corpus:` section of one data set."""
    if name == "ag-news":
        path = SHARED / "classification" / "ag_news_test_first_half.csv"
        if not path.exists():
            raise SystemExit(f"{path} not found: set NLP_SHARED_DATA to the shared data folder")
        return {
            "reader": "csv",
            "path": str(path),
            "text_column": ["title", "description"],
            "label_column": "label",
        }
    if name == "mini-newsgroup":
        return {"reader": "newsgroups-mini"}
    raise SystemExit(f"unknown data set {name!r}: ag-news | mini-newsgroup")


def run_models(
    data: str, models: list[str], folds: int, neural_overrides: dict[str, Any], out: Path
) -> dict[str, dict[str, Any]]:
    """One run over `data` with a task per model; each model's metrics.json."""
    from pipeline.config import resolve_config
    from pipeline.runner import run

    cv = {"folds": folds, "stratified": True, "seed": 1}
    tasks = {}
    for model in models:
        extra = neural_overrides if model in NEURAL else {}
        tasks[model] = {"model": model, "label": "label", "cv": cv, "seed": 1, **extra}
    config = resolve_config(
        {
            "name": f"classifiers-{data}",
            "corpus": corpus_for(data),
            "stages": [{"normalize": {}}, {"tokenize": {"backend": "regex"}}],
            "tasks": tasks,
            "output": {"dir": str(out / data)},
        }
    )
    result = run(config)
    return {
        model: orjson.loads((result.run_dir / "tasks" / model / "metrics.json").read_bytes())
        for model in models
    }


def summary_row(model: str, metrics: dict[str, Any]) -> str:
    """One printed line: model, CV accuracy and macro-F1 (mean ± std), holdout, seconds."""
    cv = metrics["cv"]["summary"]
    acc, f1 = cv["accuracy"], cv["f1_macro"]
    test = metrics.get("test") or {}
    return (
        f"{model:12s} {acc['mean']:.3f} ± {acc['std']:.3f}   {f1['mean']:.3f} ± {f1['std']:.3f}"
        f"   {test.get('accuracy', float('nan')):.3f}   {metrics.get('training_seconds', 0):7.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", nargs="+", default=["mini-newsgroup", "ag-news"])
    parser.add_argument("--models", nargs="+", default=BASELINES + NEURAL)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--set", nargs="*", default=[], help="KEY=VALUE for the neural models")
    args = parser.parse_args()
    import yaml

    overrides = {k: yaml.safe_load(v) for k, _, v in (s.partition("=") for s in args.set)}
    with tempfile.TemporaryDirectory() as tmp:
        for data in args.data:
            t0 = time.perf_counter()
            results = run_models(data, args.models, args.folds, overrides, Path(tmp))
            print(f"\n{data}: {args.folds}-fold stratified CV, seed 1 ({load()})")
            print("model        accuracy        macro-F1        holdout  train s")
            for model in args.models:
                print(summary_row(model, results[model]))
            print(f"({time.perf_counter() - t0:.0f} s in all)")


if __name__ == "__main__":
    main()
