"""Long documents: tokenized and annotated piece by piece, same output, bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from components.text.ner import NamedEntities
from components.text.pos import PartOfSpeech
from components.text.sentences import Sentences
from components.text.tokenize import Tokenize
from components.text.tokenizers import WINDOW_CHARS
from pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[3]
SMALL = 120_000  # characters: two pieces of at most 100,000

# A child process: one long one-line document of Lee articles through tokenize, sentences,
# pos and ner; prints its peak RSS and the first article's annotations.
CHILD = """
import json, resource, sys
sys.path.insert(0, {root!r})
import torch
torch.set_num_threads(1)
from gensim.test.utils import datapath
from components import NamedEntities, PartOfSpeech, Sentences, Tokenize
from pipeline import Pipeline

with open(datapath("lee_background.cor"), encoding="utf-8") as fh:
    texts = [line.strip() for line in fh if line.strip()]
parts, size = [], 0
while size < {chars}:
    parts.append(texts[len(parts) % len(texts)])
    size += len(parts[-1]) + 1
text = " ".join(parts)[:{chars}]
doc = Pipeline([Tokenize(), Sentences(), PartOfSpeech(), NamedEntities()])(text)
first = len(texts[0])
tokens = [
    (s, t, p, d)
    for s, e, t, p, d in zip(doc.tokens.start, doc.tokens.end, doc.tokens.tag, doc.tokens.pos, doc.tokens.dep)
    if e <= first
]
print(json.dumps({{
    "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "chars": len(text),
    "tokens": tokens,
    "entities": [[e.start, e.end, e.label] for e in doc.entities if e.end <= first],
}}))
"""


def _children(sizes: list[int]) -> dict[int, dict]:
    """Run one child per size, side by side (each peak is its own process's)."""
    running = {
        chars: subprocess.Popen(
            [sys.executable, "-c", CHILD.format(root=str(ROOT), chars=chars)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for chars in sizes
    }
    runs = {}
    for chars, child in running.items():
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err[-2000:]
        runs[chars] = json.loads(out.strip().splitlines()[-1])
    return runs


@pytest.mark.slow
def test_a_long_document_annotates_its_first_article_alone_in_memory_that_follows_the_piece(
    lee_texts,
):
    """One pair of child processes (two and three pieces) for both checks: the costly part."""
    runs = _children([SMALL, 2 * SMALL])
    run = runs[SMALL]
    assert run["chars"] == SMALL
    alone = Pipeline([Tokenize(), Sentences(), PartOfSpeech(), NamedEntities()])(lee_texts[0])
    tokens = alone.tokens
    expected = [
        list(row) for row in zip(tokens.start, tokens.tag, tokens.pos, tokens.dep, strict=True)
    ]
    entities = [[e.start, e.end, e.label] for e in alone.entities]
    assert len(run["tokens"]) == len(expected) and len(entities) >= 5
    # the tagger reads a few tokens each side: the article's last ones see the next article
    cutoff = expected[-4][0]
    assert [t for t in run["tokens"] if t[0] < cutoff] == [t for t in expected if t[0] < cutoff]
    assert [e for e in run["entities"] if e[1] <= cutoff] == [e for e in entities if e[1] <= cutoff]

    small, large = runs[SMALL], runs[2 * SMALL]
    # before pieces were compacted and made one at a time, each 100,000 characters kept
    # about 80 MB until the document was done (1 MB: 1.5 GB); now twice the text (three
    # pieces against two) adds little
    assert large["peak_mib"] - small["peak_mib"] < 150, (small["peak_mib"], large["peak_mib"])


def test_tokenize_cuts_a_long_text_into_windows_with_spacys_exact_tokens(lee_texts):
    import spacy

    text = " ".join(lee_texts)[: 3 * WINDOW_CHARS] + "  two  spaces\n\nand a paragraph"
    doc = Pipeline([Tokenize()])(text)
    whole = spacy.blank("en").tokenizer(text)
    assert doc.tokens.start == [t.idx for t in whole]
    assert doc.tokens.end == [t.idx + len(t) for t in whole]
