"""The digest's chart: new engaged people per week by neighbourhood, and the year against the
target. matplotlib with the Agg backend (no screen), rendered to PNG bytes."""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after matplotlib.use: the backend is chosen first
from matplotlib.ticker import MaxNLocator

WIDTH_IN, HEIGHT_IN, DPI = 10, 8, 100


@dataclass(frozen=True, slots=True)
class ChartData:
    """What the chart shows."""

    week_labels: list[str]
    weekly_by_neighbourhood: list[dict[str, int]]
    year_weeks: list[str]
    year_cumulative: list[int]
    yearly_target: int


def render_png(data: ChartData, *, title: str, target_label: str, cumulative_label: str) -> bytes:
    """A 1000×800 PNG."""
    figure, (weekly, year) = plt.subplots(2, 1, figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    try:
        names = sorted({n for week in data.weekly_by_neighbourhood for n in week})
        bottoms = [0] * len(data.week_labels)
        for name in names:
            values = [week.get(name, 0) for week in data.weekly_by_neighbourhood]
            weekly.bar(data.week_labels, values, bottom=bottoms, label=name)
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
        weekly.set_title(title)
        weekly.tick_params(axis="x", labelrotation=45, labelsize=8)
        weekly.yaxis.set_major_locator(MaxNLocator(integer=True))
        if names:
            weekly.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        year.plot(data.year_weeks, data.year_cumulative, marker="o", label=cumulative_label)
        if data.year_weeks:
            pace = [round(data.yearly_target * (i + 1) / 52) for i in range(len(data.year_weeks))]
            year.plot(data.year_weeks, pace, linestyle="--", label=target_label)
        year.tick_params(axis="x", labelrotation=45, labelsize=7)
        year.yaxis.set_major_locator(MaxNLocator(integer=True))
        year.legend(fontsize=8, loc="upper left")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
        return buffer.getvalue()
    finally:
        plt.close(figure)
