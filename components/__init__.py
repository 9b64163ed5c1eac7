"""nlp-pipeline's components; importing this package registers them.

Found by the engine through the entry-point group `nlp_pipeline.components`.
"""

from .text import Normalize, Sentences, Stopwords, Tokenize

__all__ = ["Normalize", "Sentences", "Stopwords", "Tokenize"]
