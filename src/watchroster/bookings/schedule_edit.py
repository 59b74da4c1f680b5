"""A coordinator's schedule edit, carried over to its bookings (issue #21 §1, §9).

`schedules.service.update_schedule` decides what an edit does to booked upcoming shifts
(`schedules.edits`); writing those bookings is this package's, so the entry point puts
`carry_for` in the application context (`AppContext.hooks`) and the use case
`schedules.service.change_schedule` (the API's and the console's) passes it down:
- bookings of shifts the edit drops are cancelled as a cancelled shift's are
  (`shift_cancel.cancel_bookings`): by the coordinator, with a reason, everyone on them told;
- bookings that stay get the new end, and every change a calendar shows (end, name, zone)
  raises their SEQUENCE (`changes.touched`), so phones update the event.
All in the caller's one transaction: the edit and its bookings commit together or not at all.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.orm import Session

from watchroster.bookings import shift_cancel
from watchroster.bookings.changes import touched
from watchroster.core import i18n
from watchroster.core.i18n import N_
from watchroster.core.rules import BuddyRules
from watchroster.schedules import service
from watchroster.schedules.edits import BookedEdit, Carry
from watchroster.schedules.models import Schedule
from watchroster.schedules.schemas import ScheduleUpdate

log = logging.getLogger("watchroster.bookings")

# Stored as the bookings' cancel reason; each recipient reads it in their language.
SCHEDULE_CHANGED = N_("The schedule changed")


def edit_schedule(
    session: Session,
    by_user_id: int,
    schedule_id: int,
    data: ScheduleUpdate,
    now: datetime,
    rules: BuddyRules,
) -> Schedule:
    """The edit by coordinator `by_user_id`, its name unique among active schedules, its bookings
    carried over: what `schedules.service.change_schedule` does, for a caller without an
    application context."""
    carry = partial(carry_bookings, by_user_id=by_user_id, rules=rules)
    return service.update_schedule(
        session, schedule_id, data, unique_name=True, now=now, carry=carry
    )


def carry_for(by_user_id: int, rules: BuddyRules) -> Carry:
    """The `Carry` of an edit by `by_user_id` (`AppContext.hooks.carry_for`, see `app.py`)."""
    return partial(carry_bookings, by_user_id=by_user_id, rules=rules)


def carry_bookings(
    session: Session, edit: BookedEdit, *, by_user_id: int, rules: BuddyRules
) -> None:
    """A `schedules.edits.Carry`: cancel the dropped bookings, move and touch the others."""
    shift_cancel.cancel_bookings(
        session,
        by_user_id,
        edit.before,  # the shift as it was booked: its name and zone then
        edit.dropped,
        SCHEDULE_CHANGED,
        edit.now,
        rules,
        reason_in=_schedule_changed,
    )
    # Computed as a booking computes it (`bookings.create`): the absolute length after start.
    length = timedelta(minutes=edit.schedule.duration_minutes)
    for booking in edit.moved:
        booking.shift_end = booking.shift_start + length
        touched(booking, edit.now)
    session.flush()
    # Ids and counts only: who was on those shifts is in the rows (and never a number here).
    log.info(
        "admin %s edited schedule %s: %d bookings cancelled, %d moved",
        by_user_id,
        edit.schedule.schedule_id,
        len(edit.dropped),
        len(edit.moved),
    )


def _schedule_changed(lang: str) -> str:
    _ = i18n.gettext_for(lang)
    return _(SCHEDULE_CHANGED)
