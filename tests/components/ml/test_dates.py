"""Dates read from document metadata, and the periods trends group them into."""

from __future__ import annotations

from datetime import datetime

import pytest

from components.ml.dates import period_start, read_date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2018-09-24T16:03:00Z", datetime(2018, 9, 24, 16, 3)),  # the feed reader's ISO dates
        ("2024-05-17T10:00:00+02:00", datetime(2024, 5, 17, 8, 0)),  # converted to UTC
        ("Mon, 24 Sep 2018 12:03:00 -0400", datetime(2018, 9, 24, 16, 3)),  # RSS pubDate
        ("6 Apr 1993 15:36 EST", datetime(1993, 4, 6, 20, 36)),  # Usenet: EST is UTC-5
        ("Tue, 6 Apr 1993 12:44:38 GMT", datetime(1993, 4, 6, 12, 44, 38)),
        ("May 3rd 2020", datetime(2020, 5, 3)),  # anything dateutil reads
    ],
)
def test_dates_in_the_forms_readers_write_are_read_as_naive_utc(value, expected):
    assert read_date(value) == expected


@pytest.mark.parametrize("value", [None, "", "not a date", "2018-13-45"])
def test_a_missing_or_unreadable_date_is_none(value):
    assert read_date(value) is None


def test_periods_are_the_day_the_monday_of_the_iso_week_and_the_month():
    sunday = datetime(2024, 5, 19, 23, 59)
    assert period_start(sunday, "day") == "2024-05-19"
    assert period_start(sunday, "week") == "2024-05-13"  # ISO weeks start on Monday
    assert period_start(sunday, "month") == "2024-05"
    with pytest.raises(ValueError, match="period must be one of day, week, month"):
        period_start(sunday, "year")  # type: ignore[arg-type]
