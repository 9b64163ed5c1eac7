"""Linguistic stages vs bare spaCy: our pipeline (tokenize, pos, lemmatize, ner) against
`spacy.load(...).pipe` with the same components, on the same texts, in one process.

    python benchmarks/bench_linguistic.py                 # 150 Lee articles, best of 3
    python benchmarks/bench_linguistic.py --docs 300 --repeat 5

The two runs alternate (bare, ours, bare, ours, ...) so that load from other processes
hits both alike; the best time of each is kept. Prints words/s for both and the ratio
bare time / our time (target >= 0.9: at most 10% overhead).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import lee_texts  # noqa: E402


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=150, help="number of Lee articles (max 300)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side")
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args(argv)

    import spacy

    from components.text.lemmatize import Lemmatize
    from components.text.ner import NamedEntities
    from components.text.pos import PartOfSpeech
    from components.text.spacy_models import resolve_model_name
    from components.text.tokenize import Tokenize
    from pipeline import Document, Pipeline

    texts = lee_texts()[: args.docs]
    model = resolve_model_name(None)
    bare = spacy.load(model)  # its own instance: nothing of ours touches it
    ours = Pipeline([Tokenize(), PartOfSpeech(), Lemmatize(), NamedEntities()])
    words = sum(1 for doc in bare.tokenizer.pipe(texts) for t in doc if not t.is_space)

    def run_bare() -> None:
        for _ in bare.pipe(texts, batch_size=args.batch_size):
            pass

    def run_ours() -> None:
        docs = (Document(id=str(i), text=t) for i, t in enumerate(texts))
        for _ in ours.pipe(docs, batch_size=args.batch_size):
            pass

    # warm up both (model load, first-call allocations)
    list(bare.pipe(texts[:20]))
    list(ours.pipe(texts[:20]))
    t_bare = t_ours = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        run_bare()
        t_bare = min(t_bare, time.perf_counter() - t0)
        t0 = time.perf_counter()
        run_ours()
        t_ours = min(t_ours, time.perf_counter() - t0)

    ratio = t_bare / t_ours
    components = ", ".join(bare.pipe_names)
    print(f"model {model} ({components}); {len(texts)} Lee articles, {words:,} words")
    print(f"linguistic  bare spaCy nlp.pipe                  {words / t_bare:10,.0f} words/s")
    print(
        f"linguistic  tokenize+pos+lemmatize+ner (fused)   {words / t_ours:10,.0f} words/s"
        f"   ratio vs spaCy {ratio:.2f} (target >= 0.9)"
    )
    return ratio


if __name__ == "__main__":
    main()
