"""Dates of documents: read from `meta` values and bucketed into periods.

`read_date` turns what readers put into `meta` (ISO 8601 strings from the feed reader,
anything `dateutil` parses from CSV columns, `datetime` objects) into a naive UTC
`datetime`, or `None` when the value is missing or unreadable. `period_start` names the
day, ISO week (its Monday) or month a date falls in, as a sortable string.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

__all__ = ["PERIODS", "Period", "period_start", "read_date"]

Period = Literal["day", "week", "month"]
PERIODS: tuple[str, ...] = ("day", "week", "month")


def read_date(value: Any) -> datetime | None:
    """`value` as a naive UTC `datetime` (ISO 8601, then RFC 822, then `dateutil`), or
    `None` when it is missing, empty or not a date. Aware dates are converted to UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        from dateutil import parser

        text = str(value).strip()
        try:
            parsed = parser.isoparse(text)
        except (ValueError, OverflowError):
            parsed = _rfc822(text)
            if parsed is None:
                try:
                    parsed = parser.parse(text)
                except (ValueError, OverflowError, TypeError):
                    return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _rfc822(text: str) -> datetime | None:
    """An e-mail/RSS date (`Tue, 6 Apr 1993 15:36:00 EST`) with its zone names understood
    (dateutil's parser ignores EST, PST, UT...), or `None` when it is not one."""
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def period_start(date: datetime, period: Period) -> str:
    """The period `date` falls in, as a sortable label: `2024-05-17` (day), the Monday of
    its ISO week `2024-05-13` (week), or `2024-05` (month)."""
    if period == "day":
        return date.strftime("%Y-%m-%d")
    if period == "week":
        return (date - timedelta(days=date.weekday())).strftime("%Y-%m-%d")
    if period == "month":
        return date.strftime("%Y-%m")
    raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
