"""`newsgroups-mini`: gensim's 200 Usenet posts, decoded without running code from the file."""

from __future__ import annotations

import pickle
from collections import Counter

import pytest

from corpora.newsgroups import MiniNewsgroupsReader, _PlainDataUnpickler, read_mini_newsgroups


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


def test_every_post_carries_its_usenet_date_in_utc():
    docs = list(MiniNewsgroupsReader().read())
    texts, _, _ = read_mini_newsgroups()
    dates = [doc.meta["published"] for doc in docs]
    assert all(d is not None and d.endswith("Z") for d in dates)
    assert min(dates) >= "1993-04" and max(dates) < "1993-06"  # the 20 Newsgroups collection
    # a header with a named US zone is converted: 15:36 EST is 20:36 UTC
    est = next(i for i, t in enumerate(texts) if "\nDate:  6 Apr 1993 15:36 EST" in t)
    assert dates[est] == "1993-04-06T20:36:00Z"
