"""Holdout and cross-validation splits: disjoint, covering, stratified, seeded, and time-ordered
without leakage; settings checked before any data is read."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import numpy as np
import pytest

from components.ml.splits import (
    SplitError,
    cross_validation_folds,
    cv_problems,
    holdout_split,
    parse_dates,
    split_problems,
)


@pytest.fixture(scope="module")
def ag_rows(shared_data) -> list[dict[str, str]]:
    """AG News rows of the shared data (skips when it is absent)."""
    import csv

    path = shared_data / "classification" / "ag_news_test_first_half.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def labels() -> list[str]:
    """The 200 mini newsgroup posts' labels (two classes, in the file's order)."""
    from corpora.newsgroups import MiniNewsgroupsReader

    return [doc.meta["label"] for doc in MiniNewsgroupsReader().read()]


@pytest.fixture(scope="module")
def ag_labels(ag_rows) -> list[str]:
    return [row["label"] for row in ag_rows[:500]]


def test_holdout_parts_are_disjoint_cover_everything_and_have_the_asked_sizes(ag_labels):
    split = holdout_split(ag_labels, test=0.2, validation=0.1, seed=3)
    parts = [set(split.train), set(split.validation), set(split.test)]
    assert set.union(*parts) == set(range(len(ag_labels)))
    assert sum(map(len, parts)) == len(ag_labels)
    assert split.sizes() == {"train": 350, "validation": 50, "test": 100}


def test_holdout_is_stratified_and_seeded(ag_labels):
    split = holdout_split(ag_labels, seed=1)
    overall = Counter(ag_labels)
    test = Counter(ag_labels[i] for i in split.test)
    for label, count in overall.items():
        assert abs(test[label] - count * 0.2) <= 1
    again = holdout_split(ag_labels, seed=1)
    other = holdout_split(ag_labels, seed=2)
    assert np.array_equal(split.test, again.test) and not np.array_equal(split.test, other.test)


def test_without_validation_or_test_the_part_is_empty(labels):
    split = holdout_split(labels, test=0.0, validation=0.0)
    assert len(split.train) == len(labels) and len(split.validation) == len(split.test) == 0


def test_a_class_too_small_to_stratify_names_the_key(labels):
    with pytest.raises(SplitError, match=r"split\.test: .*rarest classes: 'lonely': 1"):
        holdout_split([*labels, "lonely"])
    assert len(holdout_split([*labels, "lonely"], stratify=False).test) == 41


@pytest.mark.parametrize("method", ["kfold", "stratified", "loo"])
def test_each_document_is_tested_exactly_once(labels, method):
    settings = {"folds": 4, "method": method}
    folds = cross_validation_folds(labels[:60] if method == "loo" else labels, settings)
    n = 60 if method == "loo" else len(labels)
    assert len(folds) == (60 if method == "loo" else 4)
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested) == list(range(n))
    for train, test in folds:
        assert not set(train) & set(test) and len(train) + len(test) == n


def test_stratified_folds_keep_the_class_proportions(ag_labels):
    overall = Counter(ag_labels)
    for _, test in cross_validation_folds(ag_labels, {"folds": 5, "seed": 7}):
        counts = Counter(ag_labels[i] for i in test)
        for label, count in overall.items():
            assert abs(counts[label] - count / 5) <= 1


def test_repeated_folds_test_every_document_once_per_repeat(labels):
    folds = cross_validation_folds(labels, {"method": "repeated", "folds": 5, "repeats": 3})
    assert len(folds) == 15
    tested = Counter(int(i) for _, test in folds for i in test)
    assert set(tested.values()) == {3} and len(tested) == len(labels)


def test_time_folds_never_train_on_a_later_date(labels):
    rng = np.random.default_rng(0)
    days = rng.integers(0, 400, size=len(labels))
    raw = [f"2004-{1 + d // 31 % 12:02d}-{1 + d % 28:02d}T{d % 24:02d}:00:00+02:00" for d in days]
    dates = parse_dates(raw, [f"doc-{i}" for i in range(len(raw))], "published")
    folds = cross_validation_folds(labels, {"method": "time", "folds": 4}, dates=dates)
    assert len(folds) == 4
    for train, test in folds:
        assert max(dates[i] for i in train) <= min(dates[i] for i in test)
        assert not set(train) & set(test)


def test_dates_read_iso_and_rfc_822_and_missing_ones_name_the_key():
    ids = ["a", "b", "c"]
    dates = parse_dates(
        ["2004-08-01", "Sun, 01 Aug 2004 10:00:00 GMT", "2004-08-01T12:00Z"], ids, "d"
    )
    assert dates == [datetime(2004, 8, 1), datetime(2004, 8, 1, 10), datetime(2004, 8, 1, 12)]
    with pytest.raises(
        SplitError,
        match=r"cv\.date_field: 1 of 3 documents lack meta\['published'\] \(first: 'b'\)",
    ):
        parse_dates(["2004-08-01", None, "2004-08-02"], ids, "published")
    with pytest.raises(SplitError, match="unreadable date"):
        parse_dates(["2004-08-01", "someday", "2004-08-02"], ids, "published")


def test_too_many_folds_for_the_documents_is_a_split_error(labels):
    with pytest.raises(SplitError, match=r"cv\.folds: cannot make 300 folds of 200 documents"):
        cross_validation_folds(labels, {"folds": 300, "method": "kfold"})


def test_settings_are_checked_before_data_is_read():
    assert split_problems({"test": 0.2, "validation": 0.1}) == []
    assert split_problems({"test": 1.5}) == ["split.test: 1.5 is invalid: must be in [0, 1)"]
    assert "leave no training documents" in split_problems({"test": 0.6, "validation": 0.5})[0]
    assert cv_problems({"folds": 1}) == ["cv.folds: 1 is invalid: use at least 2 folds"]
    assert cv_problems({"method": "loo", "folds": 1}) == []
    assert cv_problems({"method": "time"})[0].startswith("cv.date_field: required")
    assert cv_problems(None) == [] and split_problems(None) == []
