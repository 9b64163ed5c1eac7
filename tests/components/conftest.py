"""Fixtures for component tests: a short news story written for these tests."""

from __future__ import annotations

import pytest

#: A news story in wire style: abbreviations ("Mr.", "U.S.", "Jan.", "Inc."), quotes,
#: contractions, numbers, a URL, an e-mail address and a paragraph break.
NEWS = (
    "WASHINGTON (Reuters) - Mr. Smith, a senior U.S. Treasury official, said on Tuesday "
    "that the government won't change its borrowing plans before Jan. 15. "
    '"We\'re watching inflation closely," he told reporters. Consumer prices rose 3.2% '
    "in March, the Labor Department said.\n\n"
    "Shares of Apple Inc. fell 1.5% to $170.33 in early trading. Analysts at Goldman "
    "Sachs said the company's results, due on Thursday, would show weaker iPhone sales. "
    "Details: https://www.example.com/markets/apple-q2 or markets@example.com."
)


@pytest.fixture
def news() -> str:
    """The news story above."""
    return NEWS
