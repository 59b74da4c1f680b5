"""What the bookings feature tells whom: message texts, types, and the queueing of each notice.

Plain single-line texts: the same body goes out by SMS and (flattened into a template
parameter) by WhatsApp. Times are shown in the zone of the shift's schedule. Every notice is
queued in the caller's transaction with a dedupe key, so it goes out once, and only if the
change it announces commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypedDict
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from watchroster.auth.models import User
from watchroster.bookings.models import Booking, BookingFields, Report, ShiftSchedule
from watchroster.outbox.service import queue_message, queue_message_raw
from watchroster.rawsql import RawTransaction
from watchroster.schedules.models import Schedule

# Outbox `message_type` values (at most 32 characters).
BOOKING_CONFIRMED = "booking_confirmed"
BUDDY_BOOKED = "buddy_booked"
BOOKING_CANCELED = "booking_canceled"
BUDDY_CANCELED = "buddy_canceled"
REMINDER = "shift_reminder"
INCIDENT_ALERT = "incident_alert"
COVERAGE_ALERT = "coverage_alert"

# An incident text can be 4,000 characters; the alert carries the start of it, the app the rest.
_ALERT_EXCERPT_CHARS = 300
_COVERAGE_LISTED = 5


def _local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone)


def shift_label(schedule_name: str, start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """`Friday patrol, Fri 2 May 18:00-21:00` (the end date too when the shift crosses midnight)."""
    begin, finish = _local(start, zone), _local(end, zone)
    day = f"{begin:%a} {begin.day} {begin:%b}"
    end_text = f"{finish:%H:%M}"
    if finish.date() != begin.date():
        end_text = f"{finish:%a} {finish.day} {finish:%b} {end_text}"
    return f"{schedule_name}, {day} {begin:%H:%M}-{end_text}"


def booking_confirmed(label: str, buddy_name: str | None) -> str:
    with_buddy = f" with {buddy_name}" if buddy_name else ""
    return f"You are booked for {label}{with_buddy}. Thank you for patrolling!"


def buddy_booked(label: str, volunteer_name: str | None) -> str:
    who = volunteer_name or "A volunteer"
    return f"{who} booked {label} and named you as patrol buddy."


def booking_canceled(label: str) -> str:
    return f"Your booking for {label} was cancelled by a coordinator."


def buddy_canceled(label: str, volunteer_name: str | None) -> str:
    who = f"{volunteer_name}'s" if volunteer_name else "The"
    return f"{who} booking for {label}, where you were patrol buddy, was cancelled."


def reminder(label: str, lead_hours: int) -> str:
    return f"Reminder: your patrol shift {label} starts in about {lead_hours} h."


def incident_alert(label: str, reporter_name: str | None, message: str) -> str:
    excerpt = " ".join(message.split())
    if len(excerpt) > _ALERT_EXCERPT_CHARS:
        excerpt = excerpt[: _ALERT_EXCERPT_CHARS - 3] + "..."
    who = reporter_name or "A volunteer"
    return f"URGENT incident (severity 2) on {label}, reported by {who}: {excerpt}"


def coverage_summary(labels: Sequence[str], hours: int, *, more: bool = False) -> str:
    """`labels` are the open slots in time order; `more` says the list was cut at its limit."""
    count = f"{len(labels)}+" if more else str(len(labels))
    noun = "shift" if len(labels) == 1 and not more else "shifts"
    listed = "; ".join(labels[:_COVERAGE_LISTED])
    rest = len(labels) - _COVERAGE_LISTED
    tail = f"; and {rest}{'+' if more else ''} more" if rest > 0 else ""
    return f"Roster gaps: {count} unbooked {noun} in the next {hours} h: {listed}{tail}."


# --- queueing ------------------------------------------------------------------------------


class Contact(Protocol):
    """Where a notice goes: a `User` row, or the plain record the booking hot path reads."""

    @property
    def phone(self) -> str | None: ...
    @property
    def channel(self) -> str: ...
    @property
    def name(self) -> str | None: ...


def label_of(booking: BookingFields, schedule: ShiftSchedule) -> str:
    zone = ZoneInfo(schedule.timezone)
    return shift_label(schedule.name, booking.shift_start, booking.shift_end, zone)


class _Message(TypedDict):
    message_type: str
    recipient: str
    body: str
    now: datetime
    channel: str | None
    dedupe_key: str


def _queue(
    target: Session | RawTransaction,
    kind: str,
    to: Contact | None,
    body: str,
    *,
    now: datetime,
    dedupe_key: str,
    phone: str | None = None,
) -> None:
    """Queue to a member (their phone and channel), or else to a bare phone number, if any."""
    recipient = to.phone if to is not None else phone
    if not recipient:
        return  # erased members and phoneless buddies get nothing
    channel = to.channel if to is not None else None
    message = _Message(
        message_type=kind,
        recipient=recipient,
        body=body,
        now=now,
        channel=channel,
        dedupe_key=dedupe_key,
    )
    if isinstance(target, RawTransaction):  # the booking hot path (`bookings.create`)
        queue_message_raw(target, **message)
    else:
        queue_message(target, **message)


def notify_booked(
    transaction: Session | RawTransaction,
    booking: BookingFields,
    schedule: ShiftSchedule,
    owner: Contact,
    buddy: Contact | None,
) -> None:
    """Confirmation to the volunteer; a notice to the buddy (a member, or a bare phone)."""
    label, key = label_of(booking, schedule), f"booking:{booking.booking_id}"
    now = booking.created_at
    body = booking_confirmed(label, booking.buddy_name)
    _queue(transaction, BOOKING_CONFIRMED, owner, body, now=now, dedupe_key=f"{key}:confirmed")
    body = buddy_booked(label, owner.name)
    _queue(
        transaction,
        BUDDY_BOOKED,
        buddy,
        body,
        now=now,
        dedupe_key=f"{key}:buddy",
        phone=booking.buddy_phone,
    )


def notify_canceled(
    session: Session, booking: Booking, schedule: Schedule, now: datetime, *, by_owner: bool
) -> None:
    """The buddy is always told; the volunteer only when someone else (a coordinator) cancelled."""
    owner = session.get(User, booking.user_id)
    buddy = session.get(User, booking.buddy_user_id) if booking.buddy_user_id else None
    label, key = label_of(booking, schedule), f"booking:{booking.booking_id}"
    if not by_owner:
        body = booking_canceled(label)
        _queue(session, BOOKING_CANCELED, owner, body, now=now, dedupe_key=f"{key}:canceled")
    body = buddy_canceled(label, owner.name if owner is not None else None)
    _queue(
        session,
        BUDDY_CANCELED,
        buddy,
        body,
        now=now,
        dedupe_key=f"{key}:canceled:buddy",
        phone=booking.buddy_phone,
    )


def alert_admins(
    session: Session,
    report: Report,
    booking: Booking,
    schedule: Schedule,
    reporter_name: str | None,
    admins: Sequence[User],
) -> None:
    body = incident_alert(label_of(booking, schedule), reporter_name, report.message)
    for admin in admins:
        key = f"report:{report.report_id}:alert:{admin.user_id}"
        _queue(session, INCIDENT_ALERT, admin, body, now=report.created_at, dedupe_key=key)
