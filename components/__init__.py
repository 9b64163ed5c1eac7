"""nlp-pipeline's components; importing this package registers them.

Found by the engine through the entry-point group `nlp_pipeline.components`.
"""

from .represent import (
    BagOfWords,
    Cooccurrence,
    DocVectors,
    Embeddings,
    FastText,
    GloVe,
    OneHot,
    Phrases,
    Pretrained,
    TfIdf,
    Word2Vec,
)
from .text import (
    Coref,
    CorefEvaluator,
    Lemmatize,
    NamedEntities,
    Normalize,
    PartOfSpeech,
    Sentences,
    Stem,
    Stopwords,
    Tokenize,
    WordSenses,
)

__all__ = [
    "BagOfWords",
    "Cooccurrence",
    "Coref",
    "CorefEvaluator",
    "DocVectors",
    "Embeddings",
    "FastText",
    "GloVe",
    "OneHot",
    "Phrases",
    "Pretrained",
    "TfIdf",
    "Word2Vec",
    "Lemmatize",
    "NamedEntities",
    "Normalize",
    "PartOfSpeech",
    "Sentences",
    "Stem",
    "Stopwords",
    "Tokenize",
    "WordSenses",
]
