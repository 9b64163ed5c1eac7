"""The seq2seq task on real AG News pairs (description -> title): attention, decoding,
copying, overfitting, missing targets, save/load and a run through the engine."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from components.models.seq2seq import Seq2SeqTask, target_tokens, teacher_forcing_ratio
from pipeline import Pipeline
from pipeline.config import ConfigError
from pipeline.document import Document

STAGES = [{"tokenize": {"backend": "regex"}}]
TINY = {"embed_dim": 32, "hidden_size": 64, "dropout": 0.0, "max_source": 40}


def make_docs(rows: list[dict[str, str]], titles: bool = True) -> list[Document]:
    """The rows' descriptions as tokenized documents, with `meta["title"]` when `titles`."""
    docs = []
    for row in rows:
        doc = Document.from_text(row["description"])
        if titles:
            doc.meta["title"] = row["title"]
        docs.append(doc)
    return list(Pipeline.from_config({"stages": STAGES}).pipe(docs))


@pytest.fixture(scope="module")
def extractive_rows(ag_rows) -> list[dict[str, str]]:
    """Six real pairs with short descriptions whose title words all occur in the
    description, so a copying model can reproduce each title from its source alone."""
    picked = []
    for row in ag_rows:
        title, source = target_tokens(row["title"]), target_tokens(row["description"])
        if 3 <= len(title) <= 7 and len(source) <= 30 and set(title) <= set(source):
            picked.append(row)
        if len(picked) == 6:
            return picked
    pytest.skip("not enough short extractive AG News pairs")


@pytest.fixture(scope="module")
def overfitted(tmp_path_factory, extractive_rows) -> tuple[Seq2SeqTask, list[Document], Path]:
    """A copy model trained on the six pairs (no held-out part) with a vocabulary of 30
    words, so most title words (names included) are outside it and must be copied."""
    import torch

    torch.set_num_threads(1)
    docs = make_docs(extractive_rows)
    folder = tmp_path_factory.mktemp("overfit") / "tasks" / "headline"
    folder.mkdir(parents=True)
    task = Seq2SeqTask(
        **TINY,
        copy=True,
        max_vocab=30,
        epochs=60,
        lr=0.02,
        patience=0,
        split={"test": 0.0, "validation": 0.0},
        seed=3,
    )
    task.fit(docs, folder)
    task.save(folder)
    return task, docs, folder


def test_attention_weights_sum_to_one_over_the_real_source_positions(ag_rows):
    import torch

    from components.models.seq2seq_data import BOS_ID, encode_source
    from components.models.seq2seq_network import Seq2SeqNetwork
    from components.models.vocab import Vocabulary

    sources = [target_tokens(r["description"]) for r in ag_rows[:3]]
    vocab = Vocabulary.build(sources)
    encoded = [encode_source(s, vocab.index, len(vocab)) for s in sources]
    lengths = torch.tensor([len(e[0]) for e in encoded])
    assert len(set(lengths.tolist())) > 1  # padding is there
    ids = torch.zeros(3, int(lengths.max()), dtype=torch.long)
    for r, (s, _, _) in enumerate(encoded):
        ids[r, : len(s)] = torch.tensor(s)
    for attention in ("bahdanau", "dot", "general"):
        torch.manual_seed(0)
        net = Seq2SeqNetwork(
            vocab_size=len(vocab), embed_dim=16, hidden_size=32, attention=attention, coverage=True
        )
        state = net.encode(ids, lengths, ids)
        for _ in range(3):
            _, state = net.step(torch.full((3,), BOS_ID), state)
            weights = state["attention"]
            assert torch.allclose(weights.sum(dim=-1), torch.ones(3), atol=1e-6)
            assert (weights[~state["mask"]] == 0).all()
            assert (weights[state["mask"]] > 0).all()


def test_coverage_loss_is_added_to_the_training_rows_only(ag_rows):
    import torch

    from components.models.seq2seq_data import pair_batches
    from components.models.seq2seq_network import Seq2SeqNetwork
    from components.models.vocab import Vocabulary

    docs = [(target_tokens(r["description"]), target_tokens(r["title"])) for r in ag_rows[:4]]
    vocab = Vocabulary(
        ["<s>", "</s>", *Vocabulary.build(w for pair in docs for w in pair).words[2:]]
    )
    pairs = SimpleNamespace(sources=[s for s, _ in docs], targets=[t for _, t in docs])
    batch = next(
        iter(
            pair_batches(
                pairs, range(4), vocab.index, copy=False, batch_size=4, shuffle=False, seed=0
            )
        )
    )
    torch.manual_seed(0)
    net = Seq2SeqNetwork(
        vocab_size=len(vocab),
        embed_dim=16,
        hidden_size=32,
        coverage=True,
        coverage_weight=2.0,
        dropout=0.0,
    )
    with torch.no_grad():
        train_rows = net.train()(*batch.inputs)
        eval_rows = net.eval()(*batch.inputs)
    assert train_rows.shape[1] == eval_rows.shape[1] + 1 == len(vocab) + 1
    assert torch.allclose(train_rows[:, :-1], eval_rows, atol=1e-6)
    extra = torch.logsumexp(train_rows, dim=-1)  # rows are normalized: what the column adds
    assert (extra >= 0).all() and extra.max() > 0.01
    loss = torch.nn.functional.cross_entropy(train_rows, batch.target)
    nll = torch.nn.functional.cross_entropy(eval_rows, batch.target)
    assert float(loss) == pytest.approx(float(nll + extra.mean()), rel=1e-5)


def test_teacher_forcing_decays_to_its_floor_by_epoch():
    linear = [
        teacher_forcing_ratio(e, start=1.0, decay="linear", floor=0.5, epochs=5)
        for e in range(1, 6)
    ]
    assert linear == pytest.approx([1.0, 0.875, 0.75, 0.625, 0.5])
    exp = [
        teacher_forcing_ratio(e, start=1.0, decay="exponential", floor=0.25, epochs=3)
        for e in range(1, 4)
    ]
    assert exp == pytest.approx([1.0, 0.5, 0.25])
    assert teacher_forcing_ratio(4, start=0.9, decay="none", floor=0.5, epochs=5) == 0.9


def test_a_model_overfits_a_handful_of_real_pairs(overfitted):
    task, docs, _ = overfitted
    generated = [p["text"] for p in task.predict(docs, strategy="greedy")]
    assert generated == [" ".join(target_tokens(d.meta["title"])) for d in docs]


def test_the_copy_mechanism_produces_source_words_outside_the_vocabulary(overfitted):
    task, docs, _ = overfitted
    copied = set()
    for doc, prediction in zip(docs, task.predict(docs, strategy="greedy"), strict=True):
        source = set(target_tokens(doc.text))
        copied |= {
            w for w in prediction["text"].split() if w not in task.vocabulary_ and w in source
        }
    assert copied, "no generated word came from outside the vocabulary"


def test_beam_one_equals_greedy(overfitted, ag_rows):
    task, docs, _ = overfitted
    unseen = make_docs(ag_rows[100:130])
    for batch in (docs, unseen):
        greedy = list(task.predict(batch, strategy="greedy", no_repeat_ngram=2))
        beam = list(task.predict(batch, strategy="beam", beam=1, no_repeat_ngram=2))
        assert greedy == beam


def test_save_then_load_gives_identical_outputs(overfitted, ag_rows):
    task, docs, folder = overfitted
    loaded = Seq2SeqTask.load(folder)
    batch = docs + make_docs(ag_rows[200:210])
    for strategy in ("greedy", "beam"):
        assert list(loaded.predict(batch, strategy=strategy)) == list(
            task.predict(batch, strategy=strategy)
        )


def test_missing_targets_are_counted_and_still_predicted(tmp_path, ag_rows):
    rows = ag_rows[300:330]
    docs = make_docs(rows)
    for doc in docs[:4]:
        del doc.meta["title"]
    docs[4].meta["title"] = ""
    docs[5].meta["title"] = "   "
    folder = tmp_path / "tasks" / "headline"
    folder.mkdir(parents=True)
    Seq2SeqTask(**TINY, epochs=1, seed=1).fit(docs, folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["without_target"] == 6
    assert metrics["documents"] == 30
    assert sum(metrics["split"]["sizes"].values()) == 24
    lines = [json.loads(x) for x in (folder / "predictions.jsonl").read_text().splitlines()]
    assert [x["id"] for x in lines] == [d.id for d in docs]
    assert {x["split"] for x in lines[:6]} == {"no_target"}


def test_a_gru_with_luong_attention_and_decaying_teacher_forcing_trains(tmp_path, ag_rows):
    docs = make_docs(ag_rows[400:440])
    docs[0].meta["title"] = ""
    folder = tmp_path / "tasks" / "headline"
    folder.mkdir(parents=True)
    task = Seq2SeqTask(
        **TINY,
        cell="gru",
        attention="general",
        bidirectional=False,
        coverage=True,
        teacher_forcing=1.0,
        teacher_forcing_decay="linear",
        teacher_forcing_floor=0.5,
        epochs=2,
        patience=0,
        predictions="held_out",
    )
    task.fit(docs, folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["teacher_forcing"] == [1.0, 0.5]
    assert task.network_.teacher_forcing == 0.5  # set after each epoch for the next one
    lines = [json.loads(x) for x in (folder / "predictions.jsonl").read_text().splitlines()]
    assert {x["split"] for x in lines} == {"test", "no_target"}
    assert len(lines) == metrics["split"]["sizes"]["test"] + 1


def test_no_document_with_a_target_is_a_config_error_naming_the_key(tmp_path, ag_rows):
    docs = make_docs(ag_rows[:10], titles=False)
    folder = tmp_path / "tasks" / "headline"
    folder.mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"tasks\.headline\.target"):
        Seq2SeqTask(**TINY, epochs=1).fit(docs, folder)


def test_bad_settings_are_refused_with_their_key():
    problems = Seq2SeqTask.check_params({"hidden_size": 33, "teacher_forcing": 1.5, "beam": 0})
    assert any(p.startswith("hidden_size:") for p in problems)
    assert any(p.startswith("teacher_forcing:") for p in problems)
    assert any(p.startswith("beam:") for p in problems)


@pytest.mark.slow
def test_a_run_with_the_csv_reader_writes_rouge_predictions_and_a_loadable_model(tmp_path, ag_rows):
    import components.models.seq2seq  # noqa: F401 - registers the task until it is listed lazily
    from components.models.predictor import load
    from pipeline.config import resolve_config
    from pipeline.runner import run

    path = tmp_path / "ag.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["label", "title", "description"])
        writer.writeheader()
        writer.writerows(ag_rows[:60])
    config = resolve_config(
        {
            "name": "headlines",
            "corpus": {
                "reader": "csv",
                "path": str(path),
                "text_column": "description",
                "meta_columns": ["title"],
            },
            "stages": STAGES,
            "tasks": {
                "headline": {
                    "model": "seq2seq",
                    "target": "title",
                    "copy": True,
                    "beam": 2,
                    "epochs": 2,
                    **TINY,
                }
            },
            "output": {"dir": str(tmp_path / "run")},
        }
    )
    result = run(config)
    folder = Path(result.run_dir) / "tasks" / "headline"
    metrics = json.loads((folder / "metrics.json").read_text())
    test = metrics["test"]
    assert test["documents"] == metrics["split"]["sizes"]["test"] > 0
    for name in ("greedy", "beam", "lead"):
        assert 0.0 <= test[name]["rouge1"]["f1"] <= 1.0
    assert test["lead"]["rouge1"]["f1"] > 0
    lines = (folder / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 60
    section = json.loads((folder / "report.json").read_text())
    assert section["order"] == 55
    predictor = load(folder)
    texts = [r["description"] for r in ag_rows[400:403]]
    first = predictor.predict(texts)
    assert len(first) == 3 and all(isinstance(p["text"], str) for p in first)
    assert predictor.predict(texts) == first
