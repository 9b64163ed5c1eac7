"""The feature rows of the clustering tasks: TF-IDF, the run's document vectors, or table rows.

`ClusterFeatures` turns the run's documents into one row per document that has features
(recording which do in a `ClusterData`), turns a new document into a row the same way,
and saves / loads what it learned with plain files (the TF-IDF learner's own folder, the
document-vector learner's, or skops for the fitted tabular feature steps: no pickle).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from pipeline.config import ConfigError
from pipeline.document import Document

from ..represent.tokens import Field
from .base import document_tokens, write_json

__all__ = ["ClusterData", "ClusterFeatures", "Features"]

Features = Literal["tfidf", "docvectors"] | dict[str, Any]
FEATURES_FILE = "features.skops"  # the fitted tabular feature steps (skops: no pickle)
COLUMNS_FILE = "columns.json"
# beyond skops' own trusted set: the tabular feature steps' own classes, nothing else
TRUSTED_TYPES = [
    "components.ml.tabular_steps.ColumnsOfKind",
    "components.ml.tabular_steps.DateParts",
    "components.ml.tabular_steps.OutlierTreatment",
    "numpy.dtype",
]


class ClusterData:
    """What a clustering task keeps of the corpus: every document's id, label (the meta key
    `label_key`) and title, which documents have a feature row (`rows`: their positions),
    why the others have none (`skipped`), and a table's rows as a frame (tables only)."""

    def __init__(self, label_key: str) -> None:
        self.label_key = label_key
        self.ids: list[str] = []
        self.truth: list[str | None] = []
        self.titles: list[str] = []
        self.rows: list[int] = []
        self.skipped: Counter[str] = Counter()
        self.frame: Any = None

    def add(self, doc: Document) -> int:
        """Record `doc`; return its position."""
        label = doc.meta.get(self.label_key)
        self.ids.append(doc.id)
        self.truth.append(None if label is None else str(label))
        title = str(doc.meta.get("title") or doc.text.strip().split("\n", 1)[0] or doc.id)
        self.titles.append(title if len(title) <= 70 else title[:67] + "...")
        return len(self.ids) - 1


class ClusterFeatures:
    """Feature rows for clustering. `features`: "tfidf" (sublinear TF-IDF, l2-normalized
    rows, of the tokens chosen by `field`, `drop_stop`, `min_df`, `max_features`),
    "docvectors" (the run's fitted learner) or `{table: FEATURES_SPEC}` (the tabular
    feature steps of `components.ml.tabular` over `meta["row"]`)."""

    def __init__(
        self,
        *,
        features: Features,
        field: Field,
        drop_stop: bool,
        min_df: int,
        max_features: int | None,
    ):
        self.features = features
        self.field = field
        self.drop_stop = drop_stop
        self.min_df = min_df
        self.max_features = max_features

    @property
    def kind(self) -> str:
        """ "tfidf", "docvectors" or "table"."""
        return "table" if isinstance(self.features, Mapping) else str(self.features)

    def fit_matrix(
        self, corpus: Iterable[Document], data: ClusterData, run_dir: Path | None, where: str
    ) -> Any:
        """Learn the features over `corpus` (one pass) and return the rows of the documents
        that have features (their positions in `data.rows`, the others counted as skipped)."""
        if self.kind == "table":
            return self._table(corpus, data, where)
        if self.kind == "docvectors":
            return self._docvectors(corpus, data, run_dir, where)
        return self._tfidf(corpus, data, where)

    def _tfidf(self, corpus: Iterable[Document], data: ClusterData, where: str) -> Any:
        import scipy.sparse as sp

        from ..represent.tfidf import TfIdf

        def token_lists() -> Iterator[list[str]]:
            for doc in corpus:
                position = data.add(doc)
                tokens = document_tokens(
                    doc, field=self.field, drop_stop=self.drop_stop, where=where
                )
                if not tokens:
                    data.skipped["empty"] += 1
                    continue
                data.rows.append(position)
                yield tokens

        self.tfidf_: Any = TfIdf(
            min_df=self.min_df, max_features=self.max_features, sublinear_tf=True, norm="l2"
        )
        stream = token_lists()
        first = next(stream, None)
        if first is None:
            self.tfidf_ = None
            return sp.csr_matrix((0, 0))
        matrix = self.tfidf_.fit_transform(_chain(first, stream)).tocsr()
        self.terms_ = [str(t) for t in self.tfidf_.get_feature_names_out()]
        return matrix

    def _docvectors(
        self, corpus: Iterable[Document], data: ClusterData, run_dir: Path | None, where: str
    ) -> np.ndarray:
        folder = None if run_dir is None else run_dir / "represent" / "docvectors"
        if folder is None or not (folder / "learner.json").is_file():
            raise ConfigError(
                f"{where}.features: 'docvectors' clusters the run's document vectors, and this "
                "run has none: add `docvectors: {vectors: glove-6b-50d}` under `represent:` "
                "(or use features: tfidf)"
            )
        from ..represent.docvectors import DocVectors

        self.docvectors_ = DocVectors.load(folder)
        blocks, batch, positions = [], [], []
        for doc in corpus:
            positions.append(data.add(doc))
            batch.append(doc)
            if len(batch) == 512:
                blocks.append(self.docvectors_.transform(batch))
                batch = []
        if batch:
            blocks.append(self.docvectors_.transform(batch))
        matrix = np.concatenate(blocks) if blocks else np.zeros((0, 1))
        keep = np.linalg.norm(matrix, axis=1) > 0
        data.skipped["no_vector"] += int((~keep).sum())
        data.rows = [p for p, k in zip(positions, keep, strict=True) if k]
        return np.asarray(matrix[keep], dtype=np.float64)

    def _table(self, corpus: Iterable[Document], data: ClusterData, where: str) -> np.ndarray:
        from ..ml.tabular import build_features, features_summary, rows_frame

        docs = []
        for doc in corpus:
            position = data.add(doc)
            if not isinstance(doc.meta.get("row"), Mapping):
                data.skipped["no_row"] += 1
                continue
            data.rows.append(position)
            docs.append(doc)
        if not docs:
            raise ConfigError(
                f"{where}.features: table features need documents read by the `table` reader "
                "(their meta['row']), and none of this corpus has one"
            )
        _, frame = rows_frame(docs)
        spec = self.features["table"]  # type: ignore[index]
        self.table_ = build_features(spec, where=f"{where}.features.table")
        matrix = self.table_.fit_transform(frame)
        # saved, so that a single row at predict time is read with the same dtypes
        self.columns_ = {str(c): _column_type(frame[c]) for c in frame.columns}
        used = features_summary(self.table_)["columns"]
        self.used_ = [c for kind in ("numbers", "categories", "dates") for c in used.get(kind, [])]
        data.frame = frame  # profiles describe the clusters by every column
        return np.asarray(matrix, dtype=np.float64)

    def row(self, doc: Document) -> Any:
        """The feature row (1 x features) of one new document, or `None` when it has none
        (no tokens or no known term, a zero document vector, no table row)."""
        if self.kind == "table":
            if not isinstance(doc.meta.get("row"), Mapping):
                return None
            from ..ml.tabular import rows_frame

            _, frame = rows_frame([doc], list(self.columns_), types=self.columns_)
            return np.asarray(self.table_.transform(frame), dtype=np.float64)
        if self.kind == "docvectors":
            vector = self.docvectors_.transform([doc])
            return vector if np.linalg.norm(vector) > 0 else None
        tokens = document_tokens(doc, field=self.field, drop_stop=self.drop_stop, where="predict")
        if not tokens or self.tfidf_ is None:
            return None
        row = self.tfidf_.transform([tokens])
        return row if row.nnz else None

    def save(self, folder: Path) -> None:
        """Write the learned features into `folder` (plain files, skops for tables)."""
        if self.kind == "table":
            import skops.io as sio

            sio.dump(self.table_, folder / FEATURES_FILE)
            write_json(folder / COLUMNS_FILE, self.columns_)
        elif self.kind == "docvectors":
            self.docvectors_.save(folder / "docvectors")
        elif self.tfidf_ is not None:
            self.tfidf_.save(folder / "tfidf")

    def load(self, folder: Path) -> ClusterFeatures:
        """Read the learned features back from `folder`; a skops file holding types outside
        `TRUSTED_TYPES` (and skops' own trusted set) is refused, not loaded."""
        if self.kind == "table":
            import skops.io as sio

            path = folder / FEATURES_FILE
            untrusted = [t for t in sio.get_untrusted_types(file=path) if t not in TRUSTED_TYPES]
            if untrusted:
                raise ValueError(
                    f"{path} holds types this task does not trust ({', '.join(untrusted)}); "
                    "it was not written by a clustering task"
                )
            self.table_ = sio.load(path, trusted=TRUSTED_TYPES)
            self.columns_ = json.loads((folder / COLUMNS_FILE).read_text(encoding="utf-8"))
        elif self.kind == "docvectors":
            from ..represent.docvectors import DocVectors

            self.docvectors_ = DocVectors.load(folder / "docvectors")
        elif (folder / "tfidf").is_dir():
            from ..represent.tfidf import TfIdf

            self.tfidf_ = TfIdf.load(folder / "tfidf")
        else:
            self.tfidf_ = None
        return self


def _column_type(column: Any) -> str:
    """The `table` reader's type of a frame column (so one row alone is read the same way)."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(column):
        return "bool"
    if pd.api.types.is_numeric_dtype(column):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "date"
    return "category"


def _chain(first: list[str], rest: Iterator[list[str]]) -> Iterator[list[str]]:
    yield first
    yield from rest
