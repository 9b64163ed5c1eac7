"""What the engine relies on from every reader: registration, typed parameters, streaming, determinism."""

from __future__ import annotations

import gzip
import inspect
import json
import shutil
import typing
from pathlib import Path

import pydantic
import pytest

import corpora
from corpora import FileReader
from pipeline.document import Document, Rejected
from pipeline.registry import describe, lookup, names
from pipeline.stage import Reader

FILE_READERS = ["text", "jsonl", "csv", "feeds", "html"]
READERS = [*FILE_READERS, "lee-news", "lee-test", "pang-lee-polarity"]
SECOND_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Harbour Notes</title><link>https://harbour.example.org/</link>
<item><title>Ferry timetable changes on Sunday</title><guid>harbour-0001</guid>
<description>The early ferry leaves at seven, not six, from next week.</description></item>
</channel></rss>
"""


def reader_config(name: str, folder: Path) -> dict[str, typing.Any]:
    """Parameters that make each reader read a small real corpus written to `folder`.

    Every file reader gets two files, so that skipping and rejecting one can be seen.
    """
    if name == "text":
        (folder / "a.txt").write_text("First paragraph.\n\nSecond paragraph.\n")
        (folder / "b.txt").write_text("Another file.\n")
        return {"path": str(folder / "*.txt*"), "mode": "paragraph"}
    if name == "jsonl":
        (folder / "a.jsonl").write_text(
            json.dumps({"text": "One."}) + "\n" + json.dumps({"text": "Two."}) + "\n"
        )
        (folder / "b.jsonl").write_text(json.dumps({"text": "Three."}) + "\n")
        return {"path": str(folder), "id_field": None}
    if name == "csv":
        (folder / "a.csv").write_text("text,label\nOne.,x\nTwo.,y\n")
        (folder / "b.csv").write_text("text,label\nThree.,z\n")
        return {"path": str(folder), "label_column": "label"}
    if name == "feeds":
        shutil.copy(Path(corpora.__file__).parent / "samples" / "sample_feed.xml", folder)
        (folder / "the-harbour.rss").write_text(SECOND_FEED)
        return {"path": str(folder)}
    if name == "html":
        (folder / "a.html").write_text(
            "<html><body><p>A short page about the harbour.</p></body></html>"
        )
        (folder / "b.html").write_text(
            "<html><body><p>Another page about the market.</p></body></html>"
        )
        return {"path": str(folder)}
    return {}


def _summary(item: Document | Rejected) -> tuple[typing.Any, ...]:
    """What a user sees of an item: kind, id, text, source, and for a rejection where and why."""
    if isinstance(item, Document):
        return ("Document", item.id, item.text, item.meta["source"])
    return ("Rejected", item.id, None, item.source, item.position, item.reason)


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


@pytest.mark.parametrize("name", FILE_READERS)
def test_file_readers_declare_their_suffixes_and_read_one_file_at_a_time(name, tmp_path):
    cls = lookup("reader", name)
    assert issubclass(cls, FileReader)
    assert cls.read_file is not FileReader.read_file
    assert cls.suffixes is None or all(s.startswith(".") for s in cls.suffixes)
    config = reader_config(name, tmp_path)
    (tmp_path / "notes.bak").write_text("Not part of the corpus.\n")
    items = [_summary(x) for x in cls(**config).read()]
    sources = list(dict.fromkeys(item[3] for item in items))
    assert sources == sorted(sources) and len(sources) == 2  # one file after the other, in order
    if cls.suffixes is not None:
        assert not any(source.endswith(".bak") for source in sources)


@pytest.mark.parametrize("name", FILE_READERS)
def test_read_skipping_asks_once_per_file_and_leaves_out_what_it_skips(name, tmp_path):
    reader = lookup("reader", name)(**reader_config(name, tmp_path))
    everything = [_summary(x) for x in reader.read()]
    asked: list[str] = []

    def skip_the_first(path):
        asked.append(path.as_posix())
        return len(asked) == 1

    kept = [_summary(x) for x in reader.read_skipping(skip_the_first)]
    assert len(asked) == len(set(asked)) == 2
    assert {item[3] for item in everything} == set(asked)
    assert kept == [item for item in everything if item[3] != asked[0]]
    assert list(reader.read_skipping(lambda path: True)) == []


@pytest.mark.parametrize("name", FILE_READERS)
def test_unreadable_and_truncated_files_become_rejections_and_reading_goes_on(name, tmp_path):
    cls = lookup("reader", name)
    config = reader_config(name, tmp_path)
    good = [_summary(x) for x in cls(**config).read()]
    suffix = (cls.suffixes or (".txt",))[0]
    first_file = sorted(p for p in tmp_path.iterdir() if p.name.endswith(suffix))[0]
    broken = tmp_path / f"0-broken{suffix}"
    broken.symlink_to(tmp_path / "nowhere")
    cut = tmp_path / f"0-cut{suffix}.gz"
    whole = gzip.compress(first_file.read_bytes())
    cut.write_bytes(whole[: len(whole) // 2])

    items = [_summary(x) for x in cls(**config).read()]

    assert items[0][:2] == ("Rejected", None) and items[0][3:5] == (broken.as_posix(), None)
    assert items[0][5].startswith("cannot read file: it does not exist")
    from_cut = [item for item in items if item[3] == cut.as_posix()]
    assert from_cut and from_cut[-1][0] == "Rejected"
    assert from_cut[-1][-1].startswith("truncated compressed file")
    assert items[1 + len(from_cut) :] == good
