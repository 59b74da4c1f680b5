"""The attendance reminder: a booking whose attendance is still unrecorded 24 hours after the
shift ended gets one message to its volunteer, with a link to the booking's page.

Exactly once per booking, whatever runs it: each booking is claimed by a conditional update of
its `attendance_reminded_at` marker (only the transaction that changes the row from NULL queues
the message), and the message also carries a dedupe key. Two workers, an overlap or a restart
therefore send nothing twice; a run that was missed is caught up by the next one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from watchroster.attendance import messages
from watchroster.auth.models import User
from watchroster.bookings.messages import label_of
from watchroster.bookings.models import Booking
from watchroster.core import i18n
from watchroster.outbox.jobs import PeriodicJob, hourly
from watchroster.outbox.service import queue_message
from watchroster.runtime.context import AppContext
from watchroster.schedules.models import Schedule

ATTENDANCE_REMINDER_JOB = "attendance_reminders"
AFTER_END = timedelta(hours=24)
# Shifts that ended longer ago than this before their reminder fell due get none: the history
# from before this feature (or a worker down for a week) must not produce a burst of nagging.
LOOKBACK = timedelta(days=7)
_LONGEST_SHIFT = timedelta(minutes=1440)
# A reminder still unsent two days later is no longer worth sending.
_EXPIRES_AFTER = timedelta(days=2)


def _claim(session: Session, booking_id: int, now: datetime) -> bool:
    """Mark the booking reminded, if no one has and nothing changed since it was read."""
    result = session.execute(
        update(Booking)
        .where(
            Booking.booking_id == booking_id,
            Booking.attendance_reminded_at.is_(None),
            Booking.attendance_recorded_at.is_(None),
            Booking.canceled_at.is_(None),
        )
        .values(attendance_reminded_at=now)
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


def queue_attendance_reminders(
    session: Session, now: datetime, public_url: str, default_language: str = "en"
) -> int:
    """Queue the reminders due at `now`; returns how many were newly queued.

    Only bookings whose shift ended in the week before their reminder fell due are read (an
    indexed range on `shift_start`), however long the history grows. Volunteers who turned
    reminders off, and erased or deactivated accounts, get none.
    """
    due = now - AFTER_END  # a shift that ended at or before this is due
    rows = session.execute(
        select(Booking, Schedule, User)
        .join(Schedule, Schedule.schedule_id == Booking.schedule_id)
        .join(User, User.user_id == Booking.user_id)
        .where(
            Booking.shift_start <= due,
            Booking.shift_start > due - LOOKBACK - _LONGEST_SHIFT,
            Booking.canceled_at.is_(None),
            Booking.attendance_recorded_at.is_(None),
            Booking.attendance_reminded_at.is_(None),
            User.reminders.is_(True),
            User.active.is_(True),
            User.phone.is_not(None),
        )
        .order_by(Booking.shift_end, Booking.booking_id)
    ).all()
    queued = 0
    for booking, schedule, user in rows:
        if not due - LOOKBACK < booking.shift_end <= due or user.phone is None:
            continue
        if not _claim(session, booking.booking_id, now):
            continue  # another run got there first
        lang = i18n.message_language(user.language, default_language)
        body = messages.attendance_reminder(
            label_of(booking, schedule, lang),
            messages.booking_link(public_url, booking.booking_id),
            lang,
        )
        outbox_id = queue_message(
            session,
            message_type=messages.ATTENDANCE_REMINDER,
            recipient=user.phone,
            body=body,
            now=now,
            channel=user.channel,
            dedupe_key=f"booking:{booking.booking_id}:attendance_reminder",
            expires_at=now + _EXPIRES_AFTER,
        )
        queued += outbox_id is not None
    return queued


def run_attendance_reminders(context: AppContext, now: datetime) -> None:
    settings = context.settings
    with context.db.write() as session:
        queue_attendance_reminders(session, now, settings.public_url, settings.default_language)


ATTENDANCE_JOBS = (
    PeriodicJob(name=ATTENDANCE_REMINDER_JOB, run_key=hourly, run=run_attendance_reminders),
)
