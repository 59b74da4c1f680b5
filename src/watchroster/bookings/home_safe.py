"""The "home safe" check (issue #12 §5): after a night patrol, someone on the booking says they
got home; if nobody has by the shift's end + the schedule's `check_in_minutes`, the
coordinators are alerted, once.

Exactly once, however many workers run and across restarts: the alert is claimed by one
conditional UPDATE (`overdue_alerted_at IS NULL AND safe_at IS NULL AND canceled_at IS NULL`)
and queued in the same transaction. On PostgreSQL a second worker's UPDATE waits for the first
and then finds the condition false; SQLite runs one writer at a time. The outbox dedupe keys
are a second guard, not the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from watchroster.auth.deps import Principal
from watchroster.auth.models import User
from watchroster.bookings import messages
from watchroster.bookings.models import Booking
from watchroster.bookings.service import active_admins, load_booking
from watchroster.core import i18n
from watchroster.core.errors import Conflict, Forbidden
from watchroster.core.rules import BuddyRules
from watchroster.outbox.jobs import PeriodicJob
from watchroster.outbox.service import queue_message
from watchroster.runtime.context import AppContext
from watchroster.schedules.models import Schedule

OVERDUE_JOB = "home_safe_overdue"
OVERDUE_ALERT = "home_safe_overdue"  # the outbox message type
# A check-in deadline that passed longer ago than this is history, not an emergency: neither
# alerted (a worker back from a long outage does not wake coordinators about last week) nor
# shown as overdue. It also bounds the job's read, whatever the booking history.
HORIZON = timedelta(days=2)
# Shifts last at most a day and check-ins at most a day after: the index-friendly lower bound.
_LONGEST_SHIFT_AND_CHECK_IN = timedelta(minutes=1440 + 1440)


def overdue_alert(label: str, first_name: str | None, phone: str | None, lang: str) -> str:
    """To coordinators, who may see members' phones: the number is what they need to call."""
    _ = i18n.gettext_for(lang)
    text = _("Home safe check overdue: nobody on %(shift)s has said they got home. Call %(name)s")
    who = first_name or _("the volunteer")
    return f"{text % {'shift': label, 'name': who}} ({phone or '-'})."


def deadline(booking: Booking, schedule: Schedule) -> datetime | None:
    """When someone on the booking should have said "home safe"; None: the schedule has no
    check."""
    if schedule.check_in_minutes is None:
        return None
    return booking.shift_end + timedelta(minutes=schedule.check_in_minutes)


def mark_safe(
    session: Session, caller: Principal, booking_id: int, now: datetime
) -> tuple[Booking, Schedule]:
    """The volunteer, the registered buddy (or a coordinator who phoned them) says everyone got
    home. Only once the shift has ended; saying it again changes nothing (idempotent)."""
    booking, schedule = load_booking(session, booking_id, lock=True)
    on_it = caller.user_id in (booking.user_id, booking.buddy_user_id)
    if not (on_it or caller.is_admin):
        raise Forbidden("this is not your booking", code="not_booking_owner")
    if booking.canceled_at is not None:
        raise Conflict("the booking was cancelled", code="booking_canceled")
    if booking.shift_end > now:
        raise Conflict("the shift has not ended yet", code="shift_not_ended")
    if booking.safe_at is None:
        booking.safe_at, booking.safe_by = now, caller.user_id
        session.flush()
    return booking, schedule


@dataclass(frozen=True)
class Overdue:
    """A booking whose check-in deadline passed with nobody saying "home safe"."""

    booking_id: int
    schedule_id: int
    schedule_name: str
    timezone: str
    shift_start: datetime
    shift_end: datetime
    deadline: datetime
    user_id: int
    first_name: str | None
    alerted: bool  # the coordinators have had their alert


def _candidates(session: Session, now: datetime) -> list[tuple[Booking, Schedule, User]]:
    query = (
        select(Booking, Schedule, User)
        .join(Schedule, Schedule.schedule_id == Booking.schedule_id)
        .join(User, User.user_id == Booking.user_id)
        .where(
            Schedule.check_in_minutes.is_not(None),
            Booking.canceled_at.is_(None),
            Booking.safe_at.is_(None),
            Booking.shift_start > now - HORIZON - _LONGEST_SHIFT_AND_CHECK_IN,
            Booking.shift_start < now,
        )
        .order_by(Booking.shift_end, Booking.booking_id)
    )
    return [(booking, schedule, user) for booking, schedule, user in session.execute(query)]


def overdue_bookings(session: Session, now: datetime) -> list[Overdue]:
    """Every booking overdue at `now` (its deadline passed, within `HORIZON`), earliest
    deadline first: for the roster's "overdue" marker and the alert job."""
    found = []
    for booking, schedule, user in _candidates(session, now):
        due = deadline(booking, schedule)
        if due is None or not now - HORIZON < due <= now:
            continue
        words = (user.name or "").split()
        found.append(
            Overdue(
                booking_id=booking.booking_id,
                schedule_id=schedule.schedule_id,
                schedule_name=schedule.name,
                timezone=schedule.timezone,
                shift_start=booking.shift_start,
                shift_end=booking.shift_end,
                deadline=due,
                user_id=booking.user_id,
                first_name=words[0] if words else None,
                alerted=booking.overdue_alerted_at is not None,
            )
        )
    found.sort(key=lambda overdue: (overdue.deadline, overdue.booking_id))
    return found


def _claim(session: Session, booking_id: int, now: datetime) -> bool:
    """Take the one alert of this booking; False if another run (or "home safe") came first."""
    result = session.execute(
        update(Booking)
        .where(
            Booking.booking_id == booking_id,
            Booking.overdue_alerted_at.is_(None),
            Booking.safe_at.is_(None),
            Booking.canceled_at.is_(None),
        )
        .values(overdue_alerted_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def queue_overdue_alerts(session: Session, now: datetime, rules: BuddyRules) -> int:
    """Alert every active coordinator about each booking newly overdue; returns how many
    bookings were alerted about here."""
    alerted = 0
    for overdue in overdue_bookings(session, now):
        if overdue.alerted or not _claim(session, overdue.booking_id, now):
            continue
        volunteer = session.get(User, overdue.user_id)
        phone = volunteer.phone if volunteer is not None else None
        for admin in active_admins(session):
            lang = messages.language_of(admin, rules)
            label = messages.shift_label(
                overdue.schedule_name,
                overdue.shift_start,
                overdue.shift_end,
                ZoneInfo(overdue.timezone),
                lang,
            )
            queue_message(
                session,
                message_type=OVERDUE_ALERT,
                recipient=admin.phone or "",
                body=overdue_alert(label, overdue.first_name, phone, lang),
                now=now,
                channel=admin.channel,
                dedupe_key=f"booking:{overdue.booking_id}:overdue:{admin.user_id}",
            )
        alerted += 1
    return alerted


def _minute(_context: AppContext, now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def run_overdue_alerts(context: AppContext, now: datetime) -> None:
    rules = context.rules.buddy
    with context.db.write() as session:
        queue_overdue_alerts(session, now, rules)


HOME_SAFE_JOBS = (PeriodicJob(name=OVERDUE_JOB, run_key=_minute, run=run_overdue_alerts),)
