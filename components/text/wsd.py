"""WordNet data (Debian's `wordnet-base`, copied for NLTK) and the `wsd` stage (simplified Lesk).

NLTK reads WordNet from an `nltk_data/corpora/wordnet` folder and needs a `lexnames`
file that Debian does not ship; `install_wordnet` copies `/usr/share/wordnet` into the
project's NLTK data folder (`resources.nltk_data_dir()`) and writes `lexnames` from the
WordNet 3.0 table below. Nothing is downloaded.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from pipeline.document import Document
from pipeline.registry import register
from pipeline.stage import Stage, StageError

from .resources import nltk_data_dir

__all__ = ["WORDNET_SOURCE", "WordSenses", "install_wordnet", "load_wordnet", "wordnet_pos"]

WORDNET_SOURCE = Path("/usr/share/wordnet")
WORDNET_FILES = (
    "adj.exc", "adv.exc", "noun.exc", "verb.exc", "cntlist.rev",
    "data.adj", "data.adv", "data.noun", "data.verb",
    "index.adj", "index.adv", "index.noun", "index.verb",
)  # fmt: skip
# copied when present (Debian's wordnet-sense-index): only NLTK's `lemma_from_key` reads it
OPTIONAL_FILES = ("index.sense",)
WORDNET_PACKAGE = "wordnet-base"

# WordNet 3.0 lexicographer files, in number order, with their syntactic category
# (1 noun, 2 verb, 3 adjective, 4 adverb): the content of WordNet's `lexnames` file.
LEXNAMES = (
    ("adj.all", 3), ("adj.pert", 3), ("adv.all", 4), ("noun.Tops", 1), ("noun.act", 1),
    ("noun.animal", 1), ("noun.artifact", 1), ("noun.attribute", 1), ("noun.body", 1),
    ("noun.cognition", 1), ("noun.communication", 1), ("noun.event", 1), ("noun.feeling", 1),
    ("noun.food", 1), ("noun.group", 1), ("noun.location", 1), ("noun.motive", 1),
    ("noun.object", 1), ("noun.person", 1), ("noun.phenomenon", 1), ("noun.plant", 1),
    ("noun.possession", 1), ("noun.process", 1), ("noun.quantity", 1), ("noun.relation", 1),
    ("noun.shape", 1), ("noun.state", 1), ("noun.substance", 1), ("noun.time", 1),
    ("verb.body", 2), ("verb.change", 2), ("verb.cognition", 2), ("verb.communication", 2),
    ("verb.competition", 2), ("verb.consumption", 2), ("verb.contact", 2), ("verb.creation", 2),
    ("verb.emotion", 2), ("verb.motion", 2), ("verb.perception", 2), ("verb.possession", 2),
    ("verb.social", 2), ("verb.stative", 2), ("verb.weather", 2), ("adj.ppl", 3),
)  # fmt: skip

_UPOS_TO_WORDNET = {"NOUN": "n", "VERB": "v", "ADJ": "a", "ADV": "r"}
_WORD_RE = re.compile(r"[a-z]+(?:[-'][a-z]+)*")


def wordnet_pos(upos: str | None) -> str | None:
    """WordNet's POS letter for a universal POS tag: n, v, a, r; None for other tags."""
    return _UPOS_TO_WORDNET.get(upos or "")


def install_wordnet(
    source: str | Path = WORDNET_SOURCE, data_dir: str | Path | None = None
) -> Path:
    """Copy WordNet's database files from `source` to `DATA_DIR/corpora/wordnet` for NLTK.

    `source` is where Debian's `wordnet-base` puts them (`/usr/share/wordnet`);
    `data_dir` defaults to the project's NLTK data folder. Writes the `lexnames` file
    NLTK needs. Copies, never links (NLTK refuses symlinks); the folder is assembled
    under a temporary name and renamed into place, so concurrent installs are safe.
    Returns the wordnet folder.
    """
    source = Path(source)
    missing = [name for name in WORDNET_FILES if not (source / name).is_file()]
    if missing:
        raise StageError(
            f"WordNet files missing in {source} ({', '.join(missing[:3])}...): "
            f"install them with `apt-get install {WORDNET_PACKAGE}`"
        )
    root = Path(data_dir) if data_dir is not None else nltk_data_dir()
    target = root / "corpora" / "wordnet"
    if (target / "lexnames").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".wordnet-", dir=target.parent))
    for name in WORDNET_FILES + OPTIONAL_FILES:
        if (source / name).is_file():
            shutil.copyfile(source / name, staging / name)
    lines = [f"{i:02d}\t{name}\t{category}" for i, (name, category) in enumerate(LEXNAMES)]
    (staging / "lexnames").write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        os.rename(staging, target)
    except OSError:
        if (target / "lexnames").is_file():  # another process installed it first
            shutil.rmtree(staging, ignore_errors=True)
        else:  # an incomplete copy is in the way
            shutil.rmtree(target)
            os.rename(staging, target)
    return target


def load_wordnet() -> Any:
    """Return a WordNet 3.0 reader (NLTK's), installing Debian's files into the project folder if needed.

    Looks for `corpora/wordnet` on NLTK's data path (the project's NLTK data folder
    included); when absent, copies it from `/usr/share/wordnet`. Raises `StageError`
    saying how to install WordNet when neither exists.
    """
    import nltk

    root = nltk_data_dir()
    if str(root) not in nltk.data.path:
        nltk.data.path.append(str(root))
    try:
        location = nltk.data.find("corpora/wordnet")
    except LookupError:
        if not all((WORDNET_SOURCE / name).is_file() for name in WORDNET_FILES):
            raise StageError(
                f"WordNet data not found: install it with `apt-get install {WORDNET_PACKAGE}`; it is "
                f"then copied from {WORDNET_SOURCE} to {root / 'corpora' / 'wordnet'} (with a "
                'generated lexnames file) on first use, or run `python -c "from '
                'components.text.wsd import install_wordnet; install_wordnet()"`'
            ) from None
        install_wordnet(WORDNET_SOURCE, root)
        location = nltk.data.find("corpora/wordnet")
    return _reader_at(location)


@cache
def _reader_at(location: Any) -> Any:
    """The WordNet reader over the data at `location` (loaded once per process)."""
    return _wordnet30_reader()(location, None)


def _wordnet30_reader() -> type:
    import warnings

    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class WordNet30Reader(WordNetCorpusReader):
        """NLTK's reader, without the WordNet-to-WordNet 3.0 sense mapping it builds on load.

        That mapping (for the multilingual Open Multilingual Wordnet data, which we do
        not have) reads `index.sense` twice and is half of NLTK's load time; our copy is
        WordNet 3.0 itself, so there is nothing to map.
        """

        def __init__(self, root: Any, omw_reader: Any):
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="The multilingual functions")
                super().__init__(root, omw_reader)

        def map_wn(self, version: str = "wordnet") -> None:
            return None

    return WordNet30Reader


@register("stage", "wsd")
class WordSenses(Stage):
    """Pick a WordNet sense for each content word (simplified Lesk): `token.sense`.

    For each noun, verb, adjective and adverb (POS from the `pos` stage), the sense whose
    definition and examples share the most lemmas with the other content words of its
    sentence wins; ties go to the more frequent sense (WordNet's order). `token.sense`
    is a synset name such as "bank.n.02", or None for other tokens and words WordNet
    does not know. Uses `lemma` when a `lemmatize` stage ran.

    Needs the token layer with POS tags (`tokenize`, `pos` before `wsd`) and WordNet
    data: Debian's `wordnet-base` (`apt-get install wordnet-base`), copied into the
    project's NLTK data folder on first use.
    """

    version = "1"

    def __init__(self) -> None:
        pass

    def imports(self) -> tuple[str, ...]:
        """NLTK's WordNet reader."""
        return ("nltk",)

    def _senses(self) -> _LeskSenses:
        return self._resource("senses", _lesk_senses)

    def pipe(self, docs: Iterable[Document], *, batch_size: int = 256) -> Iterator[Document]:
        """Set `token.sense` on each document; yields the documents."""
        senses = self._senses()
        for doc in docs:
            tokens = doc.tokens
            if tokens is None or (len(tokens) and tokens.pos is None):
                raise StageError(
                    f"wsd: document {doc.id!r} has no POS tags; add `tokenize` and `pos` before `wsd` in the stages"
                )
            tokens.sense = senses.annotate(doc)
            yield doc


def _lesk_senses() -> _LeskSenses:
    return _LeskSenses(load_wordnet())


class _LeskSenses:
    """Simplified Lesk over a WordNet reader, with per-process caches of senses and glosses."""

    def __init__(self, wordnet: Any):
        from spacy.lang.en.stop_words import STOP_WORDS

        self.wordnet = wordnet
        self.stop_words = frozenset(STOP_WORDS)
        self._candidates: dict[tuple[str, str], list[tuple[str, frozenset[str]]]] = {}
        self._base_forms: dict[str, str] = {}

    def base_form(self, word: str) -> str:
        form = self._base_forms.get(word)
        if form is None:
            form = self._base_forms[word] = self.wordnet.morphy(word) or word
        return form

    def candidates(self, lemma: str, pos: str) -> list[tuple[str, frozenset[str]]]:
        """The senses of `lemma` as `(synset name, signature lemmas)`, most frequent first."""
        key = (lemma, pos)
        found = self._candidates.get(key)
        if found is None:
            found = []
            for synset in self.wordnet.synsets(lemma, pos):
                gloss = " ".join([synset.definition(), *synset.examples()]).lower()
                words = {self.base_form(w) for w in _WORD_RE.findall(gloss)}
                found.append((synset.name(), frozenset(words - self.stop_words)))
            self._candidates[key] = found
        return found

    def annotate(self, doc: Document) -> list[str | None]:
        tokens = doc.tokens
        assert tokens is not None
        n = len(tokens)
        forms = tokens.lemma or tokens.norm or tokens.text
        keys = [form.lower().replace(" ", "_") for form in forms]
        pos = [wordnet_pos(p) for p in (tokens.pos or [None] * n)]
        bounds = [0, n]
        if doc.sentences:
            cuts = {bisect_left(tokens.start, s.start) for s in doc.sentences}
            bounds = sorted(cuts | {0, n})
        senses: list[str | None] = [None] * n
        for a, b in zip(bounds, bounds[1:], strict=False):
            content = [i for i in range(a, b) if pos[i] is not None]
            context = {keys[i] for i in content} - self.stop_words
            for i in content:
                best, best_overlap = None, -1
                others = context - {keys[i]}
                for name, signature in self.candidates(keys[i], pos[i]):  # type: ignore[arg-type]
                    overlap = len(signature & others)
                    if overlap > best_overlap:
                        best, best_overlap = name, overlap
                senses[i] = best
        return senses
