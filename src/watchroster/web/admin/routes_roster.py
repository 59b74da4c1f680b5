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
from watchroster.web.admin import routes_calls
from watchroster.web.forms import parse_id
from watchroster.web.render import error_page, language_of, render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Period:
    """Which days the page shows: a week (Monday to Sunday), the default 14 days from today, or
    one day of one schedule in full (`schedule_id`, a page at a time: the "N more" link)."""

    first: date
    days: int
    week: bool
    schedule_id: int | None = None
    page: int = 1

    @property
    def query(self) -> str:
        if self.week:
            return f"week={self.first.isoformat()}"
        if self.schedule_id is not None:
            return self.detail_query(self.page)
        return f"start={self.first.isoformat()}&days={self.days}"

    def detail_query(self, page: int) -> str:
        query = f"day={self.first.isoformat()}&schedule_id={self.schedule_id}"
        return query if page == 1 else f"{query}&page={page}"


def _number(request: Request, name: str) -> int:
    """A positive whole number from the query string (ASCII digits), else `ValidationFailed`."""
    value = parse_id(request.query_params.get(name) or "")
    if value is None:
        raise ValidationFailed(f"{name} must be a positive whole number")
    return value


def _period(request: Request, today: date) -> Period:
    """From `?week=YYYY-MM-DD` (any day of the week), or `?day=YYYY-MM-DD&schedule_id=N`
    (`&page=K`); else the next 14 days. A bad value is a `ValidationFailed` (the page answers
    400 in words)."""
    week = request.query_params.get("week")
    if week is not None:
        return Period(service.week_of(parse_day(week, "week")), 7, True)
    day = request.query_params.get("day")
    if day is not None:
        page = _number(request, "page") if "page" in request.query_params else 1
        return Period(parse_day(day, "day"), 1, False, _number(request, "schedule_id"), page)
    return Period(today, service.DEFAULT_DAYS, False)


def _overdue(found: list[home_safe.Overdue]) -> dict[tuple[int, datetime], str]:
    """Slots with a booking nobody has marked "home safe" past its check-in (issue #12 §5),
    by (schedule_id, start) as the template looks them up: the volunteers' first names."""
    names: dict[tuple[int, datetime], list[str]] = {}
    for overdue in found:
        names.setdefault((overdue.schedule_id, overdue.shift_start), []).append(
            overdue.first_name or "?"
        )
    return {key: ", ".join(first_names) for key, first_names in names.items()}


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
    zone = context.settings.zone
    return period, await context.db.run_read(service.roster, period.first, period.days, zone)


@dataclass(frozen=True)
class Pages:
    """The query strings of the neighbouring pages of one schedule's day (None: no such page)."""

    earlier: str | None
    later: str | None


Rows = dict[date, tuple[list[service.Slot], list[service.More]]]


def _one_schedule(roster: service.Roster, period: Period) -> tuple[service.Roster, Rows, Pages]:
    """One day of one schedule, `DETAIL_PAGE` slots a page: the target of "N more"."""
    day = roster.days[0]
    wanted = period.schedule_id
    slots = [slot for slot in day.slots if slot.schedule_id == wanted]
    counts = [count for count in day.counts if count.schedule_id == wanted]
    first = (period.page - 1) * service.DETAIL_PAGE
    shown = slots[first : first + service.DETAIL_PAGE]
    earlier = period.detail_query(period.page - 1) if period.page > 1 else None
    later = period.detail_query(period.page + 1) if first + len(shown) < len(slots) else None
    only = service.Day(day.day, slots, counts)
    return (
        service.Roster(roster.first, roster.last, [only], counts),
        {day.day: (shown, [])},
        Pages(earlier, later),
    )


def _rows(roster: service.Roster, period: Period) -> tuple[service.Roster, Rows, Pages | None]:
    """What each day's table lists: the week (the print view) in full, a day of the 14 days
    bounded (`service.bounded`), one schedule's day a page at a time."""
    if period.schedule_id is not None:
        return _one_schedule(roster, period)
    if period.week:
        return roster, {day.day: (day.slots, []) for day in roster.days}, None
    return roster, {day.day: service.bounded(day) for day in roster.days}, None


def _words(lang: str) -> dict[str, Any]:
    """Date and time formatting for the template, in the page's language."""
    return {
        "format_day": lambda day: i18n.format_day(day, lang),
        "format_range": lambda start, end: i18n.format_time_range(start, end, lang),
        "format_year": lambda day: i18n.format_day(day, lang) + f" {day.year}",
    }


@router.get("/admin/roster")
async def roster_page(request: Request) -> Response:
    found = await _roster_or_error(request)
    if isinstance(found, Response):
        return found
    period, whole = found
    roster, rows, pages = _rows(whole, period)
    lang, context = language_of(request), context_of(request)
    overdue = await context.db.run_read(home_safe.overdue_bookings, context.clock())
    this_week = service.week_of(period.first)
    values = {
        "section": "admin",
        "area": "roster",
        "roster": roster,
        "rows": rows,
        "pages": pages,
        "period": period,
        "week": this_week.isoformat(),
        "previous_week": (this_week - timedelta(days=7)).isoformat(),
        "next_week": (this_week + timedelta(days=7)).isoformat(),
        "today": context.clock().astimezone(context.settings.zone).date(),
        "here": quote(f"/admin/roster?{period.query}", safe="/?=&"),
        # Calls for volunteers on these days (`admin/roster/gap_actions.html`).
        "calls": await routes_calls.calls_for(request, period.first, period.days, lang),
        # "Home safe" overdue (helper C, issue #12 §5): by (schedule_id, start).
        "overdue": _overdue(overdue),
        **_words(lang),
    }
    return render(request, "admin/roster/roster.html", values)


@router.get("/admin/roster.csv")
async def roster_csv(request: Request) -> Response:
    found = await _roster_or_error(request)
    if isinstance(found, Response):
        return found
    return export.csv_response(found[1])
