"""`nlp predict`'s generation options reach the model's `predict` as keyword arguments.

A small generator task, written into a `--code`-style file (`NLP_PIPELINE_CODE`) so the
`cli.py` subprocess registers it, declares its `predict_options` and echoes what it gets.
Only the options given are passed; an option the model does not take (a classifier takes
none) and every out-of-range value is one `error:` line and exit 2, without a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.predict import PredictOptionError, check_predict_options

ROOT = Path(__file__).resolve().parents[1]

ECHO_TASKS = '''
import json
from pathlib import Path

from pipeline.registry import register


@register("task", "echo-generator")
class EchoGenerator:
    """Echoes its options; `score` gives the token count and a made-up log-likelihood."""

    model = "echo-generator"
    predict_options = (
        "strategy", "beam", "max_length", "min_length", "temperature", "top_k", "top_p",
        "repetition_penalty", "length_penalty", "no_repeat_ngram", "seed", "score",
    )

    @classmethod
    def load(cls, folder):
        return cls()

    def predict(self, docs, **options):
        for doc in docs:
            tokens = list(doc.tokens.text)
            if options.get("score"):
                yield {"tokens": len(tokens), "log_likelihood": -2.0 * len(tokens)}
            else:
                yield {"text": " ".join(reversed(tokens)), "options": options}


@register("task", "echo-headline")
class EchoHeadline(EchoGenerator):
    """Takes three options only, as a seq2seq model."""

    model = "echo-headline"
    predict_options = ("strategy", "beam", "max_length")
'''


def _model_folder(root: Path, component: str) -> Path:
    folder = root / "run" / "tasks" / component
    folder.mkdir(parents=True)
    record = {
        "name": component,
        "component": component,
        "params": {},
        "stages": [{"tokenize": {"backend": "regex"}}],
        "corpus": {"reader": "text"},
    }
    (folder / "pipeline.json").write_text(json.dumps(record))
    return folder


@pytest.fixture(scope="module")
def echo(tmp_path_factory) -> dict[str, Path]:
    """The echo tasks' code file and a model folder of each."""
    root = tmp_path_factory.mktemp("echo")
    code = root / "echo_tasks.py"
    code.write_text(ECHO_TASKS)
    return {
        "code": code,
        "generator": _model_folder(root, "echo-generator"),
        "headline": _model_folder(root / "h", "echo-headline"),
    }


def nlp(code: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NLP_PIPELINE_CODE": str(code)}
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        input=stdin,
    )


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_only_the_options_given_reach_the_model(echo):
    result = nlp(
        echo["code"],
        "predict",
        str(echo["generator"]),
        "--text",
        "The central bank",
        "--strategy",
        "top-p",
        "--top-p",
        "0.9",
        "--max-length",
        "40",
        "--seed",
        "1",
    )
    assert result.returncode == 0, result.stderr
    [line] = _lines(result.stdout)
    assert line["id"] == "text-1"
    assert line["text"] == "bank central The"
    assert line["options"] == {"strategy": "top-p", "top_p": 0.9, "max_length": 40, "seed": 1}


def test_every_option_is_passed_under_its_keyword_name(echo):
    args = ["--strategy", "beam", "--beam", "4", "--max-length", "12", "--min-length", "3"]
    args += ["--temperature", "0.7", "--top-k", "0", "--top-p", "1"]
    args += ["--repetition-penalty", "1.2", "--length-penalty", "0.6", "--no-repeat-ngram", "3"]
    args += ["--seed", "7"]
    result = nlp(echo["code"], "predict", str(echo["generator"]), "--text", "rates rose", *args)
    assert result.returncode == 0, result.stderr
    [line] = _lines(result.stdout)
    assert line["options"] == {
        "strategy": "beam",
        "beam": 4,
        "max_length": 12,
        "min_length": 3,
        "temperature": 0.7,
        "top_k": 0,
        "top_p": 1.0,
        "repetition_penalty": 1.2,
        "length_penalty": 0.6,
        "no_repeat_ngram": 3,
        "seed": 7,
    }


def test_score_writes_tokens_and_log_likelihood_per_input_in_order(echo):
    stdin = "Stocks fell sharply on Monday\nOil prices rose\n"
    result = nlp(echo["code"], "predict", str(echo["generator"]), "-", "--score", stdin=stdin)
    assert result.returncode == 0, result.stderr
    lines = _lines(result.stdout)
    assert [line["id"] for line in lines] == ["stdin-1", "stdin-2"]
    assert [line["tokens"] for line in lines] == [5, 3]
    assert [line["log_likelihood"] for line in lines] == [-10.0, -6.0]


def test_an_option_the_model_does_not_take_names_it_and_the_ones_it_takes(echo):
    result = nlp(
        echo["code"], "predict", str(echo["headline"]), "--text", "Rates rose", "--top-k", "5"
    )
    assert result.returncode == 2
    assert result.stdout == ""
    [message] = result.stderr.strip().splitlines()
    assert "--top-k" in message and "'echo-headline'" in message
    assert "--strategy, --beam, --max-length" in message
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("flag", "value", "says"),
    [
        ("--top-p", "0", "(0, 1]"),
        ("--top-p", "1.5", "(0, 1]"),
        ("--top-p", "-0.2", "(0, 1]"),
        ("--temperature", "0", "above 0"),
        ("--temperature", "-1", "above 0"),
        ("--beam", "0", "at least 1"),
        ("--max-length", "0", "at least 1"),
        ("--top-k", "-1", "at least 0"),
        ("--no-repeat-ngram", "-2", "at least 0"),
        ("--length-penalty", "-0.5", "at least 0"),
    ],
)
def test_an_invalid_value_is_one_line_and_exit_2(echo, flag, value, says):
    args = ["predict", str(echo["generator"]), "--text", "The central bank", flag, value]
    result = nlp(echo["code"], *args)
    assert result.returncode == 2, result.stdout
    [message] = result.stderr.strip().splitlines()
    assert message.startswith(f"error: {flag} {value}")
    assert says in message
    assert "Traceback" not in result.stderr


def test_the_python_api_checks_options_the_same_way():
    class Generator:
        model = "lm"
        predict_options = ("top_p", "max_length")

    assert check_predict_options(Generator(), {"top_p": 0.5}) == {"top_p": 0.5}
    with pytest.raises(PredictOptionError, match=r"top_p 2: must be in \(0, 1\]"):
        check_predict_options(Generator(), {"top_p": 2})
    with pytest.raises(PredictOptionError, match="beam: the 'lm' model does not take"):
        check_predict_options(Generator(), {"beam": 2})
