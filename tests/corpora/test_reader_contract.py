"""What the engine relies on from every reader: registration, typed parameters, streaming, determinism."""

from __future__ import annotations

import inspect
import json
import typing
from pathlib import Path

import pydantic
import pytest

import corpora
from pipeline.document import Document, Rejected
from pipeline.registry import describe, lookup, names
from pipeline.stage import Reader

READERS = ["text", "jsonl", "csv", "feeds", "html", "lee-news", "lee-test", "pang-lee-polarity"]


def reader_config(name: str, folder: Path) -> dict[str, typing.Any]:
    """Parameters that make each reader read a small real corpus written to `folder`."""
    if name == "text":
        (folder / "a.txt").write_text("First paragraph.\n\nSecond paragraph.\n")
        (folder / "b.txt").write_text("Another file.\n")
        return {"path": str(folder / "*.txt"), "mode": "paragraph"}
    if name == "jsonl":
        (folder / "a.jsonl").write_text(
            json.dumps({"text": "One."}) + "\n" + json.dumps({"text": "Two."}) + "\n"
        )
        return {"path": str(folder / "a.jsonl"), "id_field": None}
    if name == "csv":
        (folder / "a.csv").write_text("text,label\nOne.,x\nTwo.,y\n")
        return {"path": str(folder / "a.csv"), "label_column": "label"}
    if name == "feeds":
        return {"path": str(Path(corpora.__file__).parent / "samples" / "sample_feed.xml")}
    if name == "html":
        (folder / "a.html").write_text(
            "<html><body><p>A short page about the harbour.</p></body></html>"
        )
        (folder / "b.html").write_text(
            "<html><body><p>Another page about the market.</p></body></html>"
        )
        return {"path": str(folder)}
    return {}


def test_importing_corpora_registers_every_reader():
    assert set(READERS) <= set(names("reader"))
    for name in READERS:
        cls = lookup("reader", name)
        assert issubclass(cls, Reader) and cls.name == name and cls.kind == "reader"
        assert cls.__module__.startswith("corpora.")


@pytest.mark.parametrize("name", READERS)
def test_parameters_are_typed_keyword_only_and_validate_with_pydantic(name):
    cls = lookup("reader", name)
    hints = typing.get_type_hints(cls.__init__, include_extras=True)
    params = [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]
    assert all(p.kind is p.KEYWORD_ONLY for p in params)
    fields = {}
    for p in params:
        assert p.name in hints, f"{name}.{p.name} has no type annotation"
        default = ... if p.default is p.empty else p.default
        fields[p.name] = (hints[p.name], default)
    model = pydantic.create_model(f"{cls.__name__}Params", **fields)
    defaults = {p.name: p.default for p in params if p.default is not p.empty}
    required = {p.name: "x" for p in params if p.default is p.empty}
    assert model(**required).model_dump() == {**defaults, **required}
    summary = describe(cls)["summary"]
    assert summary and len(summary) < 120


def test_pydantic_rejects_bad_choices_and_ranges():
    def model(name):
        cls = lookup("reader", name)
        hints = typing.get_type_hints(cls.__init__, include_extras=True)
        sig = inspect.signature(cls.__init__).parameters
        fields = {
            k: (hints[k], ... if sig[k].default is sig[k].empty else sig[k].default)
            for k in hints
            if k != "return"
        }
        return pydantic.create_model(f"{cls.__name__}Params", **fields)

    with pytest.raises(pydantic.ValidationError):
        model("text")(path="x", mode="sentence")
    with pytest.raises(pydantic.ValidationError):
        model("feeds")(path="x", max_file_bytes=0)
    assert model("csv")(path="x", text_column=["title", "description"]).text_column == [
        "title",
        "description",
    ]


@pytest.mark.parametrize("name", READERS)
def test_constructor_only_stores_its_parameters(name, tmp_path):
    cls = lookup("reader", name)
    config = reader_config(name, tmp_path)
    reader = cls(**config)
    assert reader.get_params() == {**reader.get_params(), **config}
    assert vars(reader) == reader.get_params()
    # a missing path is not an error until read() runs
    if "path" in config:
        cls(path=str(tmp_path / "does-not-exist"))


@pytest.mark.parametrize("name", READERS)
def test_read_streams_and_restarts_with_the_same_order_and_ids(name, tmp_path):
    reader = lookup("reader", name)(**reader_config(name, tmp_path))

    stream = reader.read()
    assert inspect.isgenerator(stream)
    first = next(stream)
    assert isinstance(first, Document | Rejected)

    one = [(type(x).__name__, x.id, getattr(x, "text", None)) for x in reader.read()]
    two = [(type(x).__name__, x.id, getattr(x, "text", None)) for x in reader]
    assert one == two and len(one) >= 2
    assert one[0][1] == first.id
    ids = [i for kind, i, _ in one if kind == "Document"]
    assert len(ids) == len(set(ids))
    count = reader.count()
    assert count is None or count == len(one)
