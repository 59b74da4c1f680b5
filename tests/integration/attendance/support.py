"""Rows for the attendance and incident tests: bookings in the past with their outcome."""

from __future__ import annotations

from datetime import datetime, timedelta

from watchroster.auth.models import User
from watchroster.bookings.models import Booking
from watchroster.db import Database
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
    with db.write() as session:
        booking = Booking(
            user_id=user.user_id,
            schedule_id=schedule.schedule_id,
            shift_start=start,
            shift_end=start + timedelta(minutes=schedule.duration_minutes),
            created_at=start - timedelta(days=3),
            canceled_at=canceled_at,
        )
        if attended is not None:
            booking.attended = attended
            booking.attendance_recorded_at = start + timedelta(hours=4)
        session.add(booking)
        session.flush()
        return booking.booking_id
