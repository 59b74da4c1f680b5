"""The shifts pages' read: a window of open slots and the schedules to filter them by.

A service of its own so that the page handler asks for both in one read transaction
(`Database.run_read`) and the web layer runs no query itself (issue #22 §4).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchroster.core.errors import NotFound
from watchroster.schedules import availability
from watchroster.schedules.models import Schedule


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
