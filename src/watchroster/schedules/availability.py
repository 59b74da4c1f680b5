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

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchroster.auth.models import User
from watchroster.bookings.models import Booking
from watchroster.errors import ValidationFailed
from watchroster.schedules.models import Schedule
from watchroster.schedules.recurrence import ScheduleRule
from watchroster.schedules.service import get_schedule
from watchroster.schedules.slot_cache import (
    ONE_DAY,
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


def _schedule_views(session: Session, schedule_id: int | None) -> list[ScheduleView]:
    if schedule_id is not None:
        get_schedule(session, schedule_id)  # unknown → 404
    columns = select(
        Schedule.schedule_id,
        Schedule.name,
        Schedule.cron_expr,
        Schedule.timezone,
        Schedule.start_date,
        Schedule.end_date,
        Schedule.duration_minutes,
    ).where(Schedule.active.is_(True))
    if schedule_id is not None:
        columns = columns.where(Schedule.schedule_id == schedule_id)
    return [
        ScheduleView(row[0], row[1], ScheduleRule(row[2], row[3], row[4], row[5], row[6]))
        for row in session.execute(columns)
    ]


def _booked_slots(
    session: Session, schedule_ids: list[int], start: datetime, end: datetime, with_names: bool
) -> dict[tuple[int, datetime], str | None]:
    """(schedule_id, start) → the booker's name (roster view only), for every active booking in
    the window. The index on shift_start keeps this independent of the booking history."""
    conditions = (
        Booking.canceled_at.is_(None),
        Booking.shift_start >= start,
        Booking.shift_start < end,
        Booking.schedule_id.in_(schedule_ids),
    )
    if not with_names:
        rows = session.execute(select(Booking.schedule_id, Booking.shift_start).where(*conditions))
        return {(row[0], row[1]): None for row in rows}
    query = (
        select(Booking.schedule_id, Booking.shift_start, User.name)
        .join(User, User.user_id == Booking.user_id)
        .where(*conditions)
    )
    return {(row[0], row[1]): row[2] for row in session.execute(query)}


def _in_order(
    views: list[ScheduleView], start: datetime, end: datetime, cache: SlotCache
) -> Iterator[CachedSlot]:
    """Every slot in [start, end) in (start, schedule_id) order, one UTC day at a time, so a
    request that reaches its limit early expands (or looks up) only the days it needs."""
    day = utc_day_start(start)
    while day < end:
        slots = [slot for view in views for slot in cache.day(view, day)]
        slots.sort(key=lambda slot: (slot.start, slot.schedule_id))
        for slot in slots:
            if start <= slot.start < end:
                yield slot
        day += ONE_DAY


class FoundSlot(NamedTuple):
    # A NamedTuple, not a dataclass: up to 1,000 are made per request and this is the hot path.
    slot: CachedSlot
    booked: bool
    booked_by: str | None


def find_slots(
    session: Session, query: SlotQuery, now: datetime, cache: SlotCache | None = None
) -> list[FoundSlot]:
    """Slots in [window_start, window_end) that have not started, in (start, schedule) order;
    booked ones only with `include_booked`."""
    check_window(query.window_start, query.window_end)
    views = _schedule_views(session, query.schedule_id)
    # A slot that has started can no longer be taken, so it is not shown.
    start = max(query.window_start, now + timedelta(microseconds=1))
    if not views or start >= query.window_end:
        return []
    roster = query.include_booked
    schedule_ids = [v.schedule_id for v in views]
    booked = _booked_slots(session, schedule_ids, start, query.window_end, with_names=roster)
    found: list[FoundSlot] = []
    for slot in _in_order(views, start, query.window_end, cache or DEFAULT_CACHE):
        key = (slot.schedule_id, slot.start)
        if key in booked:
            if roster:
                found.append(FoundSlot(slot, True, _first_name(booked[key])))
        else:
            found.append(FoundSlot(slot, False, None))
        if len(found) >= query.limit:
            break
    return found


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
    found = find_slots(session, query, now, cache)
    names = {v.schedule_id: v.name for v in _schedule_views(session, query.schedule_id)}
    return [slot_dict(f, names, query.include_booked) for f in found]


def open_slots_json(
    session: Session, query: SlotQuery, now: datetime, cache: SlotCache | None = None
) -> str:
    """The response body of GET /shifts/available. Open slots are served from their
    pre-rendered JSON; only the roster view renders booked slots on the fly."""
    found = find_slots(session, query, now, cache)
    if not query.include_booked:
        return "[" + ",".join(f.slot.available_json for f in found) + "]"
    names = {v.schedule_id: v.name for v in _schedule_views(session, query.schedule_id)}
    return json.dumps([slot_dict(f, names, roster=True) for f in found])


DEFAULT_CACHE = SlotCache()
