"""`newsgroups-mini`: the 200 Usenet posts of gensim's `mini_newsgroup` (alt.atheism vs sci.space).

gensim ships the posts as a zlib-compressed Python 2 pickle of a scikit-learn `Bunch`
(`data`, `target`, `target_names`, `filenames`). Nothing else reads that file, so this
module decodes it with an unpickler restricted to the handful of plain types the file
holds (dict, list, str and a numpy integer array): any other object in the stream is
refused, so no code from the file can run (the "restricting globals" recipe of
Python's `pickle` documentation).

By default the header block of each post (everything before the first blank line, which
names the newsgroup in `Newsgroups:`) is removed, as scikit-learn's
`fetch_20newsgroups(remove=("headers",))` does: left in, it gives the label away.
"""

from __future__ import annotations

import copyreg
import io
import pickle
import zlib
from collections.abc import Iterator
from typing import Any

from pipeline.document import Document, Rejected
from pipeline.registry import register
from pipeline.stage import Reader

__all__ = ["MiniNewsgroupsReader", "read_mini_newsgroups"]


class _Bunch(dict):  # type: ignore[type-arg]
    """Stands in for scikit-learn's `Bunch` (a dict) while decoding."""


def _allowed_globals() -> dict[tuple[str, str], Any]:
    import numpy as np

    return {
        ("copy_reg", "_reconstructor"): copyreg._reconstructor,  # type: ignore[attr-defined]
        ("__builtin__", "dict"): dict,
        ("__builtin__", "object"): object,
        ("sklearn.datasets.base", "Bunch"): _Bunch,
        ("numpy.core.multiarray", "_reconstruct"): np.zeros(0).__reduce__()[
            0
        ],  # numpy.core.multiarray._reconstruct
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }


class _PlainDataUnpickler(pickle.Unpickler):
    """An unpickler that builds only the plain types the mini_newsgroup file holds."""

    def __init__(self, stream: io.BytesIO):
        super().__init__(stream, encoding="latin-1")
        self.allowed = _allowed_globals()

    def find_class(self, module: str, name: str) -> Any:
        found = self.allowed.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"mini_newsgroup: refusing {module}.{name}")
        return found


def read_mini_newsgroups() -> tuple[list[str], list[str], list[str]]:
    """`(texts, labels, file names)` of gensim's mini_newsgroup, in the file's order."""
    from gensim.test.utils import datapath

    with open(datapath("mini_newsgroup"), "rb") as fh:
        blob = zlib.decompress(fh.read())
    bunch = _PlainDataUnpickler(io.BytesIO(blob)).load()
    names = [str(n) for n in bunch["target_names"]]
    labels = [names[int(t)] for t in bunch["target"]]
    files = [f.decode() if isinstance(f, bytes) else str(f) for f in bunch["filenames"]]
    return [str(t) for t in bunch["data"]], labels, files


# Usenet's zone names as fixed offsets (hours from UTC): a header's "EST" means UTC-5
# whatever the season; dateutil knows only UTC and GMT by name.
_US_ZONES = {
    name: offset * 3600
    for name, offset in {
        "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    }.items()
} | {"UT": 0}  # fmt: skip


def posted_date(post: str) -> str | None:
    """The post's `Date:` header as ISO 8601 in UTC, or `None` when absent or unreadable.

    The headers are RFC 822 dates with Usenet's variations (`29 Apr 93 17:30:25`,
    `6 Apr 1993 15:36 EST`); a date without a zone is taken as UTC.
    """
    from datetime import UTC

    from dateutil import parser

    header, _, _ = post.partition("\n\n")
    for line in header.splitlines():
        if line.lower().startswith("date:"):
            try:
                parsed = parser.parse(line[5:].strip(), tzinfos=_US_ZONES)
            except (ValueError, OverflowError):
                return None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return None


def strip_headers(post: str) -> str:
    """A Usenet post without its header block (up to the first blank line)."""
    _, sep, body = post.partition("\n\n")
    return body if sep else post


@register("reader", "newsgroups-mini")
class MiniNewsgroupsReader(Reader):
    """gensim's 200 `mini_newsgroup` posts, `meta["label"]` alt.atheism or sci.space.

    Ids `newsgroups-000` ... `newsgroups-199` in the file's order; `meta["file"]` is the
    original 20 Newsgroups file name, `meta["published"]` the post's `Date:` header (ISO
    8601, UTC; April 1993). `headers: false` (default) removes each post's
    header block, which names the newsgroup and so would give the label away.
    """

    def __init__(self, *, headers: bool = False):
        self.headers = headers

    def read(self) -> Iterator[Document | Rejected]:
        """Yield the 200 posts in the file's order."""
        texts, labels, files = read_mini_newsgroups()
        for i, (text, label, name) in enumerate(zip(texts, labels, files, strict=True)):
            body = text if self.headers else strip_headers(text)
            meta = {"source": "gensim:mini_newsgroup", "label": label, "file": name}
            meta["published"] = posted_date(text)
            yield Document(id=f"newsgroups-{i:03d}", text=body.strip(), meta=meta)

    def count(self) -> int | None:
        """Always 200."""
        return 200
