"""Booking use cases. Callers own the transaction; these functions add and flush.

Creating a booking, the hot path, lives in `create` (on the driver's cursor); the rest is here.

Every change and the messages announcing it are written in the caller's one transaction, so
they commit together or not at all. Who may do what is decided here, next to the data.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from watchroster.auth.deps import Principal
from watchroster.auth.models import ROLE_ADMIN, User
from watchroster.bookings import messages, report_alerts
from watchroster.bookings.changes import touched
from watchroster.bookings.models import Booking, Report
from watchroster.bookings.schemas import SEVERITIES, AttendanceUpdate, ReportCreate
from watchroster.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from watchroster.core.rules import AlertRules, BuddyRules
from watchroster.http import metrics
from watchroster.schedules.models import Schedule

log = logging.getLogger("watchroster.bookings")

T = TypeVar("T")
_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


# --- reading and changing one booking ------------------------------------------------------


def load_booking(
    session: Session, booking_id: int, *, lock: bool = False
) -> tuple[Booking, Schedule]:
    """The booking and its schedule (`lock`: the booking row locked for a change); 404 if none."""
    booking = session.get(Booking, booking_id, with_for_update=lock or None)
    if booking is None:
        raise NotFound(f"booking {booking_id} not found", code="booking_not_found")
    schedule = session.get(Schedule, booking.schedule_id)
    assert schedule is not None  # a foreign key
    return booking, schedule


def _require_owner_or_admin(booking: Booking, caller: Principal) -> None:
    if not caller.is_admin and booking.user_id != caller.user_id:
        raise Forbidden(
            "only the volunteer who booked this shift or an admin may do this",
            code="not_booking_owner",
        )


def get_booking(
    session: Session, caller: Principal, booking_id: int
) -> tuple[Booking, Schedule, list[Report]]:
    """The booking with its reports, for its volunteer, its registered buddy or an admin."""
    booking, schedule = load_booking(session, booking_id)
    if not caller.is_admin and caller.user_id not in (booking.user_id, booking.buddy_user_id):
        raise Forbidden("this is not your booking", code="not_booking_owner")
    reports = session.scalars(
        select(Report)
        .where(Report.booking_id == booking_id)
        .order_by(Report.created_at, Report.report_id)
    )
    return booking, schedule, list(reports)


def _lock_user(session: Session, user_id: int) -> None:
    """Serialise one user's writes on PostgreSQL (SQLite runs one writer at a time), so the daily
    limits in `buddies` and the alert caps in `report_alerts` cannot be passed by parallel
    requests. Taken before the booking row, as the booking path takes the caller's row before
    anything else. NO KEY UPDATE: bookings that merely reference this user (foreign keys) are
    not blocked."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(User.user_id).where(User.user_id == user_id).with_for_update(key_share=True)
        )


def cancel_booking(
    session: Session,
    caller: Principal,
    booking_id: int,
    now: datetime,
    rules: BuddyRules,
) -> None:
    """Cancel a booking that has not started; the row stays and the slot is free at once.

    Cancelling a cancelled booking changes nothing (DELETE is idempotent). `rules`
    (the context's `rules.buddy`) limit the notice to the buddy.
    """
    _lock_user(session, caller.user_id)
    booking, schedule = load_booking(session, booking_id, lock=True)
    _require_owner_or_admin(booking, caller)
    if booking.canceled_at is not None:
        return
    if booking.shift_start <= now:
        raise Conflict("the shift has already started", code="shift_started")
    booking.canceled_at = now
    if booking.user_id != caller.user_id:  # a coordinator's decision, not the volunteer's
        booking.canceled_by_user_id = caller.user_id
    touched(booking, now)
    session.flush()
    metrics.BOOKINGS_CANCELLED.inc()
    messages.notify_canceled(session, booking, schedule, now, actor_id=caller.user_id, rules=rules)


def cancel_future_bookings_of_user(
    session: Session, user_id: int, now: datetime, rules: BuddyRules
) -> int:
    """Cancel every booking of `user_id` that has not started; returns how many.

    Called when an account is erased (DELETE /me). The rows stay, cancelled, for history; each
    buddy is told, in the caller's transaction.
    """
    rows = session.execute(
        select(Booking, Schedule)
        .join(Schedule, Schedule.schedule_id == Booking.schedule_id)
        .where(
            Booking.user_id == user_id,
            Booking.canceled_at.is_(None),
            Booking.shift_start > now,
        )
    ).all()
    for booking, _schedule in rows:
        booking.canceled_at = now
        touched(booking, now)
    session.flush()
    for booking, schedule in rows:
        messages.notify_canceled(session, booking, schedule, now, actor_id=user_id, rules=rules)
    return len(rows)


def _changeable_after_start(
    session: Session,
    caller: Principal,
    booking_id: int,
    now: datetime,
    what: str,
    *,
    buddy_may: bool = True,
) -> tuple[Booking, Schedule]:
    """A booking its owner, an admin or (`buddy_may`) its registered buddy (issue #12 §3) may
    record attendance or an incident on."""
    booking, schedule = load_booking(session, booking_id, lock=True)
    is_buddy = booking.buddy_user_id is not None and caller.user_id == booking.buddy_user_id
    if not (buddy_may and is_buddy):
        _require_owner_or_admin(booking, caller)
    if booking.canceled_at is not None:
        raise Conflict(f"the booking was cancelled: no {what}", code="booking_canceled")
    if booking.shift_start > now:
        raise Conflict(f"the shift has not started yet: no {what} before", code="shift_not_started")
    return booking, schedule


def record_attendance(
    session: Session, caller: Principal, booking_id: int, data: AttendanceUpdate, now: datetime
) -> tuple[Booking, Schedule]:
    """Record (or correct) who turned up; `attendance_recorded_at` tells "absent" from "unknown"."""
    # The registered buddy records only their own (`buddy_attended`), never the volunteer's.
    booking, schedule = _changeable_after_start(
        session, caller, booking_id, now, "attendance", buddy_may=data.attended is None
    )
    has_buddy = bool(booking.buddy_user_id or booking.buddy_name or booking.buddy_phone)
    if data.buddy_attended is not None and not has_buddy:
        raise ValidationFailed(
            "buddy_attended given for a booking without a buddy",
            code="no_buddy",
            details=[{"field": "buddy_attended", "message": "booking has no buddy"}],
        )
    if data.buddy_attended is not None:
        booking.buddy_attended = data.buddy_attended
    if data.attended is not None:  # the volunteer's own: recorded_at says it is known
        booking.attended = data.attended
        booking.attendance_recorded_at = now
    session.flush()
    return booking, schedule


def active_admins(session: Session) -> list[User]:
    """Admins who can be alerted: active, with a phone."""
    query = (
        select(User)
        .where(User.role == ROLE_ADMIN, User.active.is_(True), User.phone.is_not(None))
        .order_by(User.user_id)
    )
    return list(session.scalars(query))


def file_report(
    session: Session,
    caller: Principal,
    booking_id: int,
    data: ReportCreate,
    now: datetime,
    rules: AlertRules,
) -> Report:
    """File an incident report, until 24 h after the shift's end (`report_alerts`). Severity 2
    alerts every active admin in the same transaction, within the caps of `rules`
    (the context's `rules.alerts`); past them it is stored flagged `alert_suppressed`."""
    if data.severity not in SEVERITIES:
        raise ValidationFailed(
            "severity must be 0, 1 or 2",
            details=[{"field": "severity", "message": "must be 0, 1 or 2"}],
        )
    _lock_user(session, caller.user_id)  # before the booking's row, as the caps need
    booking, schedule = _changeable_after_start(session, caller, booking_id, now, "report")
    report_alerts.check_report_window(booking, now)
    serious = data.severity == report_alerts.SERIOUS
    alert = serious and report_alerts.may_alert(session, caller.user_id, booking_id, now, rules)
    report = Report(
        booking_id=booking.booking_id,
        user_id=caller.user_id,
        severity=data.severity,
        message=data.message,
        created_at=now,
        alert_suppressed=serious and not alert,
    )
    session.add(report)
    session.flush()
    if alert:
        admins = active_admins(session)
        messages.alert_admins(session, report, booking, schedule, caller.name, admins, rules)
    elif serious:  # the log says why no coordinator's phone rang
        log.info("report %s sent no alert: an alert cap was reached", report.report_id)
    return report


# --- listing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int

    def cut(self, rows: Sequence[T]) -> tuple[list[T], int | None]:
        """Rows were fetched with limit + 1: the extra one only says whether a next page exists."""
        more = len(rows) > self.limit
        return list(rows[: self.limit]), self.offset + self.limit if more else None


ROLE_OWNER, ROLE_BUDDY = "owner", "buddy"  # whose bookings a list shows (`BookingFilter.role`)


@dataclass(frozen=True)
class BookingFilter:
    user_id: int | None = None
    schedule_id: int | None = None
    start: datetime | None = None  # shift start >= start
    end: datetime | None = None  # shift start < end
    include_canceled: bool = False
    # "owner": bookings made by the user; "buddy": bookings naming them as registered buddy.
    role: str = ROLE_OWNER


@dataclass(frozen=True)
class ReportFilter:
    severity: int | None = None
    schedule_id: int | None = None
    start: datetime | None = None  # created_at >= start
    end: datetime | None = None  # created_at < end


def _check_bounds(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and start > end:
        raise ValidationFailed(
            "from must not be after to", details=[{"field": "from", "message": "after to"}]
        )


def _within(
    query: _Query,
    column: InstrumentedAttribute[datetime],
    start: datetime | None,
    end: datetime | None,
) -> _Query:
    """`start <= column < end`, each bound only when given."""
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column < end)
    return query


def list_bookings(
    session: Session, caller: Principal, where: BookingFilter, page: Page
) -> tuple[list[tuple[Booking, Schedule]], int | None]:
    """The caller's bookings (admins: everybody's), newest shift first. With the buddy role:
    the bookings naming the caller (admins: `user_id`, else the caller) as registered buddy."""
    _check_bounds(where.start, where.end)
    query = select(Booking, Schedule).join(Schedule, Schedule.schedule_id == Booking.schedule_id)
    person = Booking.buddy_user_id if where.role == ROLE_BUDDY else Booking.user_id
    if not caller.is_admin:
        if where.user_id is not None:
            raise Forbidden("only admins may filter by user_id", code="admin_required")
        query = query.where(person == caller.user_id)
    elif where.user_id is not None:
        query = query.where(person == where.user_id)
    elif where.role == ROLE_BUDDY:
        query = query.where(person == caller.user_id)
    if where.schedule_id is not None:
        query = query.where(Booking.schedule_id == where.schedule_id)
    query = _within(query, Booking.shift_start, where.start, where.end)
    if not where.include_canceled:
        query = query.where(Booking.canceled_at.is_(None))
    query = query.order_by(Booking.shift_start.desc(), Booking.booking_id.desc())
    rows = session.execute(query.limit(page.limit + 1).offset(page.offset)).all()
    return page.cut(rows)


def list_reports(
    session: Session, caller: Principal, where: ReportFilter, page: Page
) -> tuple[list[Report], int | None]:
    """Admins: every report. Volunteers: the ones they filed or that concern their bookings."""
    _check_bounds(where.start, where.end)
    query = select(Report).join(Booking, Booking.booking_id == Report.booking_id)
    if not caller.is_admin:
        query = query.where(
            or_(Report.user_id == caller.user_id, Booking.user_id == caller.user_id)
        )
    if where.severity is not None:
        query = query.where(Report.severity == where.severity)
    if where.schedule_id is not None:
        query = query.where(Booking.schedule_id == where.schedule_id)
    query = _within(query, Report.created_at, where.start, where.end)
    query = query.order_by(Report.created_at.desc(), Report.report_id.desc())
    rows = session.scalars(query.limit(page.limit + 1).offset(page.offset)).all()
    return page.cut(rows)


# --- for the web pages -----------------------------------------------------------------------


def held_slot(
    session: Session, user_id: int, schedule_id: int, shift_start: datetime
) -> int | None:
    """The id of `user_id`'s active booking of exactly this slot, if they hold it.

    A resubmitted booking form is refused (the slot is taken, by the same person); the page
    asks this to answer "booked" instead of "sorry" to the one who did book.
    """
    booking_id: int | None = session.scalar(
        select(Booking.booking_id).where(
            Booking.user_id == user_id,
            Booking.schedule_id == schedule_id,
            Booking.shift_start == shift_start,
            Booking.canceled_at.is_(None),
        )
    )
    return booking_id


def bookings_as_buddy(
    session: Session, user_id: int, start: datetime, limit: int
) -> list[tuple[Booking, Schedule, str | None]]:
    """Active bookings from `start` on where `user_id` is the registered buddy, soonest first,
    each with the booker's name (pages show its first word only)."""
    rows = session.execute(
        select(Booking, Schedule, User.name)
        .join(Schedule, Schedule.schedule_id == Booking.schedule_id)
        .join(User, User.user_id == Booking.user_id)
        .where(
            Booking.buddy_user_id == user_id,
            Booking.canceled_at.is_(None),
            Booking.shift_start >= start,
        )
        .order_by(Booking.shift_start, Booking.booking_id)
        .limit(limit)
    ).all()
    return [(booking, schedule, name) for booking, schedule, name in rows]
