"""A coordinator cancels one shift (a storm, a community event): the occurrence stops being
offered (`ScheduleException`), and whoever booked it is cancelled and told why.

It lives in `bookings` because it cancels bookings; the exception rows, their reads and the undo
are `schedules.exclusions`. Everything is written in the caller's one transaction: the
exception, the cancelled bookings (who and why recorded on each) and the messages commit
together or not at all. A schedule edit that drops booked shifts cancels them the same way
(`cancel_bookings`, called by `schedule_edit`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchroster.auth.deps import Principal
from watchroster.auth.models import User
from watchroster.bookings.changes import touched
from watchroster.bookings.messages import active_member, label_of, language_of, queue_to
from watchroster.bookings.models import Booking, ShiftSchedule
from watchroster.bookings.schemas import shown_buddy_name
from watchroster.core import i18n
from watchroster.core.errors import AppError, Conflict, NotFound, ValidationFailed
from watchroster.core.rules import BuddyRules
from watchroster.http import metrics
from watchroster.runtime.context import AppContext
from watchroster.schedules import availability, exclusions
from watchroster.schedules.availability import FoundSlot
from watchroster.schedules.models import Schedule, ScheduleException
from watchroster.schedules.recurrence import is_occurrence
from watchroster.schedules.service import get_schedule

log = logging.getLogger("watchroster.bookings")

# Outbox `message_type` values (at most 32 characters).
SHIFT_CANCELLED = "shift_cancelled"
SHIFT_CANCELLED_BUDDY = "shift_cancelled_buddy"


def shift_cancelled(label: str, reason: str, lang: str) -> str:
    _ = i18n.gettext_for(lang)
    text = _("Your patrol shift %(shift)s is cancelled by the coordinators: %(reason)s")
    return text % {"shift": label, "reason": reason}


def shift_cancelled_buddy(label: str, reason: str, lang: str) -> str:
    _ = i18n.gettext_for(lang)
    text = _(
        "The patrol shift %(shift)s, where you were patrol buddy, is cancelled by the "
        "coordinators: %(reason)s"
    )
    return text % {"shift": label, "reason": reason}


@dataclass(frozen=True)
class Cancelled:
    """What `cancel_shift` did: the exception row and the bookings it cancelled."""

    exception: ScheduleException
    schedule: Schedule
    bookings: list[Booking]


def _locked_schedule(session: Session, schedule_id: int) -> Schedule:
    """The schedule row, locked FOR UPDATE on PostgreSQL: a booking of it (whose foreign key
    check takes FOR KEY SHARE) waits until this cancellation commits, then sees it (see
    `exclusions.refuse_cancelled_raw`)."""
    schedule = session.get(Schedule, schedule_id, with_for_update=True)
    if schedule is None:
        raise NotFound(f"schedule {schedule_id} not found", code="schedule_not_found")
    return schedule


def check_cancellable(session: Session, schedule: Schedule, start: datetime, now: datetime) -> None:
    """Raises the 400/409 `cancel_shift` would (the console asks before showing its form)."""
    if not is_occurrence(schedule.rule, start):
        raise ValidationFailed(
            "start is not a shift of this schedule (or lies outside its season)",
            code="not_an_occurrence",
            details=[{"field": "start", "message": "not an occurrence"}],
        )
    holiday = exclusions.holiday_of(schedule, start)
    if holiday is not None:  # never offered: nothing to cancel
        raise exclusions.Exclusion(exclusions.PUBLIC_HOLIDAY, holiday).refusal("start")
    if start <= now:
        raise Conflict("the shift has already started", code="shift_started")
    if exclusions.find_exception(session, schedule.schedule_id, start) is not None:
        raise Conflict("this shift is already cancelled", code="shift_already_cancelled")


def cancel_one_shift(
    session: Session,
    context: AppContext,
    caller: Principal,
    schedule_id: int,
    start: datetime,
    reason: str,
) -> Cancelled:
    """The use case "cancel a shift" (`POST /schedules/{id}/exceptions` and the console's
    confirmation page): `cancel_shift` by `caller` at the context's time, with its buddy rules
    (the allowed regions and default language of the messages)."""
    now, rules = context.clock(), context.rules.buddy
    done = cancel_shift(session, caller, schedule_id, start, reason, now, rules)
    log.info(
        "admin %s cancelled shift %s of schedule %s: %d bookings cancelled",
        caller.user_id,
        done.exception.exception_id,
        schedule_id,
        len(done.bookings),
    )
    return done


def undo_shift_cancel(
    session: Session, context: AppContext, caller: Principal, schedule_id: int, exception_id: int
) -> None:
    """The use case "undo" (`DELETE /schedules/{id}/exceptions/{id}` and the console's button):
    the shift is offered again until it starts; the bookings it cancelled stay cancelled."""
    exclusions.restore_shift(session, schedule_id, exception_id, context.clock())
    log.info("admin %s restored shift %s of schedule %s", caller.user_id, exception_id, schedule_id)


def cancel_shift(
    session: Session,
    caller: Principal,
    schedule_id: int,
    start: datetime,
    reason: str,
    now: datetime,
    rules: BuddyRules,
) -> Cancelled:
    """Cancel one occurrence: 400 if it is not one (or is a skipped holiday), 409 if it has
    started or is cancelled already. Its bookings (one per seat) are cancelled by `caller`
    with `reason`; each volunteer and registered buddy gets a message saying why."""
    schedule = _locked_schedule(session, schedule_id)
    check_cancellable(session, schedule, start, now)
    exception = ScheduleException(
        schedule_id=schedule_id,
        shift_start=start,
        reason=reason,
        created_by_user_id=caller.user_id,
        created_at=now,
    )
    session.add(exception)
    bookings = list(
        session.scalars(
            select(Booking)
            .where(
                Booking.schedule_id == schedule_id,
                Booking.shift_start == start,
                Booking.canceled_at.is_(None),
            )
            .order_by(Booking.booking_id)
            .with_for_update()
        )
    )
    cancel_bookings(session, caller.user_id, schedule, bookings, reason, now, rules)
    return Cancelled(exception, schedule, bookings)


def cancel_bookings(
    session: Session,
    by_user_id: int,
    schedule: ShiftSchedule,
    bookings: list[Booking],
    reason: str,
    now: datetime,
    rules: BuddyRules,
    reason_in: Callable[[str], str] | None = None,
) -> None:
    """Cancel `bookings` (rows of `session`, locked by the caller) as a coordinator's act:
    who and why recorded, the calendar told, each volunteer and registered buddy messaged.
    `schedule` names the shifts as they were booked; `reason_in(lang)`: the reason as each
    recipient reads it (default: `reason` as written, a coordinator's own words)."""
    for booking in bookings:
        booking.canceled_at = now
        booking.canceled_by_user_id = by_user_id
        booking.cancel_reason = reason
        touched(booking, now)
    session.flush()
    told = reason_in or (lambda _lang: reason)
    for booking in bookings:
        metrics.BOOKINGS_CANCELLED.inc()
        _tell(session, booking, schedule, told, now, rules)


@dataclass(frozen=True)
class OnShift:
    """Who is booked on a shift, as the confirmation page shows them."""

    booking_id: int
    volunteer: str | None  # the member's name (pages show the first word)
    buddy: str | None  # the buddy's name as the booking shows it
    buddy_told: bool  # a registered buddy: told too


def people_on(session: Session, schedule_id: int, start: datetime) -> list[OnShift]:
    """The active bookings of one shift (one per seat), with the volunteer's name."""
    rows = session.execute(
        select(Booking, User.name)
        .join(User, User.user_id == Booking.user_id)
        .where(
            Booking.schedule_id == schedule_id,
            Booking.shift_start == start,
            Booking.canceled_at.is_(None),
        )
        .order_by(Booking.booking_id)
    ).all()
    return [
        OnShift(
            booking.booking_id,
            name,
            shown_buddy_name(booking),
            _member(session, booking.buddy_user_id) is not None,
        )
        for booking, name in rows
    ]


# --- the console's reads around it -----------------------------------------------------------


@dataclass(frozen=True)
class CancelPreview:
    """What the console's confirmation page shows before a shift is cancelled."""

    schedule: Schedule
    people: list[OnShift]
    refusal: AppError | None  # what `cancel_shift` would raise now: it cannot be cancelled


def preview_cancel(
    session: Session, context: AppContext, schedule_id: int, start: datetime
) -> CancelPreview:
    """Who is on the shift and whether it can be cancelled (404 for an unknown schedule)."""
    schedule = get_schedule(session, schedule_id)
    refusal = None
    try:
        check_cancellable(session, schedule, start, context.clock())
    except AppError as error:
        refusal = error
    return CancelPreview(schedule, people_on(session, schedule_id, start), refusal)


@dataclass(frozen=True)
class CancelledShifts:
    """A schedule's cancelled shifts and the next ones a coordinator could cancel."""

    schedule: Schedule
    cancelled: list[tuple[ScheduleException, str | None]]  # soonest first, with who did it
    next_shifts: list[FoundSlot]  # offered (holidays, cancelled ones left out), booked or not
    now: datetime


def cancelled_shifts(
    session: Session, context: AppContext, schedule_id: int, next_count: int
) -> CancelledShifts:
    """The console's list with "Undo" (404 for an unknown schedule); an inactive schedule
    offers no next shifts."""
    now = context.clock()
    schedule = get_schedule(session, schedule_id)
    found = exclusions.list_exceptions(session, schedule_id)
    ids = {e.created_by_user_id for e in found}
    names = dict(
        session.execute(select(User.user_id, User.name).where(User.user_id.in_(ids))).all()
    )
    cancelled = [(e, names.get(e.created_by_user_id)) for e in found]
    query = availability.SlotQuery(
        now, now + availability.MAX_WINDOW, next_count, schedule_id, include_booked=True
    )
    shifts = availability.find_slots(session, query, now)[0] if schedule.active else []
    return CancelledShifts(schedule, cancelled, shifts, now)


def _member(session: Session, user_id: int | None) -> User | None:
    """A registered, active member (never a bare number someone typed: no consent)."""
    user = active_member(session, user_id)
    return user if user is not None and user.phone else None


def _tell(
    session: Session,
    booking: Booking,
    schedule: ShiftSchedule,
    reason_in: Callable[[str], str],
    now: datetime,
    rules: BuddyRules,
) -> None:
    """The volunteer and a registered buddy, each in their language. A coordinator's action, so
    the volunteers' daily allowance of notices to others does not apply."""
    key = f"booking:{booking.booking_id}:shift_cancelled"
    queue = partial(queue_to, session, now=now, allowed_regions=rules.allowed_regions)
    owner = _member(session, booking.user_id)
    if owner is not None:
        lang = language_of(owner, rules)
        body = shift_cancelled(label_of(booking, schedule, lang), reason_in(lang), lang)
        queue(SHIFT_CANCELLED, owner, body, dedupe_key=key)
    buddy = _member(session, booking.buddy_user_id)
    if buddy is not None and buddy.user_id != booking.user_id:
        lang = language_of(buddy, rules)
        body = shift_cancelled_buddy(label_of(booking, schedule, lang), reason_in(lang), lang)
        queue(SHIFT_CANCELLED_BUDDY, buddy, body, dedupe_key=f"{key}:buddy")
