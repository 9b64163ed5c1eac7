"""The `lstm-lm` task on gensim's Lee news articles: perplexity, generation, save/load,
fine-tuning from a trained model, bad input and bad options."""

from __future__ import annotations

import json
import random

import pytest

from components.models.language_model import LstmLanguageModelTask, load_language_model
from pipeline import Pipeline
from pipeline.config import ConfigError

TINY = {"embed_dim": 24, "hidden": 24, "layers": 1, "dropout": 0.1, "bptt": 30, "min_count": 2}


@pytest.fixture(scope="module")
def lee_docs(lee_texts):
    """The 300 Lee articles tokenized by the regex tokenizer."""
    nlp = Pipeline.from_config({"stages": [{"tokenize": {"backend": "regex"}}]})
    return list(nlp.pipe(lee_texts))


def tokenized(texts: list[str]):
    nlp = Pipeline.from_config({"stages": [{"tokenize": {"backend": "regex"}}]})
    return list(nlp.pipe(texts))


@pytest.fixture(scope="module")
def tiny(lee_docs, tmp_path_factory):
    """A tiny model trained 2 epochs on 80 articles plus one empty document; its folder."""
    import torch

    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("lm") / "tasks" / "lm"
    docs = [*lee_docs[:80], *tokenized([""])]
    task = LstmLanguageModelTask(**TINY, epochs=2, seed=0).fit(docs, folder)
    task.save(folder)
    return task, folder


def test_fit_writes_perplexity_per_epoch_and_counts_empty_documents(tiny):
    _, folder = tiny
    metrics = json.loads((folder / "metrics.json").read_text())
    history = json.loads((folder / "history.json").read_text())
    assert metrics["documents"] == {"train": 72, "validation": 8, "skipped": {"no tokens": 1}}
    assert len(metrics["val_perplexity"]) == len(history) == 2
    assert all(row["val_perplexity"] > 1 for row in history)
    assert metrics["validation"]["perplexity"] > 1
    lines = (folder / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 81
    assert {"id", "split", "tokens", "log_likelihood"} <= set(json.loads(lines[0]))
    assert json.loads(lines[-1])["skipped"] == "no tokens"


def test_save_load_gives_identical_text_and_scores(tiny, lee_docs):
    task, folder = tiny
    loaded = LstmLanguageModelTask.load(folder)
    prompts = lee_docs[200:203]
    for options in ({"strategy": "greedy"}, {"strategy": "beam", "beam": 3}, {"score": True},
                    {"strategy": "top-p", "top_p": 0.9, "seed": 4}):  # fmt: skip
        assert list(task.predict(prompts, max_length=12, **options)) == list(
            loaded.predict(prompts, max_length=12, **options)
        )
    scores = list(loaded.predict(prompts, score=True))
    assert all(s["tokens"] > 10 and s["log_likelihood"] < 0 for s in scores)


def test_same_seed_same_sample(tiny, lee_docs):
    task, _ = tiny
    prompts = lee_docs[250:254]
    first = list(task.predict(prompts, strategy="sample", temperature=1.2, seed=3))
    assert first == list(task.predict(prompts, strategy="sample", temperature=1.2, seed=3))
    other = list(task.predict(prompts, strategy="sample", temperature=1.2, seed=4))
    assert first != other
    assert all(p["text"] for p in first)


def test_top_k_one_is_greedy(tiny, lee_docs):
    task, _ = tiny
    prompts = lee_docs[260:263]
    greedy = list(task.predict(prompts, strategy="greedy", max_length=15))
    assert list(task.predict(prompts, strategy="top-k", top_k=1, seed=9, max_length=15)) == greedy
    assert list(task.predict(prompts, strategy="beam", beam=1, max_length=15)) == greedy


def test_prompt_of_unknown_words_still_generates(tiny):
    task, _ = tiny
    prompt = tokenized(["Zqxjv Wprtlk Mnbvcxq"])
    for strategy in ("greedy", "beam", "top-p"):
        (out,) = task.predict(prompt, strategy=strategy, top_p=0.9, max_length=10, min_length=3)
        assert len(out["text"].split()) >= 3
    (scored,) = task.predict(prompt, score=True)
    assert scored["tokens"] == 3


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"strategy": "top-p", "top_p": 1.5}, "top_p"),
        ({"strategy": "top-p", "top_p": 0.0}, "top_p"),
        ({"strategy": "sample", "temperature": 0.0}, "temperature"),
        ({"strategy": "nucleus"}, "strategy"),
        ({"strategy": "top-k", "top_k": 0}, "top_k"),
    ],
)
def test_bad_options_raise_a_value_error_naming_them(tiny, lee_docs, options, name):
    task, _ = tiny
    with pytest.raises(ValueError, match=name):
        task.predict(lee_docs[:1], **options)  # raised before any document is read


def test_predict_options_are_declared():
    from pipeline.predict import PREDICT_OPTIONS

    assert set(LstmLanguageModelTask.predict_options) <= set(PREDICT_OPTIONS)


def test_init_from_keeps_known_rows_and_saves_the_mapping(tiny, lee_docs, tmp_path):
    import torch

    torch.set_num_threads(1)
    _, old_folder = tiny
    old_vocab, old_state, old_config = load_language_model(old_folder)
    assert old_config["layers"] == 1 and "lstm.weight_ih_l0" in old_state
    folder = tmp_path / "tasks" / "tuned"
    # lr 0: the weights after one epoch are the starting weights
    task = LstmLanguageModelTask(**TINY, epochs=1, lr=0.0, init_from=str(old_folder), seed=1).fit(
        lee_docs[150:190], folder
    )
    vocab, weights = task.vocab_, task.network_.embedding.weight.detach()
    mapping = json.loads((folder / "vocab_mapping.json").read_text())
    assert mapping["init_vocabulary"] == "union" and mapping["new"] > 0 and mapping["kept"] > 100
    assert vocab.words[: len(old_vocab)] == old_vocab.words  # union: old words keep their ids
    shared = [w for w in old_vocab.words[2:] if w in vocab]
    for word in shared:
        old_row = old_state["embedding.weight"][old_vocab.index[word]]
        assert torch.equal(weights[vocab.index[word]], old_row)
    new_ids = [i for i, o in enumerate(mapping["old_ids"]) if o < 0]
    mean = old_state["embedding.weight"][2:].mean(dim=0)
    assert torch.allclose(weights[new_ids], mean.expand(len(new_ids), -1), atol=0.05)
    assert all(mapping["old_ids"][vocab.index[w]] == old_vocab.index[w] for w in shared)
    # the new corpus' own vocabulary
    only_new = LstmLanguageModelTask(
        **TINY, epochs=1, lr=0.0, init_from=str(old_folder), init_vocabulary="new"
    ).fit(lee_docs[150:190], tmp_path / "tasks" / "new")
    word = next(w for w in only_new.vocab_.words[3:] if w in old_vocab)
    assert torch.equal(
        only_new.network_.embedding.weight.detach()[only_new.vocab_.index[word]],
        old_state["embedding.weight"][old_vocab.index[word]],
    )


def test_config_mistakes_name_the_key(lee_docs, tmp_path):
    with pytest.raises(ConfigError, match=r"tasks\.lm\.init_from"):
        LstmLanguageModelTask(init_from=str(tmp_path)).fit(lee_docs[:5], tmp_path / "tasks" / "lm")
    with pytest.raises(ConfigError, match=r"tasks\.lm\.validation"):
        LstmLanguageModelTask(validation=1.0).fit(lee_docs[:5], tmp_path / "tasks" / "lm")
    with pytest.raises(ConfigError, match="no document has tokens"):
        LstmLanguageModelTask(**TINY).fit(tokenized(["", " "]), tmp_path / "tasks" / "lm")


@pytest.mark.slow
def test_held_out_perplexity_far_below_shuffled_words(lee_docs, tmp_path):
    """A small model trained a few epochs on 250 articles: on the 50 held-out articles its
    perplexity is far below that of the same articles with their words shuffled."""
    import torch

    torch.set_num_threads(1)
    task = LstmLanguageModelTask(
        embed_dim=64, hidden=64, layers=1, dropout=0.2, epochs=4, batch_size=16, lr=5e-3, seed=0
    ).fit(lee_docs[:250], tmp_path / "tasks" / "lm")
    history = json.loads((tmp_path / "tasks" / "lm" / "history.json").read_text())
    assert history[-1]["val_perplexity"] < history[0]["val_perplexity"]
    held = lee_docs[250:]
    real = task.evaluate(held)
    rng = random.Random(0)
    shuffled = []
    for doc in held:
        words = list(doc.tokens.text)
        rng.shuffle(words)
        shuffled.append(words)
    shuffled_docs = tokenized([" ".join(w) for w in shuffled])
    fake = task.evaluate(shuffled_docs)
    assert real["tokens"] == pytest.approx(fake["tokens"], rel=0.02)
    assert real["perplexity"] / fake["perplexity"] < 0.5


def test_continuations_read_as_text():
    from components.models.lm_network import detokenize

    words = ". \" we 're looking ( at ) it , \" he said . she did n't".split()
    assert detokenize(words) == ". \"we're looking (at) it,\" he said. she didn't"


def test_embeddings_start_from_known_word_vectors(lee_docs, tmp_path):
    import numpy as np
    import torch

    from components.models.embeddings import load_word_vectors

    torch.set_num_threads(1)
    task = LstmLanguageModelTask(
        **{**TINY, "embed_dim": 50}, epochs=1, lr=0.0, embeddings="glove-6b-50d"
    ).fit(lee_docs[:30], tmp_path / "tasks" / "lm")
    vectors = load_word_vectors("glove-6b-50d")
    row = task.network_.embedding.weight.detach()[task.vocab_.index["government"]].numpy()
    assert np.allclose(row, vectors["government"])
    with pytest.raises(ConfigError, match=r"tasks\.lm\.embed_dim: 24 .* set embed_dim: 50"):
        LstmLanguageModelTask(**TINY, embeddings="glove-6b-50d").fit(
            lee_docs[:30], tmp_path / "tasks" / "lm"
        )
