"""Open shifts: schedule occurrences computed on the fly, minus the slots somebody booked.

No shift row exists until someone books it. A request expands each schedule lazily and merges the
streams in time order, so it stops as soon as `limit` slots are found; bookings in the window are
read with one query, whatever the length of the booking history.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchroster.auth.models import User
from watchroster.bookings.models import Booking
from watchroster.errors import ValidationFailed
from watchroster.schedules.models import Schedule
from watchroster.schedules.recurrence import Occurrence, occurrences
from watchroster.schedules.service import get_schedule
from watchroster.timefmt import to_rfc3339

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


def _schedules_for(session: Session, schedule_id: int | None) -> list[Schedule]:
    if schedule_id is not None:
        schedule = get_schedule(session, schedule_id)  # unknown → 404
        return [schedule] if schedule.active else []
    query = select(Schedule).where(Schedule.active.is_(True)).order_by(Schedule.schedule_id)
    return list(session.scalars(query))


def _booked_slots(
    session: Session, schedule_ids: list[int], start: datetime, end: datetime
) -> dict[tuple[int, datetime], str | None]:
    """(schedule_id, start) → the booker's name, for every active booking in the window."""
    query = (
        select(Booking.schedule_id, Booking.shift_start, User.name)
        .join(User, User.user_id == Booking.user_id)
        .where(
            Booking.canceled_at.is_(None),
            Booking.shift_start >= start,
            Booking.shift_start < end,
            Booking.schedule_id.in_(schedule_ids),
        )
    )
    return {(row[0], row[1]): row[2] for row in session.execute(query)}


def _keyed(
    schedule: Schedule, start: datetime, end: datetime
) -> Iterator[tuple[datetime, int, Occurrence]]:
    schedule_id = schedule.schedule_id
    for occ in occurrences(schedule.rule, start, end):
        yield occ.start, schedule_id, occ


def _merged(
    schedules: list[Schedule], start: datetime, end: datetime
) -> Iterator[tuple[datetime, int, Occurrence]]:
    """All schedules' occurrences in (start, schedule_id) order, generated lazily."""
    return heapq.merge(*(_keyed(schedule, start, end) for schedule in schedules))


def _first_name(name: str | None) -> str | None:
    return name.split()[0] if name and name.strip() else None


def open_slots(session: Session, query: SlotQuery, now: datetime) -> list[dict[str, object]]:
    """Slots in [window_start, window_end) that have not started, in (start, schedule) order."""
    check_window(query.window_start, query.window_end)
    schedules = _schedules_for(session, query.schedule_id)
    # A slot that has started can no longer be taken, so it is not shown.
    start = max(query.window_start, now + timedelta(microseconds=1))
    if not schedules or start >= query.window_end:
        return []
    by_id = {s.schedule_id: (s.name, ZoneInfo(s.timezone)) for s in schedules}
    booked = _booked_slots(session, list(by_id), start, query.window_end)
    slots: list[dict[str, object]] = []
    for occ_start, schedule_id, occ in _merged(schedules, start, query.window_end):
        key = (schedule_id, occ_start)
        is_booked = key in booked
        if is_booked and not query.include_booked:
            continue
        name, zone = by_id[schedule_id]
        slot: dict[str, object] = {
            "schedule_id": schedule_id,
            "schedule_name": name,
            "start_time": to_rfc3339(occ.start, zone),
            "end_time": to_rfc3339(occ.end, zone),
            "available": not is_booked,
        }
        if query.include_booked:
            slot["booked_by"] = _first_name(booked[key]) if is_booked else None
        slots.append(slot)
        if len(slots) >= query.limit:
            break
    return slots


__all__ = ["DEFAULT_WINDOW", "SlotQuery", "check_window", "open_slots"]
