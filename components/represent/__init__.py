"""Corpus learners: sparse document-term matrices, co-occurrence, word and document vectors.

Importing this package registers the learners under `represent:` (bow, onehot, tfidf,
phrases, cooccurrence, word2vec, fasttext, glove, pretrained, docvectors) and the
`embeddings` evaluator. Heavy libraries (gensim, torch, spaCy) load on first use.
"""

from .bow import BagOfWords, OneHot
from .cooccurrence import Cooccurrence, ppmi
from .docvectors import DocVectors
from .evaluate import Embeddings, evaluate_vectors
from .glove import GloVe
from .phrases import Phrases
from .pretrained import PRETRAINED, Pretrained, load_vectors
from .tfidf import TfIdf
from .tokens import EmptyVocabularyError, RepresentError, TokenCorpus, token_stream
from .word2vec import FastText, Word2Vec

__all__ = [
    "PRETRAINED", "BagOfWords", "Cooccurrence", "DocVectors", "Embeddings", "EmptyVocabularyError",
    "FastText", "GloVe", "OneHot", "Phrases", "Pretrained", "RepresentError", "TfIdf",
    "TokenCorpus", "Word2Vec", "evaluate_vectors", "load_vectors", "ppmi", "token_stream",
]  # fmt: skip
