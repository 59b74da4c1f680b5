"""The fill-rate chart: one bar per week, drawn on the server as inline SVG.

No chart library and no script: the page works without JavaScript and weighs a few kilobytes
more. The SVG is an image to assistive technology (`role="img"` with its `<title>` and
`<desc>`); the page puts the same numbers in a table beside it for screen readers.
The geometry is computed here (pure, tested); `svg` writes the markup, every text escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from babel import dates as babel_dates
from markupsafe import Markup

from watchroster.attendance.service import WeekFigures
from watchroster.core import i18n

WIDTH = 640
HEIGHT = 240
LEFT = 52  # room for the percentages
BOTTOM = 40  # room for the week labels
TOP = 16
GRID = (0, 50, 100)  # percent lines
MAX_LABELS = 6  # labels wider than a bar would overlap: every n-th week is named


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # the week's first day, "5 May"
    percent: int | None  # None: nothing offered that week (no bar)


def percent(rate: float | None) -> int | None:
    return None if rate is None else round(rate * 100)


def bars(weeks: Sequence[WeekFigures], lang: str) -> list[Bar]:
    plot_width, plot_height = WIDTH - LEFT - 8, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(weeks), 1)
    found = []
    for index, week in enumerate(weeks):
        value = percent(week.fill.rate)
        height = plot_height * (value or 0) / 100
        found.append(
            Bar(
                x=round(LEFT + index * slot + slot * 0.15, 1),
                y=round(TOP + plot_height - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                label=day_label(week.first, lang),
                percent=value,
            )
        )
    return found


def day_label(day: date, lang: str) -> str:
    """`5 May`: short enough for twelve labels under the chart (Babel's month names)."""
    locale = i18n.supported(lang) or i18n.SOURCE_LANGUAGE
    return babel_dates.format_date(day, "d MMM", locale=locale)


def svg(weeks: Sequence[WeekFigures], title: str, description: str, lang: str) -> Markup:
    """The chart's markup; `title` and `description` are already in the page's language."""
    plot_height = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(description)}</desc>',
    ]
    for line in GRID:
        y = round(TOP + plot_height * (100 - line) / 100, 1)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - 8}" y1="{y}" y2="{y}"/>')
        parts.append(
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4}" text-anchor="end">{line}%</text>'
        )
    label_y = HEIGHT - BOTTOM + 22
    step = -(-len(weeks) // MAX_LABELS)  # a long period labels every n-th week only
    for index, bar in enumerate(bars(weeks, lang)):
        middle = round(bar.x + bar.width / 2, 1)
        if bar.percent is not None:
            parts.append(
                f'<rect class="bar" x="{bar.x}" y="{bar.y}" width="{bar.width}" '
                f'height="{bar.height}"/>'
            )
            parts.append(
                f'<text class="value" x="{middle}" y="{max(bar.y - 4, TOP + 8)}" '
                f'text-anchor="middle">{bar.percent}</text>'
            )
        if (len(weeks) - 1 - index) % step == 0:  # the latest week is always named
            parts.append(
                f'<text class="axis" x="{middle}" y="{label_y}" text-anchor="middle">'
                f"{escape(bar.label)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped
