"""nlp-pipeline's components; importing this package registers them.

Found by the engine through the entry-point group `nlp_pipeline.components`. The text
stages are registered on import; the corpus learners (and the `embeddings` evaluator) are
declared with `register_lazy` and imported the first time one is looked up or named here
(`from components import TfIdf`), so a process that runs only text stages, such as a
worker, never imports scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import Any

from pipeline.registry import register_lazy

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

# class exported here -> (kind, registered name, module that registers it)
_LAZY_COMPONENTS = {
    "BagOfWords": ("represent", "bow", "components.represent.bow"),
    "OneHot": ("represent", "onehot", "components.represent.bow"),
    "TfIdf": ("represent", "tfidf", "components.represent.tfidf"),
    "Phrases": ("represent", "phrases", "components.represent.phrases"),
    "Cooccurrence": ("represent", "cooccurrence", "components.represent.cooccurrence"),
    "Word2Vec": ("represent", "word2vec", "components.represent.word2vec"),
    "FastText": ("represent", "fasttext", "components.represent.word2vec"),
    "GloVe": ("represent", "glove", "components.represent.glove"),
    "Pretrained": ("represent", "pretrained", "components.represent.pretrained"),
    "DocVectors": ("represent", "docvectors", "components.represent.docvectors"),
    "Embeddings": ("evaluator", "embeddings", "components.represent.evaluate"),
    "LogisticRegressionTask": ("task", "logreg", "components.models.classify"),
    "LinearSvmTask": ("task", "linear-svm", "components.models.classify"),
    "NaiveBayesTask": ("task", "naive-bayes", "components.models.classify"),
    "LstmTask": ("task", "lstm", "components.models.classify"),
    "BiLstmTask": ("task", "bilstm", "components.models.classify"),
    "GruTask": ("task", "gru", "components.models.classify"),
    "RnnTask": ("task", "rnn", "components.models.classify"),
    "TextCnnTask": ("task", "textcnn", "components.models.classify"),
    "TransformerTask": ("task", "transformer", "components.models.classify"),
    "MlpTask": ("task", "mlp", "components.models.classify"),
    "LstmLanguageModelTask": ("task", "lstm-lm", "components.models.language_model"),
    "Seq2SeqTask": ("task", "seq2seq", "components.models.seq2seq"),
    "LdaTopics": ("task", "lda", "components.analytics.topics"),
    "NmfTopics": ("task", "nmf", "components.analytics.topics"),
    "LeadSummary": ("task", "lead", "components.analytics.summaries"),
    "TextRankSummary": ("task", "textrank", "components.analytics.summaries"),
    "LexRankSummary": ("task", "lexrank", "components.analytics.summaries"),
    "VaderSentiment": ("task", "vader", "components.analytics.sentiment"),
    "Keywords": ("task", "keywords", "components.analytics.keywords"),
    "Entities": ("task", "entities", "components.analytics.entities"),
    "RelatedStories": ("task", "related", "components.analytics.related"),
    "KMeansClusters": ("task", "kmeans", "components.analytics.clusters"),
    "AgglomerativeClusters": ("task", "agglomerative", "components.analytics.clusters"),
    "DbscanClusters": ("task", "dbscan", "components.analytics.clusters"),
    "MatrixFactorizationTask": ("task", "mf", "components.analytics.recommendations"),
    "TabularTask": ("task", "tabular", "components.models.tabular_task"),
    "ImageCnnTask": ("task", "image-cnn", "components.vision.task"),
    "OptunaSearch": ("tuner", "optuna", "components.ml.search"),
}
for _kind, _name, _module in _LAZY_COMPONENTS.values():
    register_lazy(_kind, _name, _module)


def __getattr__(attribute: str) -> Any:
    """The learner classes, imported on first use."""
    found = _LAZY_COMPONENTS.get(attribute)
    if found is None:
        raise AttributeError(f"module 'components' has no attribute {attribute!r}")
    return getattr(importlib.import_module(found[2]), attribute)


__all__ = [
    "AgglomerativeClusters",
    "DbscanClusters",
    "ImageCnnTask",
    "KMeansClusters",
    "MatrixFactorizationTask",
    "OptunaSearch",
    "TabularTask",
    "BagOfWords",
    "Entities",
    "Keywords",
    "LdaTopics",
    "LeadSummary",
    "LstmLanguageModelTask",
    "Seq2SeqTask",
    "LexRankSummary",
    "NmfTopics",
    "RelatedStories",
    "TextRankSummary",
    "VaderSentiment",
    "BiLstmTask",
    "GruTask",
    "LinearSvmTask",
    "LogisticRegressionTask",
    "LstmTask",
    "MlpTask",
    "NaiveBayesTask",
    "RnnTask",
    "TextCnnTask",
    "TransformerTask",
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
