"""Rows for the attendance and incident tests: bookings in the past with their outcome."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.support.factories import add_booking
from watchroster.auth.models import User
from watchroster.db.engine import Database
from watchroster.schedules.models import Schedule


def past_booking(
    db: Database,
    schedule: Schedule,
    user: User,
    start: datetime,
    *,
    attended: bool | None = None,
    canceled_at: datetime | None = None,
) -> int:
    """A booking of `start`; `attended` None leaves attendance unrecorded."""
    outcome: dict[str, Any] = {}
    if attended is not None:
        outcome = {"attended": attended, "attendance_recorded_at": start + timedelta(hours=4)}
    booked = start - timedelta(days=3)
    booking = add_booking(
        db, schedule, user, start, created_at=booked, canceled_at=canceled_at, **outcome
    )
    return booking.booking_id
