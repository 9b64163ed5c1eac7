"""The `text` reader on real files: modes, folders, globs, compression, encodings and bad input."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import os
import pathlib
import shutil
import tempfile
import time
import tracemalloc

import pytest

from corpora import TextReader
from pipeline.document import Document

NEWS = (
    "Storm warnings were issued for the north coast on Sunday.\n"
    "Ferries stayed in port while crews checked the sea walls.\n"
    "\n"
    "Schools will open as usual on Monday, the council said.\n"
)


def write(path, data: bytes | str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return str(path)


def test_file_mode_one_document_per_file_in_sorted_order(tmp_path, split):
    write(tmp_path / "b.txt", "Second file.")
    write(tmp_path / "a.txt", NEWS)
    write(tmp_path / "sub" / "c.txt", "Nested file.")
    write(tmp_path / ".hidden.txt", "never read")

    docs, rejected = split(TextReader(path=str(tmp_path)).read())

    assert rejected == []
    assert [d.id for d in docs] == ["a.txt", "b.txt", "sub/c.txt"]
    assert docs[0].text == NEWS
    assert docs[2].meta["source"] == (tmp_path / "sub" / "c.txt").as_posix()


def test_line_mode_skips_blank_lines_and_numbers_lines_from_one(tmp_path, split):
    path = write(tmp_path / "news.txt", NEWS.replace("\n", "\r\n"))

    docs, rejected = split(TextReader(path=path, mode="line").read())

    assert rejected == []
    assert [d.id for d in docs] == ["news.txt:1", "news.txt:2", "news.txt:4"]
    assert [d.meta["line"] for d in docs] == [1, 2, 4]
    assert docs[2].text == "Schools will open as usual on Monday, the council said."


def test_paragraph_mode_splits_on_blank_lines(tmp_path, split):
    path = write(tmp_path / "news.txt", "\n\n" + NEWS + "   \n\nLast paragraph,\non two lines.")

    docs, rejected = split(TextReader(path=path, mode="paragraph").read())

    assert rejected == []
    assert [d.id for d in docs] == ["news.txt:3", "news.txt:6", "news.txt:9"]
    assert docs[0].text == NEWS.split("\n\n")[0]
    assert docs[2].text == "Last paragraph,\non two lines."


def test_symlinked_folders_are_followed_once_and_loops_stop(tmp_path, split):
    write(tmp_path / "shared" / "note.txt", "Shared note.")
    corpus = tmp_path / "corpus"
    write(corpus / "own.txt", "Own note.")
    os.symlink(tmp_path / "shared", corpus / "linked")
    os.symlink(corpus, corpus / "loop")

    docs, rejected = split(TextReader(path=str(corpus)).read())

    assert rejected == []
    assert [d.id for d in docs] == ["linked/note.txt", "own.txt"]


def test_glob_with_double_star_ids_relative_to_glob_root(tmp_path, split):
    write(tmp_path / "2024" / "01" / "a.txt", "January.")
    write(tmp_path / "2024" / "02" / "b.txt", "February.")
    write(tmp_path / "2024" / "02" / "notes.md", "not matched")

    docs, _ = split(TextReader(path=f"{tmp_path}/**/*.txt").read())

    assert [d.id for d in docs] == ["2024/01/a.txt", "2024/02/b.txt"]


def test_gzip_and_bz2_are_read_transparently(tmp_path, split):
    write(tmp_path / "a.txt.gz", gzip.compress(NEWS.encode()))
    write(tmp_path / "b.txt.bz2", bz2.compress(NEWS.encode()))

    docs, rejected = split(TextReader(path=str(tmp_path), mode="line").read())

    assert rejected == []
    assert len(docs) == 6
    assert {d.text for d in docs} == {line for line in NEWS.splitlines() if line}


def test_truncated_gzip_keeps_lines_before_the_damage_and_rejects_the_rest(tmp_path, split):
    lines = "".join(f"Line number {i} of a long report.\n" for i in range(5000))
    data = gzip.compress(lines.encode())
    write(tmp_path / "cut.txt.gz", data[: len(data) // 2])

    docs, rejected = split(TextReader(path=str(tmp_path), mode="line").read())

    assert 0 < len(docs) < 5000
    assert len(rejected) == 1
    assert "truncated" in rejected[0].reason
    assert rejected[0].position == len(docs) + 1  # the first line that could not be read
    assert docs[-1].text == f"Line number {len(docs) - 1} of a long report."


def test_corrupt_gzip_rejects_the_file(tmp_path, split):
    write(tmp_path / "bad.txt.gz", b"this is not gzip data at all")

    docs, rejected = split(TextReader(path=str(tmp_path)).read())

    assert docs == []
    assert len(rejected) == 1
    assert rejected[0].position is None
    assert "gzip" in rejected[0].reason


def test_undecodable_bytes_name_encoding_and_byte_offset(tmp_path, split):
    data = b"First line is fine.\nCaf\xe9 au lait.\nThird line.\n"
    path = write(tmp_path / "latin.txt", data)

    _, rejected = split(TextReader(path=path).read())
    assert len(rejected) == 1
    assert rejected[0].position is None
    assert "utf-8" in rejected[0].reason and "byte offset 23" in rejected[0].reason
    assert "line 2" in rejected[0].reason

    docs, rejected = split(TextReader(path=path, mode="line").read())
    assert [d.text for d in docs] == ["First line is fine.", "Third line."]
    assert [(r.position, r.id) for r in rejected] == [(2, "latin.txt:2")]
    assert "byte offset 23" in rejected[0].reason

    docs, rejected = split(TextReader(path=path, encoding="latin-1", mode="line").read())
    assert rejected == [] and docs[1].text == "Café au lait."


def test_paragraph_with_an_undecodable_line_is_rejected_whole(tmp_path, split):
    path = write(
        tmp_path / "p.txt", b"Good paragraph.\n\nBad \xff line\nin this one.\n\nGood again.\n"
    )

    docs, rejected = split(TextReader(path=path, mode="paragraph").read())

    assert [d.text for d in docs] == ["Good paragraph.", "Good again."]
    assert [(r.position, r.id) for r in rejected] == [(3, "p.txt:3")]


def test_auto_encoding_detects_legacy_encodings(tmp_path, split):
    text = (
        "À la fête du village, les enfants ont goûté des crêpes et des gâteaux. Le maire a remercié "
        "les bénévoles : « Merci à tous pour cette très belle journée ! » Ensuite, la chorale a chanté "
        "près de l'église, où l'on a aussi vu des élèves déguisés en chevaliers."
    )
    write(tmp_path / "fr.txt", text.encode("cp1252"))
    write(tmp_path / "ru.txt", "Новости Оренбурга и области: погода на неделю. ".encode("utf-16"))

    docs, rejected = split(TextReader(path=str(tmp_path), encoding="auto").read())

    assert rejected == []
    assert [d.text for d in docs] == [text, "Новости Оренбурга и области: погода на неделю. "]


def test_utf8_byte_order_mark_is_dropped(tmp_path, split):
    path = write(tmp_path / "bom.txt", b"\xef\xbb\xbfHello.\nWorld.\n")

    (doc,), _ = split(TextReader(path=path).read())
    lines, _ = split(TextReader(path=path, mode="line").read())

    assert doc.text == "Hello.\nWorld.\n"
    assert lines[0].text == "Hello."


@pytest.mark.parametrize("mode", ["file", "line", "paragraph"])
def test_binary_files_are_rejected_whole(tmp_path, split, mode):
    write(tmp_path / "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    write(tmp_path / "controls.txt", bytes([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16, 17]) * 50)

    docs, rejected = split(TextReader(path=str(tmp_path), mode=mode, encoding="utf-8").read())

    assert docs == []
    assert sorted((r.source.rsplit("/", 1)[-1], r.position) for r in rejected) == [
        ("controls.txt", None),
        ("image.txt", None),
    ]
    assert all(r.reason.startswith("binary file") for r in rejected)


def test_nul_byte_after_the_sniffed_start_rejects_only_that_line(tmp_path, split):
    path = write(tmp_path / "late.txt", b"plain text line\n" * 1000 + b"bad \x00 line\nlast line\n")

    docs, rejected = split(TextReader(path=path, mode="line").read())

    assert len(docs) == 1001
    assert [r.position for r in rejected] == [1001]
    assert "NUL" in rejected[0].reason


def test_broken_symlink_is_rejected_not_raised(tmp_path, split):
    write(tmp_path / "ok.txt", "Fine.")
    os.symlink(tmp_path / "missing.txt", tmp_path / "broken.txt")

    docs, rejected = split(TextReader(path=f"{tmp_path}/*.txt").read())

    assert [d.id for d in docs] == ["ok.txt"]
    assert len(rejected) == 1 and "cannot read" in rejected[0].reason


@contextlib.contextmanager
def unprivileged():
    """Run the block without root's power to read any file (as `nobody`), when running as root."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)


def test_unreadable_file_is_rejected_with_permission_denied(split):
    # A world-searchable folder of our own: pytest's tmp_path is private to root.
    folder = tempfile.mkdtemp(prefix="corpora-perm-")
    try:
        os.chmod(folder, 0o755)
        write(pathlib.Path(folder) / "public.txt", "Anyone may read this.")
        secret = write(pathlib.Path(folder) / "secret.txt", "Nobody may read this.")
        os.chmod(secret, 0)
        with unprivileged():
            docs, rejected = split(TextReader(path=folder).read())
    finally:
        shutil.rmtree(folder)
    assert [d.id for d in docs] == ["public.txt"]
    assert [(r.source.rsplit("/", 1)[-1], r.position) for r in rejected] == [("secret.txt", None)]
    assert rejected[0].reason == "cannot read file: permission denied"


def test_missing_path_and_unknown_encoding_raise_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list(TextReader(path=str(tmp_path / "nope")).read())
    with pytest.raises(FileNotFoundError, match="matches no files"):
        list(TextReader(path=f"{tmp_path}/*.txt").read())
    write(tmp_path / "a.txt", "x")
    with pytest.raises(ValueError, match="unknown encoding 'utf-9'"):
        list(TextReader(path=str(tmp_path), encoding="utf-9").read())


def test_reads_are_deterministic_and_count_matches_in_file_mode(tmp_path):
    for name in ["z.txt", "m.txt", "a/b.txt", "a/a.txt"]:
        write(tmp_path / name, f"Text of {name}.\n\nSecond paragraph of {name}.")
    for mode in ["file", "line", "paragraph"]:
        reader = TextReader(path=str(tmp_path), mode=mode)
        first = [(d.id, d.text) for d in reader.read()]
        assert first == [(d.id, d.text) for d in reader.read()]
    reader = TextReader(path=str(tmp_path))
    assert reader.count() == len(list(reader.read())) == 4
    assert TextReader(path=str(tmp_path), mode="line").count() is None


def test_line_mode_streams_without_holding_the_file(tmp_path):
    line = "A steady stream of words that goes on and on, line after line.\n"
    path = write(tmp_path / "big.txt", line * 60_000)  # about 4 MB
    reader = TextReader(path=path, mode="line")

    tracemalloc.start()
    started = time.perf_counter()
    count = sum(1 for item in reader.read() if isinstance(item, Document))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert count == 60_000
    assert peak < 1_000_000, f"peak {peak} bytes: the reader seems to hold the file"
    assert time.perf_counter() - started < 10
