"""Open shifts: schedule occurrences computed on the fly, minus the slots somebody booked.

No shift row exists until someone books it. A request walks the window one UTC day at a time,
taking each schedule's occurrences of that day from `SlotCache`, and stops as soon as `limit` slots
are found; bookings in the window are read with one query, whatever the length of the history.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from watchroster.auth.models import User
from watchroster.bookings.models import Booking
from watchroster.errors import ValidationFailed
from watchroster.schedules.models import Schedule
from watchroster.schedules.service import get_schedule
from watchroster.schedules.slot_cache import (
    ONE_DAY,
    VIEW_COLUMNS,
    CachedSlot,
    ScheduleView,
    SlotCache,
    utc_day_start,
)

MAX_WINDOW = timedelta(days=366)
DEFAULT_WINDOW = timedelta(days=14)


@dataclass(frozen=True)
class SlotQuery:
    window_start: datetime
    window_end: datetime
    limit: int
    schedule_id: int | None = None
    include_booked: bool = False


def check_window(window_start: datetime, window_end: datetime) -> None:
    if window_start > window_end:
        raise ValidationFailed(
            "from must not be after to", details=[{"field": "from", "message": "after to"}]
        )
    if window_end - window_start > MAX_WINDOW:
        raise ValidationFailed(
            "the window from..to may span at most 366 days",
            details=[{"field": "to", "message": "window longer than 366 days"}],
        )


# Built once and run on the Core connection: these two reads are most of a request's database
# cost, and the ORM result machinery (which `session.execute` adds) doubled it.
_ACTIVE_SCHEDULES = select(*VIEW_COLUMNS).where(Schedule.active.is_(True))
_ONE_ACTIVE_SCHEDULE = _ACTIVE_SCHEDULES.where(Schedule.schedule_id == bindparam("schedule_id"))
_IN_WINDOW = (
    Booking.canceled_at.is_(None),
    Booking.shift_start >= bindparam("start"),
    Booking.shift_start < bindparam("end"),
)
# Bookings of schedules that are not listed simply match no slot, so no schedule filter.
_BOOKED = select(Booking.schedule_id, Booking.shift_start).where(*_IN_WINDOW)
_BOOKED_WITH_NAMES = (
    select(Booking.schedule_id, Booking.shift_start, User.name)
    .join(User, User.user_id == Booking.user_id)
    .where(*_IN_WINDOW)
)


def _schedule_views(session: Session, schedule_id: int | None) -> list[ScheduleView]:
    connection = session.connection()
    if schedule_id is None:
        rows = connection.execute(_ACTIVE_SCHEDULES)
    else:
        get_schedule(session, schedule_id)  # unknown → 404
        rows = connection.execute(_ONE_ACTIVE_SCHEDULE, {"schedule_id": schedule_id})
    return [ScheduleView.of_row(row) for row in rows]


def _booked_slots(
    session: Session, start: datetime, end: datetime, with_names: bool
) -> dict[tuple[int, datetime], str | None]:
    """(schedule_id, start) → the booker's name (roster view only), for every active booking in
    the window. The index on shift_start keeps this independent of the booking history."""
    params = {"start": start, "end": end}
    if not with_names:
        return {(row[0], row[1]): None for row in session.connection().execute(_BOOKED, params)}
    named = session.connection().execute(_BOOKED_WITH_NAMES, params)
    return {(row[0], row[1]): row[2] for row in named}


def _days_in_order(
    views: list[ScheduleView], start: datetime, end: datetime, cache: SlotCache
) -> Iterator[list[CachedSlot]]:
    """The slots in [start, end), one UTC day per list, each in (start, schedule_id) order, so
    a request that reaches its limit early expands (or looks up) only the days it needs."""
    day = utc_day_start(start)
    schedules = [(view, cache.days_of(view)) for view in views]
    while day < end:
        slots = [slot for view, days in schedules for slot in cache.day(view, days, day)]
        slots.sort()
        if day < start or day + ONE_DAY > end:  # a partial day at either end of the window
            slots = [slot for slot in slots if start <= slot.start < end]
        yield slots
        day += ONE_DAY


class FoundSlot(NamedTuple):
    # A NamedTuple, not a dataclass: up to 1,000 are made per request and this is the hot path.
    slot: CachedSlot
    booked: bool
    booked_by: str | None


@dataclass(frozen=True)
class _Window:
    views: list[ScheduleView]
    start: datetime
    end: datetime
    booked: dict[tuple[int, datetime], str | None]

    def days(self, cache: SlotCache | None) -> Iterator[list[CachedSlot]]:
        return _days_in_order(self.views, self.start, self.end, cache or DEFAULT_CACHE)

    def names(self) -> dict[int, str]:
        return {view.schedule_id: view.name for view in self.views}


def _window(session: Session, query: SlotQuery, now: datetime) -> _Window | None:
    """What a slot list needs from the database: active schedules and the window's bookings.
    None when nothing can be offered."""
    check_window(query.window_start, query.window_end)
    views = _schedule_views(session, query.schedule_id)
    # A slot that has started can no longer be taken, so it is not shown.
    start = max(query.window_start, now + timedelta(microseconds=1))
    if not views or start >= query.window_end:
        return None
    booked = _booked_slots(session, start, query.window_end, with_names=query.include_booked)
    return _Window(views, start, query.window_end, booked)


def find_slots(
    session: Session, query: SlotQuery, now: datetime, cache: SlotCache | None = None
) -> tuple[list[FoundSlot], dict[int, str]]:
    """Slots in [window_start, window_end) that have not started, in (start, schedule) order
    (booked ones only with `include_booked`), and the schedules' names."""
    window = _window(session, query, now)
    if window is None:
        return [], {}
    found: list[FoundSlot] = []
    booked, roster = window.booked, query.include_booked
    for day in window.days(cache):
        for slot in day:
            key = (slot.schedule_id, slot.start)
            if key not in booked:
                found.append(FoundSlot(slot, False, None))
            elif roster:
                found.append(FoundSlot(slot, True, _first_name(booked[key])))
        if len(found) >= query.limit:
            break
    return found[: query.limit], window.names()


def _first_name(name: str | None) -> str | None:
    return name.split()[0] if name and name.strip() else None


def slot_dict(found: FoundSlot, names: dict[int, str], roster: bool) -> dict[str, object]:
    slot = found.slot
    body: dict[str, object] = {
        "schedule_id": slot.schedule_id,
        "schedule_name": names[slot.schedule_id],
        "start_time": slot.start_time,
        "end_time": slot.end_time,
        "available": not found.booked,
    }
    if roster:
        body["booked_by"] = found.booked_by
    return body


def open_slots(
    session: Session, query: SlotQuery, now: datetime, cache: SlotCache | None = None
) -> list[dict[str, object]]:
    """The slots as JSON-ready dicts (for jobs and tests)."""
    found, names = find_slots(session, query, now, cache)
    return [slot_dict(f, names, query.include_booked) for f in found]


def open_slots_json(
    session: Session, query: SlotQuery, now: datetime, cache: SlotCache | None = None
) -> str:
    """The response body of GET /shifts/available.

    The common case, open slots only, joins their pre-rendered JSON a day at a time with no
    object made per slot (this loop was most of the request's cost); the roster view renders
    on the fly.
    """
    if query.include_booked:
        found, names = find_slots(session, query, now, cache)
        return json.dumps([slot_dict(f, names, roster=True) for f in found])
    window = _window(session, query, now)
    if window is None:
        return "[]"
    parts: list[str] = []
    booked = window.booked
    for day in window.days(cache):
        parts += [s.available_json for s in day if (s.schedule_id, s.start) not in booked]
        if len(parts) >= query.limit:
            break
    return "[" + ",".join(parts[: query.limit]) + "]"


DEFAULT_CACHE = SlotCache()
