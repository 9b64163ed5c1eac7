"""Ids repeated within one file: the first occurrence is read, later ones are quarantined."""

from __future__ import annotations

from pipeline.document import Document, Rejected

__all__ = ["FirstOccurrences"]

EXCERPT_CHARS = 200


class FirstOccurrences:
    """Where each id of one file was first seen; a later document with the same id is rejected.

    Output keyed by id (Parquet rows, incremental runs' ledger of seen ids) cannot hold
    two documents under one id, so the repeat is reported instead of written twice.
    `unit` names the position in reasons ("line", "item").
    """

    def __init__(self, unit: str):
        self.unit = unit
        self._first: dict[str, int] = {}

    def check(self, doc: Document, position: int) -> Document | Rejected:
        """`doc` when its id is new in this file, else its rejection naming the first position."""
        first = self._first.setdefault(doc.id, position)
        if first == position:
            return doc
        reason = f"duplicate id {doc.id!r}: {self.unit} {first} of this file has the same id"
        return Rejected(
            doc.meta["source"], position, reason, id=doc.id, excerpt=doc.text[:EXCERPT_CHARS]
        )
