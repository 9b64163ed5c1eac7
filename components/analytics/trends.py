"""Shares per period: the mean of the documents' distributions in each day, week or month.

Generic over what a distribution is over (topics, sentiment classes, ...): `PeriodShares`
takes `(date, distribution)` pairs one at a time, so a corpus streams through it with
one running sum per period. A pair without a date is counted (`undated`), never dropped
silently. `rows()` gives `(period, index, share)` with each period's shares summing to 1;
`write_csv` and `plot` turn them into `trends.csv` and a PNG of stacked bars.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from ..ml.dates import Period, period_start

__all__ = ["PeriodShares", "period_shares"]


class PeriodShares:
    """Running per-period sums of `size`-long distributions (see the module docstring).

    `add(date, distribution)` for each document (`date` a `datetime` or `None`); then
    `rows()`, `write_csv(path)`, `plot(path, labels)`. `dated` and `undated` count the pairs.
    """

    def __init__(self, size: int, *, period: Period = "week"):
        self.size = size
        self.period = period
        self.dated = 0
        self.undated = 0
        self._sums: dict[str, np.ndarray] = {}
        self._counts: dict[str, int] = {}

    def add(self, date: datetime | None, distribution: Sequence[float] | np.ndarray) -> None:
        """Count one document: its distribution goes to its date's period (or to `undated`)."""
        if date is None:
            self.undated += 1
            return
        label = period_start(date, self.period)
        values = np.asarray(distribution, dtype=np.float64)
        if values.shape != (self.size,):
            raise ValueError(f"expected a distribution of {self.size} values, got {values.shape}")
        total = self._sums.get(label)
        if total is None:
            self._sums[label] = values.copy()
            self._counts[label] = 1
        else:
            total += values
            self._counts[label] += 1
        self.dated += 1

    @property
    def periods(self) -> list[str]:
        """The periods that hold at least one document, in time order."""
        return sorted(self._sums)

    def documents(self, period: str) -> int:
        """How many documents fell in `period`."""
        return self._counts.get(period, 0)

    def shares(self, period: str) -> np.ndarray:
        """The mean distribution of `period`'s documents, renormalized to sum to 1."""
        mean = self._sums[period] / self._counts[period]
        total = mean.sum()
        return mean / total if total > 0 else mean

    def rows(self) -> list[tuple[str, int, float]]:
        """`(period, index, share)` for every period (time order) and index."""
        return [
            (label, index, float(share))
            for label in self.periods
            for index, share in enumerate(self.shares(label))
        ]

    def write_csv(self, path: Path, *, column: str = "topic") -> None:
        """`period,COLUMN,share` rows (shares rounded to 6 decimals) into `path`."""
        with Path(path).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["period", column, "share"])
            for label, index, share in self.rows():
                writer.writerow([label, index, f"{share:.6f}"])

    def plot(self, path: Path, labels: Sequence[str], *, title: str = "") -> None:
        """A PNG of stacked bars, one per period that holds documents (in time order, so
        a gap in the dates is not drawn as a trend), with each period's document count
        above; one band per index labelled with `labels[index]`, legend on the right."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        periods = self.periods
        shares = np.array([self.shares(p) for p in periods]).T  # (size, periods)
        colors = [plt.get_cmap("tab20")(i % 20) for i in range(self.size)]
        fig, ax = plt.subplots(figsize=(10, 4.8), dpi=110)
        x = np.arange(len(periods))
        bottom = np.zeros(len(periods))
        for index in range(self.size):
            ax.bar(x, shares[index], bottom=bottom, width=0.85, color=colors[index],
                   label=labels[index], linewidth=0)  # fmt: skip
            bottom += shares[index]
        step = max(1, int(np.ceil(len(periods) / 14)))
        ax.set_xticks(x[::step], [periods[i] for i in x[::step]], rotation=35, ha="right")
        if len(periods) <= 40:
            for i, period in enumerate(periods):
                ax.text(i, 1.01, str(self.documents(period)), ha="center", va="bottom",
                        fontsize=7, color="#555555")  # fmt: skip
        ax.set_xlim(-0.6, len(periods) - 0.4)
        ax.set_ylim(0, 1.06 if len(periods) <= 40 else 1)
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.set_ylabel("share of the period's documents")
        ax.set_xlabel(
            f"{self.period}s with documents ({self.dated} dated documents, {self.undated} undated;"
            " the number above a bar is its documents)"
            if len(periods) <= 40
            else f"{self.period}s with documents ({self.dated} dated, {self.undated} undated)"
        )
        ax.set_title(title or f"Shares per {self.period}")
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)


def period_shares(
    pairs: Iterable[tuple[datetime | None, Sequence[float] | np.ndarray]],
    size: int,
    *,
    period: Period = "week",
) -> PeriodShares:
    """A `PeriodShares` filled with `(date, distribution)` pairs (streamed, one pass)."""
    shares = PeriodShares(size, period=period)
    for date, distribution in pairs:
        shares.add(date, distribution)
    return shares
