"""The `related` task: each story's most similar others, and near-duplicates grouped.

Similarity is the cosine of l2-normalized TF-IDF rows (or of the run's document vectors).
Up to `exact_limit` documents it is exact, computed a block of rows at a time (memory
bounded by the block, never an n x n matrix); beyond, approximate nearest neighbours
come from `pynndescent`. Near-duplicates (MinHash over word shingles through
`datasketch`, or a cosine threshold) are grouped as connected components, so one story
carried by several feeds is one group.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field as Range

from pipeline.config import ConfigError
from pipeline.document import Document
from pipeline.registry import register
from pipeline.report_sections import metrics_block, table_block, text_block, write_section

from ..represent.tokens import Field
from .base import AnalyticsTask, JsonLines, document_tokens, write_json
from .neighbours import NearDuplicates, approximate_neighbours, connected_groups, exact_neighbours

__all__ = ["RelatedStories"]


@register("task", "related")
class RelatedStories(AnalyticsTask):
    """For each document its `k` most similar others, and its near-duplicate group.

    - `features`: "tfidf" (sublinear TF-IDF of the selected tokens: `field`, `drop_stop`)
      or "vectors" (the run's document vectors: `represent: {docvectors: ...}`).
    - `exact_limit`: compare every pair exactly up to this many documents (a block of
      rows at a time); above it, approximate neighbours from pynndescent (`nlp-pipeline[ann]`).
    - `duplicates`: "minhash" (Jaccard of word `shingle`-grams estimated with `num_perm`
      permutations, seeded), "cosine" (the features' cosine; above `exact_limit` only
      among the approximate neighbours), or null; `threshold` for both.

    Documents with no tokens are counted as skipped. Writes `predictions.jsonl`
    (`{"id", "related": [{"id", "score"}], "group"}`), `groups.json`, `metrics.json`,
    its report section, and the corpus matrix that `predict` compares new documents with.
    """

    method = "related"
    version = "1"

    def __init__(
        self,
        *,
        k: Annotated[int, Range(ge=1)] = 5,
        features: Literal["tfidf", "vectors"] = "tfidf",
        field: Field = "lower",
        drop_stop: bool = True,
        exact_limit: Annotated[int, Range(ge=2)] = 100_000,
        duplicates: Literal["minhash", "cosine"] | None = "minhash",
        threshold: Annotated[float, Range(gt=0.0, le=1.0)] = 0.8,
        shingle: Annotated[int, Range(ge=1)] = 3,
        num_perm: Annotated[int, Range(ge=16)] = 128,
        seed: int = 0,
    ):
        self.k = k
        self.features = features
        self.field = field
        self.drop_stop = drop_stop
        self.exact_limit = exact_limit
        self.duplicates = duplicates
        self.threshold = threshold
        self.shingle = shingle
        self.num_perm = num_perm
        self.seed = seed

    def _fit(self, corpus: Iterable[Document], staging: Path, run_dir: Path | None) -> None:
        where = _task_where(staging)
        t0 = time.perf_counter()
        seen = _Seen()
        minhash = None
        if self.duplicates == "minhash":
            minhash = NearDuplicates(
                threshold=self.threshold,
                num_perm=self.num_perm,
                shingle=self.shingle,
                seed=self.seed,
            )
        documents = self._documents(corpus, seen, minhash, where)
        if self.features == "tfidf":
            matrix = self._tfidf(documents)
        else:
            matrix = self._vectors(documents, seen, run_dir, where)
        n = matrix.shape[0]
        exact = n <= self.exact_limit
        if exact:
            threshold = self.threshold if self.duplicates == "cosine" else None
            indices, scores, pairs = exact_neighbours(matrix, self.k, threshold=threshold)
        else:
            indices, scores = approximate_neighbours(matrix, self.k, seed=self.seed, where=where)
            rows, cols = np.nonzero((indices >= 0) & (scores >= self.threshold))
            pairs = [(int(r), int(indices[r, c])) for r, c in zip(rows, cols, strict=True)]
        if minhash is not None:
            pairs = minhash.pairs
        groups = connected_groups(pairs, n) if self.duplicates else []
        self.matrix_, self.ids_ = matrix, [seen.ids[p] for p in seen.rows]
        group_of = {row: g for g, members in enumerate(groups, start=1) for row in members}
        row_of = {p: r for r, p in enumerate(seen.rows)}
        with JsonLines(staging / "predictions.jsonl") as out:
            for position, doc_id in enumerate(seen.ids):
                row = row_of.get(position)
                related = [] if row is None else self._related(indices[row], scores[row])
                group = None if row is None else group_of.get(row)
                out.write({"id": doc_id, "related": related, "group": group})
        listed = [
            {"group": g, "size": len(rows), "members": [seen.member(seen.rows[r]) for r in rows]}
            for g, rows in enumerate(groups, start=1)
        ]
        write_json(staging / "groups.json", listed)
        found = indices[:, 0] >= 0
        metrics = {
            "documents": len(seen.ids),
            "compared": n,
            "skipped": dict(seen.skipped),
            "features": self.features,
            "search": "exact" if exact else "approximate (pynndescent)",
            "k": self.k,
            "documents_with_related": int(found.sum()),
            "mean_top_score": round(float(scores[found, 0].mean()), 4) if found.any() else None,
            "duplicates": self.duplicates,
            "groups": len(groups),
            "documents_in_groups": sum(len(g) for g in groups),
            "largest_group": max((len(g) for g in groups), default=0),
            "seconds": round(time.perf_counter() - t0, 3),
        }
        write_json(staging / "metrics.json", metrics)
        write_section(
            staging,
            "Related stories",
            _report_blocks(seen, indices, scores, groups, metrics),
            order=45,
        )

    def _documents(
        self, corpus: Iterable[Document], seen: _Seen, minhash: NearDuplicates | None, where: str
    ) -> Iterator[tuple[Document, list[str]]]:
        """The documents that have tokens, with their tokens (indexed for near-duplicates
        on the way); every document's id and label recorded, the empty ones counted."""
        for doc in corpus:
            position = seen.add(doc)
            tokens = document_tokens(doc, field=self.field, drop_stop=self.drop_stop, where=where)
            if not tokens:
                seen.skipped["empty"] += 1
                continue
            seen.rows.append(position)
            if minhash is not None:
                words = document_tokens(doc, field=self.field, drop_stop=False, where=where)
                minhash.add(len(seen.rows) - 1, words)
            yield doc, tokens

    def _tfidf(self, documents: Iterator[tuple[Document, list[str]]]) -> Any:
        """The l2-normalized sublinear TF-IDF rows (float32 CSR) of the documents, in one pass."""
        import scipy.sparse as sp

        from ..represent.tfidf import TfIdf

        token_lists = (tokens for _, tokens in documents)
        first = next(token_lists, None)
        if first is None:  # no document has a token: nothing to learn, nothing to compare
            self.tfidf_ = None
            return sp.csr_matrix((0, 0), dtype=np.float32)
        self.tfidf_ = TfIdf(sublinear_tf=True, norm="l2")
        return self.tfidf_.fit_transform(_chain(first, token_lists)).astype(np.float32)

    def _vectors(
        self,
        documents: Iterator[tuple[Document, list[str]]],
        seen: _Seen,
        run_dir: Path | None,
        where: str,
    ) -> np.ndarray:
        """The run's document vectors of the documents, l2-normalized (float32); a document
        with no known word keeps a zero row, which is nobody's neighbour."""
        self.docvectors_ = _run_docvectors(run_dir, where)
        blocks, batch = [], []
        for doc, _ in documents:
            batch.append(doc)
            if len(batch) == 512:
                blocks.append(self.docvectors_.transform(batch))
                batch = []
        blocks.append(self.docvectors_.transform(batch))
        matrix = np.concatenate(blocks).astype(np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        if (norms == 0).any():
            seen.skipped["no_vector"] += int((norms == 0).sum())
        return matrix / np.where(norms == 0, 1.0, norms)

    def _related(self, indices: Any, scores: Any) -> list[dict[str, Any]]:
        return [
            {"id": self.ids_[int(j)], "score": round(float(s), 4)}
            for j, s in zip(indices, scores, strict=True)
            if j >= 0 and s > 0
        ]

    def predict_document(self, doc: Document) -> dict[str, Any]:
        """`{"id", "related": [{"id", "score"}]}`: the `k` most similar documents of the
        fitted corpus (exact cosine; corpus documents with the same id left out)."""
        if self.features == "tfidf":
            tokens = document_tokens(
                doc, field=self.field, drop_stop=self.drop_stop, where="predict"
            )
            if not tokens or self.tfidf_ is None:
                return {"id": doc.id, "related": []}
            vector = self.tfidf_.transform([tokens]).astype(np.float32)
            sims = np.asarray((self.matrix_ @ vector.T).toarray(), dtype=np.float32).ravel()
        else:
            vector = self.docvectors_.transform([doc])[0]
            norm = float(np.linalg.norm(vector))
            if norm == 0:
                return {"id": doc.id, "related": []}
            sims = self.matrix_ @ (vector / norm).astype(np.float32)
        sims[[i for i, other in enumerate(self.ids_) if other == doc.id]] = -np.inf
        order = np.lexsort((np.arange(sims.size), -sims))[: self.k]  # score, then corpus order
        return {"id": doc.id, "related": self._related(order, sims[order])}

    def _save_state(self, folder: Path) -> None:
        import scipy.sparse as sp

        write_json(folder / "ids.json", self.ids_)
        if self.features == "vectors":
            np.save(folder / "vectors.npy", self.matrix_)
            self.docvectors_.save(folder / "docvectors")
        elif self.tfidf_ is not None:
            sp.save_npz(folder / "matrix.npz", sp.csr_matrix(self.matrix_), compressed=True)
            self.tfidf_.save(folder / "tfidf")

    def _load_state(self, folder: Path) -> None:
        import json

        import scipy.sparse as sp

        self.ids_ = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        if self.features == "vectors":
            from ..represent.docvectors import DocVectors

            self.matrix_ = np.load(folder / "vectors.npy", allow_pickle=False)
            self.docvectors_ = DocVectors.load(folder / "docvectors")
        elif (folder / "tfidf").is_dir():
            from ..represent.tfidf import TfIdf

            self.matrix_ = sp.load_npz(folder / "matrix.npz").tocsr()
            self.tfidf_ = TfIdf.load(folder / "tfidf")
        else:
            self.matrix_, self.tfidf_ = sp.csr_matrix((0, 0), dtype=np.float32), None


class _Seen:
    """What the task keeps of every document (id, source, title, a short label for the
    report) and which have a feature row (`rows`: their positions, in corpus order)."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.sources: list[str | None] = []
        self.titles: list[str | None] = []
        self.labels: list[str] = []
        self.rows: list[int] = []
        self.skipped: Counter[str] = Counter()

    def add(self, doc: Document) -> int:
        """Record `doc`; return its position."""
        title = doc.meta.get("title") or None
        self.ids.append(doc.id)
        self.sources.append(doc.meta.get("source") or None)
        self.titles.append(title)
        label = str(title or doc.text.strip().split("\n", 1)[0] or doc.id)
        self.labels.append(label if len(label) <= 80 else label[:77] + "...")
        return len(self.ids) - 1

    def member(self, position: int) -> dict[str, Any]:
        """A group member as listed in `groups.json`: id, and source and title when known."""
        out: dict[str, Any] = {"id": self.ids[position]}
        if self.sources[position]:
            out["source"] = self.sources[position]
        if self.titles[position]:
            out["title"] = self.titles[position]
        return out


def _report_blocks(
    seen: _Seen, indices: Any, scores: Any, groups: list[list[int]], metrics: dict[str, Any]
) -> list[dict[str, Any]]:
    """The report section: figures, the largest near-duplicate groups, a few related lists."""
    shown = {k: v for k, v in metrics.items() if k not in ("skipped", "seconds")}
    shown.update({f"skipped ({reason})": n for reason, n in metrics["skipped"].items()})
    blocks = [metrics_block("Related stories", shown)]
    if groups:
        rows = []
        for g, members in enumerate(groups[:10], start=1):
            positions = [seen.rows[r] for r in members]
            sources = sorted(
                {str(seen.sources[p]).rsplit("/", 1)[-1] for p in positions if seen.sources[p]}
            )
            titles = list(dict.fromkeys(seen.labels[p] for p in positions))[:3]
            rows.append([g, len(members), ", ".join(sources) or "-", " | ".join(titles)])
        columns = ["group", "documents", "sources", "titles"]
        blocks.append(table_block("Largest near-duplicate groups", columns, rows))
    elif metrics["duplicates"]:
        blocks.append(text_block("No near-duplicate stories were found."))
    examples = []
    # the stories with the closest neighbours short of being the same story
    top = np.where((indices[:, 0] >= 0) & (scores[:, 0] < 0.8), scores[:, 0], -1.0)
    for row in [r for r in np.argsort(-top, kind="stable")[:5] if top[r] > 0]:
        related = "; ".join(
            f"{seen.labels[seen.rows[int(j)]]} ({s:.2f})"
            for j, s in zip(indices[row, :3], scores[row, :3], strict=True)
            if j >= 0
        )
        examples.append([seen.labels[seen.rows[row]], related])
    if examples:
        columns = ["story", "most similar (cosine)"]
        blocks.append(table_block("Examples of related stories", columns, examples))
    return blocks


def _chain(first: list[str], rest: Iterator[list[str]]) -> Iterator[list[str]]:
    yield first
    yield from rest


def _run_docvectors(run_dir: Path | None, where: str) -> Any:
    """The run's fitted `docvectors` learner, or a `ConfigError` saying how to get one."""
    folder = None if run_dir is None else run_dir / "represent" / "docvectors"
    if folder is None or not (folder / "learner.json").is_file():
        raise ConfigError(
            f"{where}.features: 'vectors' compares the run's document vectors, and this run "
            "has none: add `docvectors: {vectors: glove-6b-50d}` under `represent:` "
            "(or use features: tfidf)"
        )
    from ..represent.docvectors import DocVectors

    return DocVectors.load(folder)


def _task_where(staging: Path) -> str:
    """`tasks.NAME` for the staging folder `.NAME.staging` that `fit` made."""
    name = staging.name
    if name.startswith(".") and name.endswith(".staging"):
        name = name[1 : -len(".staging")]
    return f"tasks.{name}"
