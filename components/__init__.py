"""nlp-pipeline's components; importing this package registers them.

Found by the engine through the entry-point group `nlp_pipeline.components`.
"""

from .text import (
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
