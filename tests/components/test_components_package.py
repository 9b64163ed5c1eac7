"""The `components` package: exports, registration, config models, stage conventions."""

from __future__ import annotations

import importlib
import inspect
import pickle
import subprocess
import sys
import typing
from importlib.metadata import entry_points

import pytest

from components import Normalize, Sentences, Stopwords, Tokenize
from components.text.stem import Stem
from pipeline import Pipeline, registry
from pipeline.config import ConfigError, component_model
from pipeline.document import Document

STAGES = {
    "normalize": Normalize,
    "tokenize": Tokenize,
    "sentences": Sentences,
    "stopwords": Stopwords,
}


def test_stages_are_registered_and_found_through_the_entry_point():
    assert any(ep.value == "components" for ep in entry_points(group=registry.ENTRY_POINT_GROUP))
    for name, cls in STAGES.items():
        assert registry.lookup("stage", name) is cls
        assert cls.name == name and cls.kind == "stage"


HEAVY = ("spacy", "nltk", "gensim", "torch", "punkt", "sklearn")


def test_importing_components_does_not_import_heavy_libraries():
    code = (
        f"import components, corpora, sys; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_learners_are_listed_before_import_and_imported_when_first_looked_up():
    code = (
        "import sys, components\n"
        "from pipeline import registry\n"
        "print('tfidf' in registry.names('represent'), 'sklearn' in sys.modules)\n"
        "cls = registry.lookup('represent', 'tfidf')\n"
        "print(cls.__name__, cls.name, 'sklearn' in sys.modules)\n"
        "from components import Word2Vec, Embeddings\n"
        "print(registry.lookup('represent', 'word2vec') is Word2Vec, Embeddings.kind)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False", "TfIdf", "tfidf", "True", "True", "evaluator"]
    with pytest.raises(AttributeError, match="has no attribute 'TfIdfs'"):
        importlib.import_module("components").TfIdfs  # noqa: B018
    with pytest.raises(registry.RegistryError, match="did you mean 'tfidf'"):
        registry.lookup("represent", "tfidff")


@pytest.mark.parametrize("name", sorted(STAGES))
def test_parameters_have_resolvable_annotations_and_valid_defaults(name):
    cls = STAGES[name]
    hints = typing.get_type_hints(cls.__init__, include_extras=True)
    params = registry.parameters(cls)
    assert set(params) <= set(hints)
    assert all(p.kind is p.KEYWORD_ONLY for p in params.values())
    model = component_model("stage", name)
    defaults = model.model_validate({}).model_dump(mode="json")
    assert defaults == cls().get_params()


def test_config_models_reject_bad_choices():
    with pytest.raises(Exception, match="backend"):
        component_model("stage", "tokenize").model_validate({"backend": "nltk"})
    with pytest.raises(Exception, match="lists"):
        component_model("stage", "stopwords").model_validate({"lists": ["nltk"]})
    with pytest.raises(Exception, match="unicode"):
        component_model("stage", "normalize").model_validate({"unicode": "NFX"})


def test_constructors_only_store_parameters():
    stage = Tokenize(backend="regex", pattern="(")  # invalid pattern: not checked until used
    assert stage.get_params() == {"backend": "regex", "language": "en", "pattern": "("}
    assert vars(stage) == stage.get_params()
    stop = Stopwords(lists=["gensim"], files=["/no/such/file"])
    assert vars(stop) == stop.get_params()


@pytest.mark.parametrize(
    ("stage", "change"),
    [
        (Stopwords(), {"lists": ["sklearn"]}),
        (Tokenize(backend="regex"), {"backend": "whitespace"}),
        (Sentences(backend="punkt"), {"language": "german"}),
        (Stem(), {"algorithm": "porter"}),
    ],
    ids=["stopwords", "tokenize", "sentences", "stem"],
)
def test_resources_are_built_lazily_and_do_not_travel(news, stage, change):
    doc = Tokenize()(Document.from_text(news))
    before = repr(stage)
    stage(doc)
    assert "_resources" in vars(stage) and repr(stage) == before
    clone = pickle.loads(pickle.dumps(stage))
    assert "_resources" not in vars(clone) and clone.get_params() == stage.get_params()
    stage.set_params(**change)
    assert "_resources" not in vars(stage)


#: The modules behind the four text stages.
TEXT_MODULES = [
    "components", "components.text", "components.text.contractions", "components.text.edits",
    "components.text.normalize", "components.text.placeholders", "components.text.resources",
    "components.text.rewrites", "components.text.sentence_rules", "components.text.sentences",
    "components.text.stopwords", "components.text.tokenize", "components.text.tokenizers",
]  # fmt: skip


@pytest.mark.parametrize("module_name", TEXT_MODULES)
def test_every_public_class_and_function_has_a_docstring(module_name):
    module = importlib.import_module(module_name)
    assert (module.__doc__ or "").strip()
    missing = []
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module_name:
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            if not (obj.__doc__ or "").strip():
                missing.append(name)
            if inspect.isclass(obj):
                missing += [
                    f"{name}.{m}"
                    for m, f in vars(obj).items()
                    if inspect.isfunction(f)
                    and not m.startswith("_")
                    and not (f.__doc__ or "").strip()
                ]
    assert missing == []


def test_summaries_for_the_component_list():
    for cls in STAGES.values():
        summary = registry.summary(cls)
        assert 20 < len(summary) < 120 and summary.endswith(".")


def test_pipeline_from_config_runs_the_four_stages(news):
    nlp = Pipeline.from_config(
        {
            "stages": [
                {"normalize": {"mask_urls": True}},
                {"tokenize": {"backend": "spacy"}},
                {"sentences": {}},
                {"stopwords": {"lists": ["spacy"], "remove": True}},
            ]
        }
    )
    doc = nlp(news)
    assert len(doc.sentences) == 6
    assert "<URL>" in doc.tokens.norm and "the" not in doc.tokens.norm
    again = Document.from_dict(doc.to_dict())
    assert again == doc


def test_unknown_parameter_is_a_config_error():
    with pytest.raises(ConfigError, match="did you mean 'backend'"):
        Pipeline.from_config({"stages": [{"tokenize": {"backnd": "regex"}}]})
