"""Attendance figures (`/admin/attendance`): the tables, the weekly chart and the CSV download.

Everything is a GET with the period and the order in the query, so sorting by a column is a
plain link and the page works without JavaScript; the numbers come from `attendance.service`,
as the JSON API's do.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from watchroster.attendance import chart, export, service
from watchroster.core import i18n
from watchroster.core.csvexport import download
from watchroster.core.errors import ValidationFailed
from watchroster.core.i18n import N_
from watchroster.http.deps import context_of
from watchroster.web.render import error_page, language_of, render

router = APIRouter(include_in_schema=False)

# (sort key, column heading); numbers sort largest first on the first click.
COLUMNS = (
    ("name", N_("Volunteer")),
    ("booked", N_("Booked")),
    ("attended", N_("Attended")),
    ("absent", N_("Absent")),
    ("not_recorded", N_("Not recorded")),
    ("canceled_late", N_("Cancelled late")),
)


def _query(request: Request, name: str) -> str | None:
    """A query value; an empty form field (a date left blank) is no value."""
    value = request.query_params.get(name)
    return value.strip() or None if value is not None else None


async def _load(request: Request) -> service.Figures:
    """The figures of the query's period, sorted as asked (a bad period: `ValidationFailed`)."""
    context = context_of(request)
    now, zone = context.clock(), context.settings.zone
    period = service.requested_period(_query(request, "from"), _query(request, "to"), now, zone)
    sort = _query(request, "sort")
    return await context.db.run_read(service.attendance_figures, period, now, sort)


def _bad_period(request: Request, status: int = 400) -> Response:
    _ = i18n.gettext_for(language_of(request))
    return error_page(
        request,
        status,
        _("Check the period"),
        _(
            "“From” and “Until” must be dates (YYYY-MM-DD), From on or before Until, "
            "at most a year apart."
        ),
    )


def _columns(figures: service.Figures, lang: str) -> list[dict[str, Any]]:
    """Each heading's link: the same period, sorted by that column (again: the other way)."""
    _ = i18n.gettext_for(lang)
    key, descending = service.parse_sort(figures.sort)
    period = {"from": figures.period.first.isoformat(), "to": figures.period.last.isoformat()}
    columns = []
    for column, heading in COLUMNS:
        if column == key:
            target = column if descending else f"-{column}"
            state = "descending" if descending else "ascending"
        else:
            target, state = (column if column == "name" else f"-{column}"), None
        link = "/admin/attendance?" + urlencode({**period, "sort": target})
        columns.append({"key": column, "heading": _(heading), "link": link, "state": state})
    return columns


def _page_values(figures: service.Figures, lang: str) -> dict[str, Any]:
    _ = i18n.gettext_for(lang)
    period = figures.period
    first, last = i18n.format_day(period.first, lang), i18n.format_day(period.last, lang)
    query = {"from": period.first.isoformat(), "to": period.last.isoformat(), "sort": figures.sort}
    weeks = [
        {
            "words": f"{chart.day_label(week.first, lang)} – {chart.day_label(week.last, lang)}",
            "fill": week.fill,
            "percent": chart.percent(week.fill.rate),
        }
        for week in figures.weeks
    ]
    description = _("Share of offered places booked, per week, from %(first)s to %(last)s.")
    return {
        "figures": figures,
        "columns": _columns(figures, lang),
        "period_words": f"{first} – {last}",
        "csv_link": "/admin/attendance.csv?" + urlencode(query),
        "schedules": [(s, chart.percent(s.fill.rate)) for s in figures.schedules],
        "weeks": weeks,
        "chart": chart.svg(
            figures.weeks,
            _("Fill rate per week"),
            description % {"first": first, "last": last},
            lang,
        ),
        "section": "admin",
        "area": "attendance",
    }


@router.get("/admin/attendance")
async def attendance_page(request: Request) -> Response:
    try:
        figures = await _load(request)
    except ValidationFailed:
        return _bad_period(request)
    values = _page_values(figures, language_of(request))
    return render(request, "admin/attendance/page.html", values)


@router.get("/admin/attendance.csv")
async def attendance_csv(request: Request) -> Response:
    try:
        figures = await _load(request)
    except ValidationFailed:
        return _bad_period(request)
    return download(export.attendance_csv(figures), export.filename(figures))
