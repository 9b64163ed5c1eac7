"""Coreference benchmarks: speed on top of the spaCy parse, and quality on gold data.

    python benchmarks/bench_coref.py            # all sections
    python benchmarks/bench_coref.py speed      # one section: speed | gap | litbank

- speed: gensim's 300 Lee news articles (`lee_background.cor`). The spaCy parse
  (tagger, parser, NER) is timed once; the resolver (mention detection + sieves) is
  then timed on top of the same parses, and reported per 1,000 words.
- gap: GAP development and validation (`../shared/data/coref/`, or $NLP_SHARED_DATA):
  F1 overall, masculine, feminine, and the bias F/M, with the wall time.
- litbank: MUC, B-cubed, CEAF-e and CoNLL F1 on the LitBank CoNLL files.

Prints one line per measurement; the README quotes these lines.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import SHARED, lee_texts  # noqa: E402


def bench_speed() -> None:
    from components.text.coref.resolver import NEEDED_COMPONENTS, Coref, _Parsed
    from components.text.spacy_models import load_model
    from pipeline.document import Document

    texts = lee_texts()
    words = sum(len(t.split()) for t in texts)
    nlp = load_model()
    disable = [n for n in nlp.pipe_names if n not in NEEDED_COMPONENTS]
    started = time.perf_counter()
    sdocs = list(nlp.pipe(texts, batch_size=64, disable=disable))
    parse_s = time.perf_counter() - started
    stage = Coref()
    docs = [Document.from_text(t) for t in texts]
    parsed = [_Parsed([(sd, [t.idx for t in sd], [t.idx + len(t) for t in sd])]) for sd in sdocs]
    best = float("inf")
    clusters = 0
    for _ in range(3):
        started = time.perf_counter()
        clusters = sum(len(stage.resolve(d, p)) for d, p in zip(docs, parsed, strict=True))
        best = min(best, time.perf_counter() - started)
    started = time.perf_counter()
    for _ in stage.pipe(Document.from_text(t) for t in texts):
        pass
    stage_s = time.perf_counter() - started
    print(f"corpus: {len(texts)} Lee articles, {words} words, {clusters} clusters")
    print(
        f"spaCy parse (tagger, parser, ner): {1000 * parse_s / words * 1000:.1f} ms per 1,000 words"
    )
    print(f"coref on top of the parse: {1000 * best / words * 1000:.1f} ms per 1,000 words")
    print(
        f"coref stage end to end (parse + resolve): {1000 * stage_s / words * 1000:.1f} ms per 1,000 words"
    )


def bench_gap() -> None:
    from components.text.coref.evaluate import CorefEvaluator

    for split in ("development", "validation"):
        path = SHARED / "coref" / f"gap-{split}.tsv"
        if not path.exists():
            print(f"gap-{split}: skipped, {path} not found")
            continue
        m = CorefEvaluator(gold=str(path)).evaluate()
        print(
            f"GAP {split} ({m['rows']} rows, {m['seconds']:.0f} s): "
            f"F1 {100 * m['overall']['f1']:.1f} (P {100 * m['overall']['precision']:.1f} "
            f"R {100 * m['overall']['recall']:.1f}), M {100 * m['masculine']['f1']:.1f}, "
            f"F {100 * m['feminine']['f1']:.1f}, bias F/M {m['bias']:.2f}"
        )


def bench_litbank() -> None:
    from components.text.coref.evaluate import CorefEvaluator

    folder = SHARED / "coref" / "litbank"
    if not folder.is_dir():
        print(f"litbank: skipped, {folder} not found")
        return
    m = CorefEvaluator(gold=str(folder)).evaluate()
    for label, scores in (("with gold singletons", m), ("without", m["without_singletons"])):
        print(
            f"LitBank {m['documents']} docs, {label}: MUC {100 * scores['muc']['f1']:.1f}, "
            f"B3 {100 * scores['b_cubed']['f1']:.1f}, CEAF-e {100 * scores['ceaf_e']['f1']:.1f}, "
            f"CoNLL F1 {100 * scores['conll_f1']:.1f}"
        )
    mentions = m["mentions"]
    print(
        f"LitBank mentions: {mentions['matched']} of {mentions['gold']} gold matched exactly, "
        f"{mentions['predicted']} predicted in clusters"
    )


SECTIONS = {"speed": bench_speed, "gap": bench_gap, "litbank": bench_litbank}


def main(argv: list[str]) -> None:
    chosen = argv or list(SECTIONS)
    for name in chosen:
        if name not in SECTIONS:
            raise SystemExit(f"unknown section {name!r}; choose from {', '.join(SECTIONS)}")
        SECTIONS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
