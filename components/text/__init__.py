"""Document stages for text: normalize, tokenize, sentences, stopwords."""

from .normalize import Normalize
from .sentences import Sentences
from .stopwords import Stopwords
from .tokenize import Tokenize

__all__ = ["Normalize", "Sentences", "Stopwords", "Tokenize"]
