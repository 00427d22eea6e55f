"""Server-side bar charts for the dashboard: the geometry of horizontal bars, rendered as inline SVG by
the `bar_chart` macro in templates/reports/_charts.html. No JavaScript and no chart library are needed."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

ROW_HEIGHT = 26
BAR_HEIGHT = 18
LABEL_WIDTH = 150
MAX_LABEL_WIDTH = 230  # the label column grows up to this for longer labels ("Bob (Head of Sales)") before cutting
VALUE_WIDTH = 100
WIDTH = 520
NARROW_WIDTH = 340  # about a 390 px phone's content width: drawn 1:1 there
NARROW_LABEL_LINE = 18  # on a phone each row's label has a line of its own above its bars, the chart's full width


@dataclass
class Bar:
    """One bar: its label, value, the text shown beside it and its geometry."""

    label: str
    value: float
    text: str
    y: int
    width: float
    series: int = 0
    full_label: str = ""


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
    label_line: int = 0  # > 0: labels sit on a line of this height above the bars (the phone drawing)

    @property
    def height(self) -> int:
        """The SVG height in pixels."""
        return max(self.rows, 1) * self.row_height + 8

    @property
    def plot_width(self) -> int:
        """The width left for bars."""
        return self.width - self.label_width - VALUE_WIDTH

    def narrow(self) -> Chart:
        """The same chart drawn for a phone (NARROW_WIDTH wide, so its text is not scaled down): each row's
        label on a line of its own above its bars, as wide as the chart (a name is not cut to a few letters),
        the bars rescaled to the full width."""
        out = Chart(title=self.title, legend=self.legend, rows=self.rows, width=NARROW_WIDTH, label_width=0,
                    row_height=self.row_height + NARROW_LABEL_LINE, bar_height=self.bar_height,
                    label_line=NARROW_LABEL_LINE)
        scale = out.plot_width / self.plot_width
        for bar in self.bars:
            row, offset = divmod(bar.y, self.row_height)
            label = fit_label(bar.full_label, NARROW_WIDTH - 4) if bar.full_label else ""
            out.bars.append(Bar(label=label, value=bar.value, text=bar.text,
                                y=row * out.row_height + NARROW_LABEL_LINE + offset,
                                width=round(bar.width * scale, 1), series=bar.series, full_label=bar.full_label))
        return out

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


def fmt_hours(value: Any) -> str:
    """A cycle time in hours with one decimal; under 0.05 h (3 minutes, a stored 0.0 included) "< 0.1", never a
    bare 0 that reads like a missing figure."""
    number = _number(value)
    if number < 0.05:
        return "< 0.1"
    return f"{number:,.1f}"


def fmt_number(value: Any) -> str:
    """A compact figure: 12,345 or 1.5 (hours)."""
    number = _number(value)
    if number == int(number):
        return f"{int(number):,}"
    return f"{number:,.1f}"


def text_width(text: str, font_px: float = 13) -> float:
    """Roughly how wide `text` is drawn: wide (CJK, full-width) characters a full em, others about 0.6 em."""
    return sum(font_px if unicodedata.east_asian_width(ch) in ("W", "F") else font_px * 0.6 for ch in text)


def fit_label(text: str, width_px: float = LABEL_WIDTH - 12, font_px: float = 13) -> str:
    """`text` cut (with …) to fit `width_px`, so row labels never run into each other or off the chart in any
    script."""
    if text_width(text, font_px) <= width_px:
        return text
    out = ""
    for ch in text:
        if text_width(out + ch + "…", font_px) > width_px:
            break
        out += ch
    return out + "…"


def bar_chart(title: str, rows: list[tuple[str, list[Any]]], legend: list[str] | None = None,
              texts: list[list[str]] | None = None, fmt: Callable[[Any], str] = fmt_number) -> Chart:
    """A chart with one row per (label, [value per series]); bars scale to the largest value. Each bar says its
    value through `fmt` (money charts pass `api.web.formatting.format_money`: 218,000.50) unless `texts` are
    given."""
    series = max((len(values) for _label, values in rows), default=1) or 1
    bar_height = BAR_HEIGHT if series == 1 else 10
    longest = max((text_width(str(label)) for label, _values in rows), default=0)
    chart = Chart(title=title, legend=legend or [], rows=len(rows), bar_height=bar_height,
                  row_height=series * bar_height + 10,
                  label_width=int(min(max(LABEL_WIDTH, longest + 16), MAX_LABEL_WIDTH)))
    peak = max((_number(v) for _label, values in rows for v in values), default=0.0) or 1.0
    for i, (label, values) in enumerate(rows):
        nothing = all(_number(v) <= 0 for v in values)  # a row of zeros still says 0 rather than nothing
        for s, value in enumerate(values):
            number = max(_number(value), 0.0)
            quiet = number == 0 and series > 1 and not (nothing and s == 0)
            text = texts[i][s] if texts else ("" if quiet else fmt(number))
            y = i * chart.row_height + 5 + s * bar_height
            chart.bars.append(Bar(label=fit_label(label, chart.label_width - 12) if s == 0 else "", value=number,
                                  text=text, y=y,
                                  width=round(number / peak * chart.plot_width, 1), series=s,
                                  full_label=label if s == 0 else ""))
    return chart
