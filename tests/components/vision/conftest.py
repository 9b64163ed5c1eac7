"""Fixtures for the image CNN tests: scikit-learn's bundled digits as table-row documents."""

from __future__ import annotations

import pytest
import torch

from pipeline.document import Document


def digits_documents(classes: set[int] | None = None, limit: int | None = None) -> list[Document]:
    """The bundled digits (8×8, values 0-16) as the `table` reader gives them: the pixels in
    `meta["row"]` (pixel_0_0 ... pixel_7_7) and the class in `meta["label"]`."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    names = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)]
    docs = []
    for i, (pixels, target) in enumerate(zip(digits.data, digits.target, strict=True)):
        if classes is not None and int(target) not in classes:
            continue
        row = dict(zip(names, map(float, pixels), strict=True))
        docs.append(Document(id=f"digits:{i}", text="", meta={"row": row, "label": str(target)}))
        if limit is not None and len(docs) == limit:
            break
    return docs


@pytest.fixture(scope="session")
def digits_docs() -> list[Document]:
    """All 1,797 digits as documents."""
    return digits_documents()


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tests train with one CPU thread (the suite runs on 2 cores beside other work)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
