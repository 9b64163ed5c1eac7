"""Linguistic stages vs bare spaCy: our pipeline (tokenize, pos, lemmatize, ner) against
`spacy.load(...).pipe` with the same components, on the same texts, in one process.

    python benchmarks/bench_linguistic.py                 # 150 Lee articles, 7 rounds
    python benchmarks/bench_linguistic.py --docs 300 --rounds 9

The two runs alternate (bare, ours, bare, ours, ...) so that load from other processes
hits both alike. Each round gives a ratio bare time / our time; the median and range of
the rounds are printed (target >= 0.9: at most 10% overhead), for wall-clock time and for
the process's CPU time (which a busy machine disturbs less: time spent waiting for a core
does not count), with the best round's words/s of each side and the machine's load.
A last line times, on the same texts, what our side does besides `nlp.pipe`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import lee_texts, load  # noqa: E402


def _clocked(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call of `fn`."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def _summary(label: str, ratios: list[float]) -> str:
    return (
        f"{label} median {statistics.median(ratios):.2f} "
        f"(range {min(ratios):.2f}-{max(ratios):.2f})"
    )


def breakdown(texts: list[str], nlp_model: str | None = None, repeat: int = 5) -> dict[str, float]:
    """Seconds (best of `repeat`, CPU time) of each thing our side does besides `nlp.pipe`
    on `texts`: language detection, our tokenizer, the spaCy docs made from our tokens,
    keeping the processed docs' arrays, and the three stages' writes."""
    from components.text.lemmatize import Lemmatize
    from components.text.ner import NamedEntities
    from components.text.pos import PartOfSpeech
    from components.text.spacy_models import load_model
    from components.text.spacy_pieces import Piece, spacy_doc_for
    from components.text.tokenize import Tokenize
    from pipeline import Document
    from pipeline.language import detect_language

    nlp = load_model(nlp_model)
    tokenize = Tokenize()
    stages = [PartOfSpeech(), Lemmatize(), NamedEntities()]
    attrs = ("POS", "TAG", "DEP", "HEAD", "LEMMA")

    def new_docs() -> list[Document]:
        return [Document(id=str(i), text=t) for i, t in enumerate(texts)]

    docs = list(tokenize.pipe(new_docs()))
    processed = list(nlp.pipe(sdoc for doc in docs for _, sdoc in spacy_doc_for(doc, nlp)))
    pieces = [[Piece.compact(0, sdoc, attrs, ents=True)] for sdoc in processed]
    parts: dict[str, Callable[[], object]] = {
        "language detection": lambda: [detect_language(t) for t in texts],
        "tokenize": lambda: list(tokenize.pipe(new_docs())),
        "spaCy docs from our tokens": lambda: [list(spacy_doc_for(d, nlp)) for d in docs],
        "compact arrays": lambda: [Piece.compact(0, s, attrs, ents=True) for s in processed],
        "writes (pos, lemmatize, ner)": lambda: [
            stage.write(doc, piece)
            for doc, piece in zip(docs, pieces, strict=True)
            for stage in stages
        ],
    }
    return {name: min(_clocked(fn)[1] for _ in range(repeat)) for name, fn in parts.items()}


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=150, help="number of Lee articles (max 300)")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds (odd: a median)")
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

    # warm up both on all the texts (model load, first-call allocations, each vocabulary's
    # new words), so that round 1 is like the others
    run_bare()
    run_ours()
    walls: list[float] = []
    cpus: list[float] = []
    bare_walls: list[float] = []
    our_walls: list[float] = []
    for _ in range(args.rounds):
        bare_wall, bare_cpu = _clocked(run_bare)
        our_wall, our_cpu = _clocked(run_ours)
        bare_walls.append(bare_wall)
        our_walls.append(our_wall)
        walls.append(bare_wall / our_wall)
        cpus.append(bare_cpu / our_cpu)
    components = ", ".join(bare.pipe_names)
    print(f"model {model} ({components}); {len(texts)} Lee articles, {words:,} words")
    print(
        f"linguistic  bare spaCy nlp.pipe                  {words / min(bare_walls):10,.0f} words/s"
        f" (best round; median {statistics.median(bare_walls):.2f} s)"
    )
    print(
        f"linguistic  tokenize+pos+lemmatize+ner (fused)   {words / min(our_walls):10,.0f} words/s"
        f" (best round; median {statistics.median(our_walls):.2f} s)"
    )
    print(
        f"linguistic  ratio vs spaCy, {args.rounds} alternating rounds: "
        f"{_summary('wall clock', walls)}, {_summary('CPU time', cpus)}; "
        f"target >= 0.9; {load()}"
    )
    parts = breakdown(texts)
    spent = ", ".join(f"{name} {seconds:.3f} s" for name, seconds in parts.items())
    median_ours = statistics.median(our_walls)
    print(
        f"linguistic  ours besides nlp.pipe (CPU, best of 5): {spent}; together "
        f"{sum(parts.values()):.2f} s = {sum(parts.values()) / median_ours:.1%} of our median round"
    )
    return statistics.median(walls)


if __name__ == "__main__":
    main()
