"""Scheduled messages of the bookings feature, run by the worker's job runner.

* Reminders: every minute, queue the reminders that have fallen due. Each (booking, lead time)
  has a dedupe key, so a run that repeats (two workers, a restart, an overlap) sends nothing
  twice, and a minute that was missed is caught up by the next run.
* Coverage alert: once a day at a local time, the admins get the unbooked slots of the coming
  hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchroster.auth.models import User
from watchroster.bookings import messages
from watchroster.bookings.models import Booking
from watchroster.bookings.service import active_admins
from watchroster.core import i18n
from watchroster.core.settings_values import parse_clock_time, parse_lead_hours
from watchroster.outbox.jobs import PeriodicJob
from watchroster.outbox.service import queue_message
from watchroster.runtime.context import AppContext
from watchroster.schedules.availability import SlotQuery, open_slots
from watchroster.schedules.models import Schedule

REMINDER_JOB = "booking_reminders"
COVERAGE_JOB = "coverage_alert"
# Enough to count any real roster's gaps over a few days; the message lists only the first few.
_COVERAGE_SLOT_LIMIT = 500


# --- rules (pure) --------------------------------------------------------------------------


def reminder_leads(setting: str) -> list[int]:
    """`"24,2"` → [24, 2]: whole hours before a shift, largest first, without repeats."""
    return parse_lead_hours(setting)


def due_lead(
    shift_start: datetime, created_at: datetime, leads: Sequence[int], now: datetime
) -> int | None:
    """The lead time whose reminder is due at `now`, or None.

    Only the latest reminder time that has passed counts: after a worker outage a booking gets
    its "2 h" reminder, not a stale "24 h" one as well. No reminder for a booking made after
    that time (the volunteer has just booked), none once the shift has started.
    """
    if now >= shift_start:
        return None
    passed = [lead for lead in leads if shift_start - timedelta(hours=lead) <= now]
    if not passed:
        return None
    lead = min(passed)
    if created_at > shift_start - timedelta(hours=lead):
        return None
    return lead


def coverage_run_key(zone_now: datetime, alert_time: time) -> str | None:
    """The local date, once the local time has reached `alert_time` (naive, wall clock)."""
    if zone_now.time().replace(tzinfo=None) < alert_time:
        return None
    return zone_now.date().isoformat()


# --- reminders -----------------------------------------------------------------------------


def queue_due_reminders(
    session: Session, leads: Sequence[int], now: datetime, default_language: str = "en"
) -> int:
    """Queue every reminder due at `now` (in each member's language, else `default_language`);
    returns how many were newly queued.

    Only bookings whose shift starts within the largest lead time are read, however long the
    booking history grows.
    """
    if not leads:
        return 0
    rows = session.execute(
        select(Booking, Schedule, User)
        .join(Schedule, Schedule.schedule_id == Booking.schedule_id)
        .join(User, User.user_id == Booking.user_id)
        .where(
            Booking.canceled_at.is_(None),
            Booking.shift_start > now,
            Booking.shift_start <= now + timedelta(hours=max(leads)),
            User.reminders.is_(True),
            User.active.is_(True),
            User.phone.is_not(None),
        )
        .order_by(Booking.shift_start, Booking.booking_id)
    )
    queued = 0
    for booking, schedule, user in rows:
        lead = due_lead(booking.shift_start, booking.created_at, leads, now)
        if lead is None or user.phone is None:
            continue
        lang = i18n.message_language(user.language, default_language)
        outbox_id = queue_message(
            session,
            message_type=messages.REMINDER,
            recipient=user.phone,
            body=messages.reminder(messages.label_of(booking, schedule, lang), lead, lang),
            now=now,
            channel=user.channel,
            dedupe_key=f"booking:{booking.booking_id}:reminder:{lead}h",
            expires_at=booking.shift_start,  # a reminder after the start is useless
        )
        queued += outbox_id is not None
    return queued


def reminder_run_key(_context: AppContext, now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def run_reminders(context: AppContext, now: datetime) -> None:
    leads = reminder_leads(context.settings.reminder_lead_hours)
    with context.db.write() as session:
        queue_due_reminders(session, leads, now, context.settings.default_language)


# --- coverage alert ------------------------------------------------------------------------


def queue_coverage_alert(session: Session, now: datetime, hours: int, run_date: str) -> int:
    """Tell every active admin with a phone about the unbooked slots of the next `hours`."""
    query = SlotQuery(now, now + timedelta(hours=hours), limit=_COVERAGE_SLOT_LIMIT)
    slots = open_slots(session, query, now)
    if not slots:
        return 0  # fully covered: nothing for a coordinator to do
    labels = [f"{slot['schedule_name']} {_slot_time(str(slot['start_time']))}" for slot in slots]
    body = messages.coverage_summary(labels, hours, more=len(slots) >= _COVERAGE_SLOT_LIMIT)
    queued = 0
    for admin in active_admins(session):
        outbox_id = queue_message(
            session,
            message_type=messages.COVERAGE_ALERT,
            recipient=admin.phone or "",
            body=body,
            now=now,
            channel=admin.channel,
            dedupe_key=f"coverage:{run_date}:{admin.user_id}",
        )
        queued += outbox_id is not None
    return queued


def _slot_time(rfc3339: str) -> str:
    """`2025-05-02T18:00:00+02:00` → `Fri 2 May 18:00` (the slot's own local time)."""
    local = datetime.fromisoformat(rfc3339)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def _coverage_key(context: AppContext, now: datetime) -> str | None:
    settings = context.settings
    alert_time = parse_clock_time(settings.coverage_alert_time)
    return coverage_run_key(now.astimezone(settings.zone), alert_time)


def run_coverage_alert(context: AppContext, now: datetime) -> None:
    run_date = now.astimezone(context.settings.zone).date().isoformat()  # as in its run key
    with context.db.write() as session:
        queue_coverage_alert(session, now, context.settings.coverage_alert_hours, run_date)


BOOKING_JOBS = (
    PeriodicJob(name=REMINDER_JOB, run_key=reminder_run_key, run=run_reminders),
    PeriodicJob(name=COVERAGE_JOB, run_key=_coverage_key, run=run_coverage_alert),
)
