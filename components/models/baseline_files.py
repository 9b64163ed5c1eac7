"""A fitted baseline classifier as plain files: its arrays as `.npy`, the rest as JSON.

The three classifiers of `components.models.baselines` are linear models whose predictions
depend on a few fitted arrays only, so those arrays are what is saved, and loading sets
them on a freshly built scikit-learn object (as `fit` would have left them):

- `LogisticRegression`: `classifier.coef.npy` (rows x features; one row for two classes)
  and `classifier.intercept.npy`.
- `MultinomialNB`: `classifier.feature_log_prob.npy` (classes x features) and
  `classifier.class_log_prior.npy`.
- `CalibratedClassifierCV(LinearSVC, method="sigmoid")`: per calibration fold, the SVM's
  `coef_`/`intercept_` and one Platt sigmoid (`a_`, `b_`) per row, stacked over folds:
  `classifier.coef.npy` (folds x rows x features), `classifier.intercept.npy`,
  `classifier.sigmoid_a.npy`, `classifier.sigmoid_b.npy` (folds x rows).

`classifier.json` names the kind and the number of folds. Arrays are read with
`allow_pickle=False` and their shapes checked against the vocabulary and the classes, so
a file from another model is refused with the file's name. This replaced `skops.io`,
whose import (it walks every scikit-learn module, torch included) cost 3-15 s per process.
The SVM part builds scikit-learn's private `_CalibratedClassifier`/`_SigmoidCalibration`;
the save -> load tests check the probabilities are bit-identical.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CLASSIFIER_FILE", "load_classifier", "save_classifier"]

CLASSIFIER_FILE = "classifier.json"
FORMAT = 1


def _array_path(folder: Path, name: str) -> Path:
    return folder / f"classifier.{name}.npy"


def _kind(classifier: Any) -> str:
    """The saved kind of a (fitted or unfitted) baseline classifier."""
    kinds = {
        "LogisticRegression": "logistic-regression",
        "MultinomialNB": "multinomial-nb",
        "CalibratedClassifierCV": "calibrated-linear-svc",
    }
    name = type(classifier).__name__
    if name not in kinds:
        raise TypeError(f"no file format for a {name} classifier (known: {', '.join(kinds)})")
    if name == "CalibratedClassifierCV" and (
        type(classifier.estimator).__name__ != "LinearSVC" or classifier.method != "sigmoid"
    ):
        raise TypeError("only CalibratedClassifierCV(LinearSVC, method='sigmoid') is saved")
    return kinds[name]


def _fitted_arrays(classifier: Any, kind: str) -> dict[str, np.ndarray]:
    if kind == "logistic-regression":
        return {"coef": classifier.coef_, "intercept": classifier.intercept_}
    if kind == "multinomial-nb":
        return {
            "feature_log_prob": classifier.feature_log_prob_,
            "class_log_prior": classifier.class_log_prior_,
        }
    folds = classifier.calibrated_classifiers_
    for fold in folds:  # stratified folds of >= 2 documents per class see every class
        if list(fold.estimator.classes_) != list(classifier.classes_):
            raise ValueError(
                "a calibration fold's SVM did not see every class; give each class at "
                "least calibration_folds documents"
            )
    return {
        "coef": np.stack([fold.estimator.coef_ for fold in folds]),
        "intercept": np.stack([fold.estimator.intercept_ for fold in folds]),
        "sigmoid_a": np.array([[c.a_ for c in fold.calibrators] for fold in folds], float),
        "sigmoid_b": np.array([[c.b_ for c in fold.calibrators] for fold in folds], float),
    }


def save_classifier(classifier: Any, folder: Path) -> None:
    """Write the fitted `classifier` (one of the baselines' three) into `folder` as
    `classifier.json` and `classifier.NAME.npy` files (see the module docstring).

    Raises `TypeError` for any other classifier.
    """
    kind = _kind(classifier)
    arrays = _fitted_arrays(classifier, kind)
    for name, array in arrays.items():
        np.save(_array_path(folder, name), np.asarray(array), allow_pickle=False)
    record: dict[str, Any] = {"format": FORMAT, "kind": kind, "arrays": sorted(arrays)}
    if kind == "calibrated-linear-svc":
        record["folds"] = len(classifier.calibrated_classifiers_)
    (folder / CLASSIFIER_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")


def _read_array(folder: Path, name: str, shape: tuple[int, ...], what: str) -> np.ndarray:
    """`classifier.NAME.npy`, refused unless it is a plain array of floats of `shape`."""
    path = _array_path(folder, name)
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:  # garbage, or a pickled (object) array: never unpickled
        raise ValueError(
            f"{path.name}: not a plain .npy array ({str(exc).splitlines()[0]})"
        ) from None
    if array.shape != shape or not np.issubdtype(array.dtype, np.floating):
        raise ValueError(
            f"{path.name}: {array.dtype} array of shape {array.shape}, expected floats of "
            f"shape {shape} ({what}): the folder is damaged or mixes files of two models"
        )
    return array


def load_classifier(template: Any, folder: Path, *, classes: list[str], n_features: int) -> Any:
    """`template` (the unfitted classifier the estimator builds) with the fitted arrays
    saved in `folder` set on it, for `classes` and `n_features` vocabulary columns.

    Raises `FileNotFoundError` for a missing file and `ValueError` naming the file for a
    wrong kind or an array of the wrong shape.
    """
    folder = Path(folder)
    record = json.loads((folder / CLASSIFIER_FILE).read_text(encoding="utf-8"))
    kind = _kind(template)
    if record.get("format") != FORMAT or record.get("kind") != kind:
        raise ValueError(
            f"{CLASSIFIER_FILE}: holds a {record.get('kind')!r} (format "
            f"{record.get('format')}), expected a {kind!r} (format {FORMAT})"
        )
    k = len(classes)
    rows = 1 if k == 2 else k  # linear models keep one row for two classes
    what = f"{k} classes, {n_features} vocabulary terms"
    labels = np.array(classes)
    if kind == "logistic-regression":
        template.coef_ = _read_array(folder, "coef", (rows, n_features), what)
        template.intercept_ = _read_array(folder, "intercept", (rows,), what)
    elif kind == "multinomial-nb":
        template.feature_log_prob_ = _read_array(folder, "feature_log_prob", (k, n_features), what)
        template.class_log_prior_ = _read_array(folder, "class_log_prior", (k,), what)
    else:
        template.calibrated_classifiers_ = _calibrated_folds(
            template, folder, int(record["folds"]), rows, labels, n_features, what
        )
    template.classes_ = labels
    template.n_features_in_ = n_features
    return template


def _calibrated_folds(
    template: Any,
    folder: Path,
    folds: int,
    rows: int,
    labels: np.ndarray,
    n_features: int,
    what: str,
) -> list[Any]:
    """The `_CalibratedClassifier` of each fold: a fitted LinearSVC and its sigmoids."""
    from sklearn.base import clone
    from sklearn.calibration import _CalibratedClassifier, _SigmoidCalibration

    what = f"{folds} calibration folds, {what}"
    coef = _read_array(folder, "coef", (folds, rows, n_features), what)
    intercept = _read_array(folder, "intercept", (folds, rows), what)
    sigmoid_a = _read_array(folder, "sigmoid_a", (folds, rows), what)
    sigmoid_b = _read_array(folder, "sigmoid_b", (folds, rows), what)
    calibrated = []
    for fold in range(folds):
        svm = clone(template.estimator)
        svm.coef_, svm.intercept_ = coef[fold], intercept[fold]
        svm.classes_, svm.n_features_in_ = labels, n_features
        calibrators = []
        for row in range(rows):
            sigmoid = _SigmoidCalibration()
            sigmoid.a_, sigmoid.b_ = sigmoid_a[fold, row], sigmoid_b[fold, row]
            calibrators.append(sigmoid)
        calibrated.append(_CalibratedClassifier(svm, calibrators, classes=labels, method="sigmoid"))
    return calibrated
