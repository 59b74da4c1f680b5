"""The fill-rate chart's geometry and markup, and the CSV writer's formula guard (no database)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

from watchroster.attendance import chart
from watchroster.attendance.service import FillRate, WeekFigures
from watchroster.core.csvexport import to_csv

MONDAY = date(2025, 3, 3)


def _weeks(*fills: tuple[int, int]) -> list[WeekFigures]:
    return [
        WeekFigures(MONDAY + timedelta(weeks=i), MONDAY + timedelta(weeks=i, days=6), FillRate(*f))
        for i, f in enumerate(fills)
    ]


def test_bar_heights_follow_the_rate_and_an_empty_week_has_no_bar() -> None:
    bars = chart.bars(_weeks((4, 4), (4, 1), (0, 0)), "en")
    full, quarter, empty = bars
    assert (full.percent, quarter.percent, empty.percent) == (100, 25, None)
    assert full.height == chart.HEIGHT - chart.TOP - chart.BOTTOM
    assert quarter.height == round(full.height / 4, 1)
    assert full.y + full.height == quarter.y + quarter.height  # one baseline
    assert empty.height == 0
    assert [bar.label for bar in bars] == ["3 Mar", "10 Mar", "17 Mar"]
    assert chart.bars(_weeks((1, 1)), "af")[0].label == "3 Mrt."


def test_the_svg_is_an_image_with_its_title_and_description_escaped() -> None:
    svg = str(chart.svg(_weeks((2, 1), (0, 0)), "Fill <rate>", "Per week & more", "en"))
    assert svg.startswith('<svg class="chart" role="img"')
    assert 'aria-labelledby="chart-title chart-desc"' in svg
    assert '<title id="chart-title">Fill &lt;rate&gt;</title>' in svg
    assert '<desc id="chart-desc">Per week &amp; more</desc>' in svg
    assert svg.count('<rect class="bar"') == 1


def test_long_periods_name_every_nth_week_ending_with_the_latest() -> None:
    svg = str(chart.svg(_weeks(*[(1, 1)] * 12), "t", "d", "en"))
    named = re.findall(r'<text class="axis"[^>]*text-anchor="middle">([^<]+)</text>', svg)
    assert "19 May" in named  # the twelfth week, 3 March + 11 weeks
    assert 3 <= len(named) <= chart.MAX_LABELS


def test_csv_cells_that_would_run_as_formulas_are_quoted() -> None:
    text = to_csv(("a", "b", "c"), [("=1+1", "+27 82", 5), ("-x", "@sum", None), ("ok", "", -3)])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["a", "b", "c"],
        ["'=1+1", "'+27 82", "5"],
        ["'-x", "'@sum", ""],
        ["ok", "", "-3"],
    ]
