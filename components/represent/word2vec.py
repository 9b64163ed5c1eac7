"""Word2Vec and FastText on gensim, trained from the document stream; seeded and reproducible."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field as Range

from pipeline.files import scratch_folder
from pipeline.registry import register

from .persist import load_array, read_json, write_json
from .tokens import EmptyVocabularyError, Field
from .wordvectors import WordVectorLearner, mean_vectors

__all__ = ["Word2Vec", "FastText"]

# gensim's Cython routines ignore words past 10,000 in one sentence: longer documents are split.
MAX_SENTENCE = 10_000

PositiveInt = Annotated[int, Range(ge=1)]


class _GensimLearner(WordVectorLearner):
    """Shared training of the gensim-backed learners."""

    def _gensim_params(self) -> dict[str, Any]:
        return {
            "vector_size": self.vector_size,
            "window": self.window,
            "min_count": self.min_count,
            "max_final_vocab": self.max_final_vocab,
            "sg": self.sg,
            "hs": self.hs,
            "negative": self.negative,
            "ns_exponent": self.ns_exponent,
            "sample": self.sample,
            "alpha": self.alpha,
            "min_alpha": self.min_alpha,
            "epochs": self.epochs,
            "seed": self.seed,
            "workers": self.workers,
        }

    def _train(self, model: Any, corpus: Iterable[Any]) -> Any:
        # A run's corpus (`RunCorpus`) names its run folder: the spool file lives there, so a
        # killed fit leaves it where the next run's clean-up finds it, not in the system temp.
        with scratch_folder(getattr(corpus, "run_dir", None), f"{self.name}-spool") as tmp:  # type: ignore[attr-defined]
            sentences = SpooledTokens(
                self.token_corpus(corpus, max_length=MAX_SENTENCE), Path(tmp) / "tokens.jsonl"
            )
            model.build_vocab(sentences)
            if len(model.wv) == 0:
                raise EmptyVocabularyError(
                    f"{self.name}: no word occurs min_count={self.min_count} times after token "  # type: ignore[attr-defined]
                    f"selection (field={self.field!r}, drop_stop={self.drop_stop}, "
                    f"drop_punct={self.drop_punct}): lower min_count or check the stages"
                )
            model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
        self.corpus_words_ = int(model.corpus_total_words)
        return model


class SpooledTokens:
    """Token lists read from the corpus once, then replayed from a JSON-lines file on disk.

    The first iteration selects tokens from the documents and writes each list as
    a line; later ones (the training epochs) read the file back, which costs far
    less than selecting tokens again and leaves the GIL to gensim's trainer. Disk
    use is about the size of the selected text; memory stays one line.
    """

    def __init__(self, source: Iterable[list[str]], path: Path):
        self.source = source
        self.path = path
        self.complete = False

    def __iter__(self) -> Iterator[list[str]]:
        import orjson

        if self.complete:
            with open(self.path, "rb") as fh:
                for line in fh:
                    yield orjson.loads(line)
            return
        with open(self.path, "wb") as fh:
            for tokens in self.source:
                fh.write(orjson.dumps(tokens) + b"\n")
                yield tokens
        self.complete = True


@register("represent", "word2vec")
class Word2Vec(_GensimLearner):
    """Word2Vec word vectors (gensim): CBOW or skip-gram, negative sampling or hierarchical softmax.

    Parameters are gensim's: `sg` (0 CBOW, 1 skip-gram), `hs` (1 hierarchical softmax),
    `negative` (noise words; 0 with `hs: 1` for pure HS), `window`, `min_count`,
    `max_final_vocab`, `sample`, `alpha`/`min_alpha`, `epochs`, `seed`, `workers`.
    With `workers: 1` a given seed gives the same vectors on every run (and the same
    as gensim's own `Word2Vec` on the same token lists); more workers train faster
    but not reproducibly. Documents longer than 10,000 tokens are split. The selected
    tokens are spooled to a temporary file on the first pass (about the size of the
    text; inside the run folder when fitted in a run) and the training epochs replay it.
    """

    version = "1"

    def __init__(
        self,
        *,
        field: Field = "lower",
        drop_stop: bool = False,
        drop_punct: bool = True,
        vector_size: PositiveInt = 100,
        window: PositiveInt = 5,
        min_count: PositiveInt = 5,
        max_final_vocab: PositiveInt | None = None,
        sg: Literal[0, 1] = 0,
        hs: Literal[0, 1] = 0,
        negative: Annotated[int, Range(ge=0)] = 5,
        ns_exponent: float = 0.75,
        sample: Annotated[float, Range(ge=0.0)] = 1e-3,
        alpha: Annotated[float, Range(gt=0.0)] = 0.025,
        min_alpha: Annotated[float, Range(ge=0.0)] = 0.0001,
        epochs: PositiveInt = 5,
        seed: int = 1,
        workers: PositiveInt = 1,
    ):
        self.field = field
        self.drop_stop = drop_stop
        self.drop_punct = drop_punct
        self.vector_size = vector_size
        self.window = window
        self.min_count = min_count
        self.max_final_vocab = max_final_vocab
        self.sg = sg
        self.hs = hs
        self.negative = negative
        self.ns_exponent = ns_exponent
        self.sample = sample
        self.alpha = alpha
        self.min_alpha = min_alpha
        self.epochs = epochs
        self.seed = seed
        self.workers = workers

    def fit(self, corpus: Iterable[Any], y: Any = None) -> Word2Vec:
        """Build the vocabulary (one pass) and train (`epochs` passes) on a restartable corpus."""
        from gensim.models import Word2Vec as GensimWord2Vec

        model = self._train(GensimWord2Vec(**self._gensim_params()), corpus)
        self.wv_ = model.wv
        return self


@register("represent", "fasttext")
class FastText(_GensimLearner):
    """FastText word vectors (gensim): Word2Vec plus character n-grams, so unseen words get vectors.

    Parameters as `word2vec`, plus `min_n`/`max_n` (character n-gram lengths; `max_n: 0`
    turns n-grams off) and `bucket` (hash buckets for n-grams; Facebook's default is
    2,000,000, ours 200,000 to keep memory at `bucket × vector_size × 4` bytes modest).
    `wv_[word]` works for any word; `transform` averages over every token, unseen ones
    included.
    """

    version = "1"

    def __init__(
        self,
        *,
        field: Field = "lower",
        drop_stop: bool = False,
        drop_punct: bool = True,
        vector_size: PositiveInt = 100,
        window: PositiveInt = 5,
        min_count: PositiveInt = 5,
        max_final_vocab: PositiveInt | None = None,
        sg: Literal[0, 1] = 0,
        hs: Literal[0, 1] = 0,
        negative: Annotated[int, Range(ge=0)] = 5,
        ns_exponent: float = 0.75,
        sample: Annotated[float, Range(ge=0.0)] = 1e-3,
        alpha: Annotated[float, Range(gt=0.0)] = 0.025,
        min_alpha: Annotated[float, Range(ge=0.0)] = 0.0001,
        epochs: PositiveInt = 5,
        seed: int = 1,
        workers: PositiveInt = 1,
        min_n: Annotated[int, Range(ge=0)] = 3,
        max_n: Annotated[int, Range(ge=0)] = 6,
        bucket: PositiveInt = 200_000,
    ):
        self.field = field
        self.drop_stop = drop_stop
        self.drop_punct = drop_punct
        self.vector_size = vector_size
        self.window = window
        self.min_count = min_count
        self.max_final_vocab = max_final_vocab
        self.sg = sg
        self.hs = hs
        self.negative = negative
        self.ns_exponent = ns_exponent
        self.sample = sample
        self.alpha = alpha
        self.min_alpha = min_alpha
        self.epochs = epochs
        self.seed = seed
        self.workers = workers
        self.min_n = min_n
        self.max_n = max_n
        self.bucket = bucket

    def fit(self, corpus: Iterable[Any], y: Any = None) -> FastText:
        """Build the vocabulary (one pass) and train (`epochs` passes) on a restartable corpus."""
        from gensim.models import FastText as GensimFastText

        params = self._gensim_params()
        params.update(min_n=self.min_n, max_n=self.max_n, bucket=self.bucket)
        model = self._train(GensimFastText(**params), corpus)
        self.wv_ = model.wv
        return self

    def transform(self, docs: Iterable[Any]) -> np.ndarray:
        """Each document's mean word vector over all its tokens (unseen words from n-grams)."""
        return mean_vectors(self.wv_, (self.select(doc) for doc in docs), oov=True)

    def _save_state(self, folder: Path) -> None:
        super()._save_state(folder)
        wv = self.wv_
        np.save(folder / "vectors_vocab.npy", np.asarray(wv.vectors_vocab, dtype=np.float32))
        np.save(folder / "vectors_ngrams.npy", np.asarray(wv.vectors_ngrams, dtype=np.float32))
        write_json(
            folder / "ngrams.json", {"min_n": wv.min_n, "max_n": wv.max_n, "bucket": wv.bucket}
        )

    def _load_state(self, folder: Path) -> None:
        from gensim.models.fasttext import FastTextKeyedVectors

        plain = _load_plain(folder)
        ngrams = read_json(folder / "ngrams.json")
        wv = FastTextKeyedVectors(
            plain.vector_size, ngrams["min_n"], ngrams["max_n"], ngrams["bucket"], count=0
        )
        wv.index_to_key = list(plain.index_to_key)
        wv.key_to_index = dict(plain.key_to_index)
        wv.expandos = dict(plain.expandos)
        wv.vectors = plain.vectors
        wv.vectors_vocab = load_array(folder / "vectors_vocab.npy")
        wv.vectors_ngrams = load_array(folder / "vectors_ngrams.npy")
        wv.recalc_char_ngram_buckets()
        self.wv_ = wv


def _load_plain(folder: Path) -> Any:
    from .persist import load_keyed_vectors

    return load_keyed_vectors(folder)
