"""Collocation detection with gensim's `Phrases`: "new york" becomes the token "new_york".

Usable on its own (`represent: {phrases: {...}}`) and as the `phrases: true` option of
the bag-of-words and TF-IDF learners. Phrases are saved as JSON (phrase → score),
never as a gensim pickle.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field as Range
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline.registry import register
from pipeline.stage import LazyResources

from .persist import read_json, read_learner, write_json, write_learner
from .tokens import Field, TokenSelection

__all__ = ["Phrases", "train_phrases", "frozen_phrases", "phrases_to_json"]


def train_phrases(
    sentences: Iterable[list[str]],
    *,
    min_count: int = 5,
    threshold: float = 10.0,
    scoring: str = "default",
    connector_words: Literal["none", "english"] = "english",
) -> Any:
    """Learn collocations from token lists with gensim `Phrases`; return the frozen model."""
    from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS
    from gensim.models.phrases import Phrases as GensimPhrases

    connectors = ENGLISH_CONNECTOR_WORDS if connector_words == "english" else frozenset()
    model = GensimPhrases(
        sentences,
        min_count=min_count,
        threshold=threshold,
        scoring=scoring,
        connector_words=connectors,
    )
    return model.freeze()


def phrases_to_json(frozen: Any) -> dict[str, Any]:
    """The frozen phrases as plain JSON data (settings and phrase → score)."""
    return {
        "threshold": float(frozen.threshold),
        "min_count": int(frozen.min_count),
        "delimiter": frozen.delimiter,
        "scoring": frozen.scoring if isinstance(frozen.scoring, str) else "custom",
        "connector_words": sorted(frozen.connector_words),
        "phrasegrams": {k: float(v) for k, v in frozen.phrasegrams.items()},
    }


def frozen_phrases(data: dict[str, Any]) -> Any:
    """Rebuild a gensim `FrozenPhrases` from `phrases_to_json` output (no pickle involved)."""
    from gensim.models.phrases import FrozenPhrases

    frozen = FrozenPhrases.__new__(FrozenPhrases)  # its __init__ needs a trained Phrases
    frozen.threshold = data["threshold"]
    frozen.min_count = data["min_count"]
    frozen.delimiter = data["delimiter"]
    frozen.scoring = data["scoring"]
    frozen.connector_words = frozenset(data["connector_words"])
    frozen.phrasegrams = dict(data["phrasegrams"])
    return frozen


@register("represent", "phrases")
class Phrases(TokenSelection, LazyResources, TransformerMixin, BaseEstimator):
    """Detect collocations (gensim Phrases) and join them into single tokens ("new_york").

    - `min_count`, `threshold`, `scoring` ("default" = Mikolov et al. 2013, "npmi"):
      as in gensim; `connector_words`: "english" lets phrases span words like "of"
      ("bank_of_america"), "none" does not.
    - `transform(docs)` returns each document's token list with phrases joined;
      `export` writes `phrases.json` (phrase → score).

    Call it twice (fit on its own output) for phrases of three or more words.
    """

    version = "1"

    def __init__(
        self,
        *,
        field: Field = "lower",
        drop_stop: bool = False,
        drop_punct: bool = True,
        min_count: Annotated[int, Range(ge=1)] = 5,
        threshold: float = 10.0,
        scoring: Literal["default", "npmi"] = "default",
        connector_words: Literal["none", "english"] = "english",
    ):
        self.field = field
        self.drop_stop = drop_stop
        self.drop_punct = drop_punct
        self.min_count = min_count
        self.threshold = threshold
        self.scoring = scoring
        self.connector_words = connector_words

    def fit(self, corpus: Iterable[Any], y: Any = None) -> Phrases:
        """Count words and word pairs over the corpus (one pass) and keep the phrases."""
        frozen = train_phrases(
            (self.select(doc) for doc in corpus),
            min_count=self.min_count,
            threshold=self.threshold,
            scoring=self.scoring,
            connector_words=self.connector_words,
        )
        self.phrasegrams_ = dict(frozen.phrasegrams)
        self._keep_resource("model", frozen)
        return self

    def _model(self) -> Any:
        return self._resource("model", self._frozen_model)

    def _frozen_model(self) -> Any:
        return frozen_phrases(self._json())

    def _json(self) -> dict[str, Any]:
        return {
            "threshold": float(self.threshold),
            "min_count": int(self.min_count),
            "delimiter": "_",
            "scoring": self.scoring,
            "connector_words": sorted(_connectors(self.connector_words)),
            "phrasegrams": self.phrasegrams_,
        }

    def transform(self, docs: Iterable[Any]) -> list[list[str]]:
        """Each document's selected tokens with detected phrases joined by "_"."""
        model = self._model()
        return [model[self.select(doc)] for doc in docs]

    def save(self, path: str | Path) -> Path:
        """Write `learner.json` and `phrases.json` into the folder `path`."""
        folder = write_learner(self, path)
        write_json(folder / "phrases.json", self._json())
        return folder

    @classmethod
    def load(cls, path: str | Path) -> Phrases:
        """Load a learner saved with `save`."""
        learner, folder = read_learner(cls, path)
        learner.phrasegrams_ = read_json(folder / "phrases.json")["phrasegrams"]
        return learner

    def export(self, corpus: Iterable[Any], out_dir: str | Path) -> dict[str, Path]:
        """Write `phrases.json` (phrase → score) into `out_dir`."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / "phrases.json", self.phrasegrams_)
        return {"phrases": out / "phrases.json"}


def _connectors(name: str) -> frozenset[str]:
    from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS

    return frozenset(ENGLISH_CONNECTOR_WORDS) if name == "english" else frozenset()
