"""Server-side bar charts for the dashboard: the geometry of horizontal bars, rendered as inline SVG by
the `bar_chart` macro in templates/reports/_charts.html. No JavaScript and no chart library are needed."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

ROW_HEIGHT = 26
BAR_HEIGHT = 18
LABEL_WIDTH = 150
VALUE_WIDTH = 100
WIDTH = 520


@dataclass
class Bar:
    """One bar: its label, value, the text shown beside it and its geometry."""

    label: str
    value: float
    text: str
    y: int
    width: float
    series: int = 0


@dataclass
class Chart:
    """A horizontal bar chart: one row per label, one or more series per row."""

    title: str
    bars: list[Bar] = field(default_factory=list)
    legend: list[str] = field(default_factory=list)
    rows: int = 0
    width: int = WIDTH
    label_width: int = LABEL_WIDTH
    row_height: int = ROW_HEIGHT
    bar_height: int = BAR_HEIGHT

    @property
    def height(self) -> int:
        """The SVG height in pixels."""
        return max(self.rows, 1) * self.row_height + 8

    @property
    def plot_width(self) -> int:
        """The width left for bars."""
        return self.width - self.label_width - VALUE_WIDTH

    @property
    def empty(self) -> bool:
        """True when there is nothing to draw."""
        return not self.bars


def _number(value: Any) -> float:
    if isinstance(value, Decimal | int | float):
        return float(value)
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def fmt_number(value: Any) -> str:
    """A compact figure: 12,345 or 1.5 (hours)."""
    number = _number(value)
    if number == int(number):
        return f"{int(number):,}"
    return f"{number:,.1f}"


def bar_chart(title: str, rows: list[tuple[str, list[Any]]], legend: list[str] | None = None,
              texts: list[list[str]] | None = None) -> Chart:
    """A chart with one row per (label, [value per series]); bars scale to the largest value."""
    series = max((len(values) for _label, values in rows), default=1) or 1
    bar_height = BAR_HEIGHT if series == 1 else 10
    chart = Chart(title=title, legend=legend or [], rows=len(rows), bar_height=bar_height,
                  row_height=series * bar_height + 10)
    peak = max((_number(v) for _label, values in rows for v in values), default=0.0) or 1.0
    for i, (label, values) in enumerate(rows):
        for s, value in enumerate(values):
            number = max(_number(value), 0.0)
            text = texts[i][s] if texts else ("" if number == 0 and series > 1 else fmt_number(number))
            y = i * chart.row_height + 5 + s * bar_height
            chart.bars.append(Bar(label=label if s == 0 else "", value=number, text=text, y=y,
                                  width=round(number / peak * chart.plot_width, 1), series=s))
    return chart
