"""Open shifts and booking one, on `availability.find_slots` and `bookings.create`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from watchroster.core.errors import ValidationFailed
from watchroster.core.timefmt import parse_instant
from watchroster.http.deps import context_of
from watchroster.schedules import availability, slot_listing
from watchroster.web.forms import query_number
from watchroster.web.present import group_by_day, slot_line
from watchroster.web.render import (
    is_htmx,
    language_of,
    render,
    render_fragment,
    slots_html,
)
from watchroster.web.sessions import page_user

router = APIRouter(include_in_schema=False)

# Slots per page: a screenful or three on a phone, and a cheap render.
PAGE_SIZE = 50


def _window_start(request: Request, now: datetime) -> datetime:
    text = request.query_params.get("from", "")
    try:
        return max(parse_instant(text, "from"), now) if text else now
    except ValidationFailed:
        return now


def _later_url(
    found: list[availability.FoundSlot], window_end: datetime, schedule_id: int | None
) -> tuple[list[availability.FoundSlot], str]:
    """Cut a page of slots and link the next one. The cut falls between two start times, so a
    slot shared by several schedules is never split across pages (nor shown twice)."""
    next_start = window_end
    if len(found) > PAGE_SIZE:
        next_start = found[PAGE_SIZE].slot.start
        shown = [f for f in found[:PAGE_SIZE] if f.slot.start < next_start]
        found = shown or found[:PAGE_SIZE]
        if not shown:  # a whole page at one start time: go past it
            next_start += timedelta(microseconds=1)
    url = "/shifts?from=" + quote(next_start.isoformat(), safe="")
    if schedule_id is not None:
        url += f"&schedule_id={schedule_id}"
    return found, url


# The rendered list of days and slots, by everything it shows. Only whether a slot is open
# changes between requests (and that changes the key), so each distinct list is built once.
_LISTS: dict[tuple[object, ...], Markup] = {}
_MAX_LISTS = 512


def _slot_list(
    found: list[availability.FoundSlot],
    names: dict[int, str],
    lang: str,
    today: date,
    later_url: str | None,
) -> Markup:
    slots = tuple(
        (f.slot.schedule_id, names.get(f.slot.schedule_id, ""), f.slot.start_time, f.slot.end_time)
        for f in found
    )
    # Seats left change the words ("2 of 3 places left"), so they are part of the key.
    places = tuple((f.slot.seats, f.seats_left) for f in found)
    key = (lang, today, later_url, slots, places)
    html = _LISTS.get(key)
    if html is None:
        lines = [slot_line(*slot, lang, *left) for slot, left in zip(slots, places, strict=True)]
        days = group_by_day(lines, today, lang)
        for day in days:
            day.html = slots_html(day.lines, lang)
        html = render_fragment("shifts/days.html", lang, {"days": days, "later_url": later_url})
        if len(_LISTS) >= _MAX_LISTS:  # bounded: start again rather than grow
            _LISTS.clear()
        _LISTS[key] = html
    return html


async def shifts_values(
    request: Request, schedule_id: int | None, window_start: datetime
) -> dict[str, Any]:
    """What the open-shifts list shows (also the fragment returned after a lost race)."""
    context, lang = context_of(request), language_of(request)
    now = context.clock()
    # On a whole minute, so the "later" link (and with it the cached list) stays the same from
    # one request to the next.
    window_end = (window_start + availability.DEFAULT_WINDOW).replace(second=0, microsecond=0)
    query = availability.SlotQuery(window_start, window_end, PAGE_SIZE + 1, schedule_id)
    found, schedules = await context.db.run_read(slot_listing.slots_and_schedules, query, now)
    found, later_url = _later_url(found, window_end, schedule_id)
    today = now.astimezone(context.settings.zone).date()
    names = dict(schedules)
    slots_list = _slot_list(found, names, lang, today, later_url if schedules else None)
    return {
        "slots_list": slots_list,
        "schedules": tuple(schedules),
        "schedule_id": schedule_id,
        "later_url": later_url if schedules else None,
        "section": "shifts",
        "logged_in": True,
    }


@router.get("/shifts")
async def open_shifts(request: Request) -> Response:
    await page_user(request)
    now = context_of(request).clock()
    schedule_id = query_number(request.query_params, "schedule_id", 1)
    values = await shifts_values(request, schedule_id, _window_start(request, now))
    block = "slots" if is_htmx(request) else None
    return render(request, "shifts/list.html", values, block=block)
