"""Every learner is registered, configurable from YAML values, and a well-behaved estimator."""

from __future__ import annotations

import inspect

import pytest
from sklearn.base import clone

import components.represent as represent
from pipeline.config import component_model
from pipeline.interfaces import ArtifactExporter, CorpusLearner, ShardReducingLearner
from pipeline.registry import describe, lookup

LEARNERS = {
    "bow": represent.BagOfWords,
    "onehot": represent.OneHot,
    "tfidf": represent.TfIdf,
    "phrases": represent.Phrases,
    "cooccurrence": represent.Cooccurrence,
    "word2vec": represent.Word2Vec,
    "fasttext": represent.FastText,
    "glove": represent.GloVe,
    "pretrained": represent.Pretrained,
    "docvectors": represent.DocVectors,
}

REDUCING = {"bow", "onehot", "tfidf"}  # fitted as a map-reduce over shards (decision 12)


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_registered_configurable_and_cloneable(name):
    cls = lookup("represent", name)
    assert cls is LEARNERS[name]
    info = describe(cls)
    assert info["summary"] and not info["summary"].endswith(":")
    model = component_model("represent", name)
    params = model.model_validate({}).model_dump(mode="json")
    assert {"field", "drop_stop", "drop_punct"} <= set(params)
    learner = cls(**params)
    assert all(p.kind is p.KEYWORD_ONLY for p in list(inspect.signature(cls).parameters.values()))
    copy = clone(learner)
    assert copy.get_params() == learner.get_params()
    copy.set_params(drop_stop=True)
    assert copy.drop_stop and not learner.drop_stop
    assert not [k for k in vars(learner) if k.endswith("_")]  # nothing learned before fit
    # the engine's contracts (pipeline/interfaces.py), which it checks with isinstance
    assert isinstance(learner, CorpusLearner) and isinstance(learner, ArtifactExporter)
    assert isinstance(learner, ShardReducingLearner) == (name in REDUCING)


def test_bad_values_fail_in_the_config():
    with pytest.raises(Exception, match="window"):
        component_model("represent", "glove").model_validate({"window": 0})
    with pytest.raises(Exception, match="sg"):
        component_model("represent", "word2vec").model_validate({"sg": 2})


def test_embeddings_evaluator_is_registered():
    cls = lookup("evaluator", "embeddings")
    assert describe(cls)["parameters"]["path"]["required"]
