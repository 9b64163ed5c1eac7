"""Corpus readers: stream `Document`s (and `Rejected` records) from files, feeds and bundled corpora.

Importing this package registers every reader (`text`, `jsonl`, `csv`, `feeds`, `html`,
`lee-news`, `lee-test`, `pang-lee-polarity`, `table`); the engine finds it through the
`nlp_pipeline.components` entry point. `FileReader` is the base of the readers of files:
a new one declares `suffixes` and implements `read_file(corpus_file)`.
"""

from .csv_rows import CsvReader
from .feeds import FeedReader
from .file_reader import FileReader
from .gensim_data import LeeNewsReader, LeeTestReader, PangLeePolarityReader
from .html_pages import HtmlReader
from .jsonl import JsonlReader
from .newsgroups import MiniNewsgroupsReader
from .table import TableReader
from .text import TextReader

__all__ = [
    "CsvReader",
    "FeedReader",
    "FileReader",
    "HtmlReader",
    "JsonlReader",
    "LeeNewsReader",
    "LeeTestReader",
    "MiniNewsgroupsReader",
    "PangLeePolarityReader",
    "TableReader",
    "TextReader",
]
