"""`init_from: LM_DIR` for the recurrent classifiers (ULMFiT's pretrain, then fine-tune).

A tiny `lstm-lm` is trained on 120 real Lee news articles; classifiers trained on AG News
(or mini_newsgroup) rows start from it: a word both vocabularies hold starts from the
language model's embedding row, a new word from the mean of its rows, the LSTM from its
weights; sizes come from the language model; a mismatch and a folder that holds no
language model are ConfigErrors at `tasks.NAME.init_from`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import components.models.language_model  # noqa: F401 - registers `lstm-lm`
from components.models.estimator import FitContext
from components.models.language_model import load_language_model
from components.models.neural import BiLSTMClassifier, GRUClassifier, LSTMClassifier
from pipeline.config import ConfigError, resolve_config
from pipeline.runner import run

pytestmark = pytest.mark.usefixtures("torch_one_thread")

ROOT = Path(__file__).resolve().parents[3]

LM = {"model": "lstm-lm", "layers": 1, "embed_dim": 16, "hidden": 24, "epochs": 1}
LM |= {"bptt": 20, "batch_size": 16, "min_count": 2, "seed": 1}


@pytest.fixture(scope="module")
def lm_dir(tmp_path_factory, lee_texts) -> Path:
    """A one-epoch `lstm-lm` trained on 120 Lee articles (a real run)."""
    root = tmp_path_factory.mktemp("lm")
    corpus = root / "lee.jsonl"
    with corpus.open("w", encoding="utf-8") as fh:
        for i, text in enumerate(lee_texts[:120]):
            fh.write(json.dumps({"id": f"lee-{i}", "text": text}) + "\n")
    config = {
        "name": "lm",
        "corpus": {"reader": "jsonl", "path": str(corpus)},
        "stages": [{"tokenize": {"backend": "regex"}}],
        "tasks": {"news_lm": LM},
        "output": {"dir": str(root / "run")},
    }
    run(resolve_config(config))
    return root / "run" / "tasks" / "news_lm"


@pytest.fixture(scope="module")
def news_tokens(newsgroups_docs) -> tuple[list[list[str]], list[str]]:
    """60 mini_newsgroup posts as lower-cased tokens, with their labels."""
    docs = newsgroups_docs[:30] + newsgroups_docs[-30:]
    return [[t.lower() for t in doc.tokens.text] for doc in docs], [
        doc.meta["label"] for doc in docs
    ]


def _started(estimator, texts, tmp_path: Path, task: str = "topic"):
    """The network `estimator` would train, as built before its first step."""
    context = FitContext(workdir=tmp_path / "run" / "tasks" / task, seed=1)
    matrix = estimator._fit_features(texts, context, 1)
    return estimator._network(2, matrix)


def test_shared_words_take_the_language_models_rows_and_new_words_their_mean(
    lm_dir, news_tokens, tmp_path
):
    vocab, state, config = load_language_model(lm_dir)
    texts, _ = news_tokens
    estimator = LSTMClassifier(init_from=str(lm_dir), min_count=1)
    network = _started(estimator, texts, tmp_path)
    lm_rows = state["embedding.weight"].numpy()
    rows = network.embedding.weight.detach().numpy()
    words = estimator.vocabulary_.words
    shared = [w for w in words[2:] if w in vocab]
    new = [w for w in words[2:] if w not in vocab]
    assert "the" in shared and len(shared) > 100 and len(new) > 100
    for word in shared:
        assert np.array_equal(rows[words.index(word)], lm_rows[vocab.index[word]])
    mean = lm_rows[1:].mean(axis=0)
    for word in new[:20]:
        assert np.allclose(rows[words.index(word)], mean)
    assert not rows[0].any()  # padding stays zero
    mapping = estimator.init_mapping_
    assert (mapping["found"], mapping["new"]) == (len(shared), len(new))
    assert mapping["words"] == len(words) - 2 == mapping["found"] + mapping["new"]
    assert (estimator.embed_dim_, estimator.hidden_, estimator.layers_) == (
        config["embed_dim"],
        config["hidden"],
        config["layers"],
    )
    for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
        assert np.array_equal(getattr(network.encoder, name).detach(), state[f"lstm.{name}"])


def test_bilstm_takes_the_forward_direction_and_gru_the_embedding_only(
    lm_dir, news_tokens, tmp_path
):
    _, state, _ = load_language_model(lm_dir)
    texts, _ = news_tokens
    bilstm = _started(BiLSTMClassifier(init_from=str(lm_dir)), texts, tmp_path)
    assert np.array_equal(bilstm.encoder.weight_hh_l0.detach(), state["lstm.weight_hh_l0"])
    assert bilstm.encoder.weight_hh_l0_reverse.shape == state["lstm.weight_hh_l0"].shape
    assert not np.array_equal(
        bilstm.encoder.weight_hh_l0_reverse.detach(), state["lstm.weight_hh_l0"]
    )
    gru = GRUClassifier(init_from=str(lm_dir))
    network = _started(gru, texts, tmp_path)
    assert network.embedding.embedding_dim == state["embedding.weight"].shape[1]
    assert gru.init_mapping_["lstm_layers_copied"] == 0


def test_a_size_other_than_the_language_models_names_the_mismatch(lm_dir, news_tokens, tmp_path):
    texts, _ = news_tokens
    with pytest.raises(
        ConfigError, match=r"^tasks\.topic\.init_from: .*LSTM width is 24 but hidden is 48"
    ):
        _started(LSTMClassifier(init_from=str(lm_dir), hidden=48), texts, tmp_path)
    with pytest.raises(
        ConfigError, match=r"tasks\.topic\.init_from: both init_from and embeddings"
    ):
        _started(LSTMClassifier(init_from=str(lm_dir), embeddings="glove-6b-50d"), texts, tmp_path)


def test_a_folder_without_a_language_model_is_one_config_error(
    newsgroups_run, news_tokens, tmp_path
):
    texts, _ = news_tokens
    classifier = newsgroups_run.run_dir / "tasks" / "topic"
    with pytest.raises(ConfigError, match=r"holds a 'logreg' model, not an lstm-lm") as error:
        _started(LSTMClassifier(init_from=str(classifier)), texts, tmp_path, task="news")
    assert str(error.value).startswith("tasks.news.init_from: ")
    assert len(str(error.value).splitlines()) == 1
    with pytest.raises(ConfigError, match=r"is not an lstm-lm model .*weights.pt is missing"):
        _started(LSTMClassifier(init_from=str(tmp_path)), texts, tmp_path)


def test_a_run_fine_tunes_from_the_language_model_and_saves_the_mapping(lm_dir, ag_csv, tmp_path):
    from components.models import load

    task = {"model": "lstm", "init_from": str(lm_dir), "epochs": 2, "seed": 1}
    config = {
        "name": "ulmfit",
        "corpus": {"reader": "csv", "path": str(ag_csv), "text_column": ["title", "description"]}
        | {"label_column": "label", "limit": 200},
        "stages": [{"tokenize": {"backend": "regex"}}],
        "tasks": {"category": task},
        "output": {"dir": str(tmp_path / "run")},
    }
    run(resolve_config(config))
    folder = tmp_path / "run" / "tasks" / "category"
    mapping = json.loads((folder / "model" / "vocab_mapping.json").read_text())
    assert mapping["found"] > 0 and mapping["new"] > 0
    assert mapping["init_from"] == str(lm_dir)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0
    predictor = load(folder)
    [prediction] = predictor.predict(["Oil prices rose as the central bank raised rates."])
    assert set(prediction["probabilities"]) == set(predictor.classes)

    bad = {**task, "hidden": 100}
    config["output"] = {"dir": str(tmp_path / "bad")}
    config["tasks"] = {"category": bad}
    with pytest.raises(ConfigError, match=r"^tasks\.category\.init_from: .*hidden is 100"):
        run(resolve_config(config))


@pytest.mark.slow  # three `nlp predict` processes, each importing torch
def test_nlp_predict_passes_generation_options_to_the_language_model(lm_dir, tmp_path):
    """The issue's command on a real (tiny) language model prints a continuation; `--score`
    gives tokens and a log-likelihood; a strategy the model does not know is one line and
    exit 2 (the model's own ValueError, shown without a traceback)."""
    code = tmp_path / "register_lm.py"
    code.write_text("import components.models.language_model  # noqa: F401\n")
    env = {**os.environ, "NLP_PIPELINE_CODE": str(code)}

    def nlp(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, str(ROOT / "cli.py"), "predict", str(lm_dir), *args]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)

    sample = ["--text", "The central bank", "--strategy", "top-p", "--top-p", "0.9"]
    sample += ["--max-length", "40", "--seed", "1"]
    sampled = nlp(*sample)
    assert sampled.returncode == 0, sampled.stderr
    [line] = [json.loads(x) for x in sampled.stdout.splitlines()]
    assert set(line) == {"id", "text"} and line["text"].strip()
    scored = nlp("--text", "The central bank raised interest rates", "--score")
    assert scored.returncode == 0, scored.stderr
    [line] = [json.loads(x) for x in scored.stdout.splitlines()]
    assert line["tokens"] >= 6 and line["log_likelihood"] < 0
    refused = nlp("--text", "The central bank", "--strategy", "nucleus")
    assert refused.returncode == 2
    [message] = refused.stderr.strip().splitlines()
    assert "nucleus" in message and "Traceback" not in refused.stderr
