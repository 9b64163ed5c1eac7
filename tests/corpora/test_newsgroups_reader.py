"""`newsgroups-mini`: gensim's 200 Usenet posts, decoded without running code from the file."""

from __future__ import annotations

import pickle
from collections import Counter

import pytest

from corpora.newsgroups import MiniNewsgroupsReader, _PlainDataUnpickler


def test_the_posts_come_with_their_newsgroup_as_label_and_no_header_giving_it_away():
    docs = list(MiniNewsgroupsReader().read())
    assert len(docs) == 200 and len({d.id for d in docs}) == 200
    assert Counter(d.meta["label"] for d in docs) == {"alt.atheism": 100, "sci.space": 100}
    # the header block is gone (a few posts quote a forwarded header in their body)
    assert sum("Newsgroups:" in d.text for d in docs) < 10
    for doc in docs:  # the label agrees with the original file's folder
        assert f"/{doc.meta['label']}/" in doc.meta["file"]


def test_headers_true_keeps_the_posts_as_published():
    docs = list(MiniNewsgroupsReader(headers=True).read())
    headers = [d.text.partition("\n\n")[0] for d in docs]
    assert all(
        "Newsgroups:" in h and d.meta["label"] in h for d, h in zip(docs, headers, strict=True)
    )


def test_the_decoder_refuses_any_object_but_plain_data():
    import io

    class Evil:
        def __reduce__(self):
            return (print, ("ran code",))

    blob = pickle.dumps(Evil(), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match=r"refusing __builtin__\.print"):
        _PlainDataUnpickler(io.BytesIO(blob)).load()
