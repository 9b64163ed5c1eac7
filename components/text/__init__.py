"""Document stages for text: normalize, tokenize, sentences, stopwords, stem, lemmatize, pos, ner, wsd."""

from .coref import Coref, CorefEvaluator
from .lemmatize import Lemmatize
from .ner import NamedEntities
from .normalize import Normalize
from .pos import PartOfSpeech
from .sentences import Sentences
from .stem import Stem
from .stopwords import Stopwords
from .tokenize import Tokenize
from .wsd import WordSenses

__all__ = [
    "Coref",
    "CorefEvaluator",
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
