"""The shifts pages' reads: a window of open slots and the schedules to filter them by; the one
slot a booking form names.

A service of its own so that the page handler asks for both in one read transaction
(`Database.run_read`) and the web layer runs no query itself (issue #22 §4).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchroster.core.errors import NotFound
from watchroster.schedules import availability
from watchroster.schedules.models import Schedule

_ONE_MICROSECOND = timedelta(microseconds=1)


def slots_and_schedules(
    session: Session, query: availability.SlotQuery, now: datetime
) -> tuple[list[availability.FoundSlot], list[tuple[int, str]]]:
    """The page's slots and every active schedule by name (for the filter)."""
    try:
        found, names = availability.find_slots(session, query, now)
    except NotFound:  # a filter naming a schedule that is gone: show all
        found, names = [], {}
    if query.schedule_id is None and names:
        return found, sorted(names.items(), key=lambda item: item[1])
    active = select(Schedule.schedule_id, Schedule.name).where(Schedule.active.is_(True))
    schedules = [(row[0], row[1]) for row in session.execute(active.order_by(Schedule.name))]
    return found, schedules


def one_slot(
    session: Session, schedule_id: int, start: datetime, now: datetime
) -> tuple[availability.FoundSlot, str] | None:
    """The slot of `schedule_id` starting at `start`, booked or not, with its schedule's name;
    None when there is no such slot (or it has started, or the schedule is gone)."""
    query = availability.SlotQuery(start, start + _ONE_MICROSECOND, 1, schedule_id, True)
    try:
        found, names = availability.find_slots(session, query, now)
    except NotFound:
        return None
    return (found[0], names[schedule_id]) if found else None
