"""The date parts a table's date columns can be turned into (`features.date_parts`).

Its own light module so that both the config checks (`components.ml.tabular`, imported
without scikit-learn) and the transformer (`components.ml.tabular_steps.DateParts`) read
one list.
"""

from __future__ import annotations

__all__ = ["DATE_PARTS"]

DATE_PARTS: tuple[str, ...] = (
    "year",
    "quarter",
    "month",
    "day",
    "dayofweek",
    "dayofyear",
    "weekofyear",
    "hour",
    "minute",
    "is_weekend",
)
