"""The roster page: the next 14 days (or one chosen week, for printing), day by day, with the
gaps highlighted; and its CSV download. `roster.service` does what `GET /roster` does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from watchroster.bookings import home_safe
from watchroster.core import i18n
from watchroster.core.errors import ValidationFailed
from watchroster.core.timefmt import parse_day
from watchroster.http.deps import context_of
from watchroster.roster import export, service
from watchroster.runtime.context import AppContext
from watchroster.web.admin import routes_calls
from watchroster.web.admin.access import admin_user
from watchroster.web.render import error_page, language_of, render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Period:
    """Which days the page shows: a week (Monday to Sunday) or the default 14 days from today."""

    first: date
    days: int
    week: bool

    @property
    def query(self) -> str:
        if self.week:
            return f"week={self.first.isoformat()}"
        return f"start={self.first.isoformat()}&days={self.days}"


def _period(request: Request, today: date) -> Period:
    """From `?week=YYYY-MM-DD` (any day of the week); else the next 14 days. A bad date is a
    `ValidationFailed` (the page answers 400 in words)."""
    week = request.query_params.get("week")
    if week is not None:
        return Period(service.week_of(parse_day(week, "week")), 7, True)
    return Period(today, service.DEFAULT_DAYS, False)


def _read(context: AppContext, period: Period) -> service.Roster:
    with context.db.read() as session:
        return service.roster(session, period.first, period.days, context.settings.zone)


def _overdue(context: AppContext) -> dict[tuple[int, datetime], str]:
    """Slots with a booking nobody has marked "home safe" past its check-in (issue #12 §5),
    by (schedule_id, start) as the template looks them up: the volunteers' first names."""
    found: dict[tuple[int, datetime], list[str]] = {}
    with context.db.read() as session:
        for overdue in home_safe.overdue_bookings(session, context.clock()):
            names = found.setdefault((overdue.schedule_id, overdue.shift_start), [])
            names.append(overdue.first_name or "?")
    return {key: ", ".join(names) for key, names in found.items()}


async def _roster_or_error(request: Request) -> tuple[Period, service.Roster] | Response:
    context = context_of(request)
    today = context.clock().astimezone(context.settings.zone).date()
    try:
        period = _period(request, today)
    except ValidationFailed:
        _ = i18n.gettext_for(language_of(request))
        return error_page(
            request, 400, _("Not a date"), _("Choose the week with a date such as 2026-12-07.")
        )
    return period, await context.db.offload_read(_read, context, period)


def _words(lang: str) -> dict[str, Any]:
    """Date and time formatting for the template, in the page's language."""
    return {
        "format_day": lambda day: i18n.format_day(day, lang),
        "format_range": lambda start, end: i18n.format_time_range(start, end, lang),
        "format_year": lambda day: i18n.format_day(day, lang) + f" {day.year}",
    }


@router.get("/admin/roster")
async def roster_page(request: Request) -> Response:
    await admin_user(request)
    found = await _roster_or_error(request)
    if isinstance(found, Response):
        return found
    period, roster = found
    lang = language_of(request)
    this_week = service.week_of(period.first)
    values = {
        "section": "admin",
        "area": "roster",
        "roster": roster,
        "period": period,
        "week": this_week.isoformat(),
        "previous_week": (this_week - timedelta(days=7)).isoformat(),
        "next_week": (this_week + timedelta(days=7)).isoformat(),
        "today": context_of(request).clock().astimezone(context_of(request).settings.zone).date(),
        "here": quote(f"/admin/roster?{period.query}", safe="/?=&"),
        # Calls for volunteers on these days (`admin/roster/gap_actions.html`).
        "calls": await routes_calls.calls_for(request, period.first, period.days, lang),
        # "Home safe" overdue (helper C, issue #12 §5): by (schedule_id, start).
        "overdue": await context_of(request).db.offload_read(_overdue, context_of(request)),
        **_words(lang),
    }
    return render(request, "admin/roster/roster.html", values)


@router.get("/admin/roster.csv")
async def roster_csv(request: Request) -> Response:
    await admin_user(request)
    found = await _roster_or_error(request)
    if isinstance(found, Response):
        return found
    return export.csv_response(found[1])
