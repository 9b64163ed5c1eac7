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
