"""Registered buddies as full participants (issue #12 §3): the buddy declines, the volunteer
names another buddy. Who may record attendance or report is in `service`; who may say "home
safe" in `home_safe`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchroster.auth.deps import Principal
from watchroster.auth.models import User
from watchroster.bookings import buddy_notices, create
from watchroster.bookings.busy import check_free
from watchroster.bookings.changes import touched
from watchroster.bookings.models import Booking
from watchroster.bookings.schemas import BookingCreate, BuddyChange
from watchroster.bookings.service import load_booking
from watchroster.core.errors import Conflict, Forbidden
from watchroster.core.rules import BuddyRules
from watchroster.db.rawsql import on_session
from watchroster.schedules.models import Schedule

# --- the buddy declines ---------------------------------------------------------------------


def _lock_user(session: Session, user_id: int) -> None:
    """As `service._lock_user`: one user's changes one at a time (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(User.user_id).where(User.user_id == user_id).with_for_update(key_share=True)
        )


def _before_start(booking: Booking, now: datetime) -> None:
    if booking.canceled_at is not None:
        raise Conflict("the booking was cancelled", code="booking_canceled")
    if booking.shift_start <= now:
        raise Conflict("the shift has already started", code="shift_started")


def decline(
    session: Session,
    caller: Principal,
    booking_id: int,
    now: datetime,
    rules: BuddyRules,
) -> tuple[Booking, Schedule]:
    """The registered buddy says "I can't come": the buddy link is removed and the volunteer
    told. Only before the shift starts; only the buddy themselves (not even an admin speaks
    for them)."""
    _lock_user(session, caller.user_id)
    booking, schedule = load_booking(session, booking_id, lock=True)
    if booking.buddy_user_id != caller.user_id:
        raise Forbidden("only this booking's registered buddy may decline", code="not_buddy")
    _before_start(booking, now)
    _clear_buddy(booking)
    touched(booking, now)
    session.flush()
    buddy_notices.notify_declined(session, booking, schedule, caller.name, now, rules=rules)
    return booking, schedule


def _clear_buddy(booking: Booking) -> None:
    booking.buddy_user_id = None
    booking.buddy_name = None
    booking.buddy_phone = None
    booking.buddy_attended = None


# --- the volunteer names another buddy ---------------------------------------------------------


def change_buddy(
    session: Session,
    caller: Principal,
    booking_id: int,
    change: BuddyChange,
    now: datetime,
    *,
    default_region: str,
    rules: BuddyRules,
) -> tuple[Booking, Schedule, bool | None]:
    """Replace the buddy of a booking that has not started (all three fields as given; none
    removes the buddy), with the rules of booking time: the same validation, daily limits and
    `buddy_busy`. Only the volunteer who booked. Returns whether a new buddy was told (None when
    no buddy is named)."""
    _lock_user(session, caller.user_id)
    booking, schedule = load_booking(session, booking_id, lock=True)
    if booking.user_id != caller.user_id:
        raise Forbidden(
            "only the volunteer who booked this shift may change its buddy",
            code="not_booking_owner",
        )
    _before_start(booking, now)
    buddy = _new_buddy(
        session, caller, booking, change, create._BuddyContext(default_region, rules, now)
    )
    new_id = buddy.member.user_id if buddy.member is not None else None
    old_id = booking.buddy_user_id
    booking.buddy_user_id, booking.buddy_name = new_id, buddy.name
    booking.buddy_phone, booking.buddy_attended = buddy.phone, None
    touched(booking, now)
    session.flush()
    told = buddy_notices.notify_buddy_changed(
        session, booking, schedule, caller, old_id, buddy.member, now, rules=rules, used=buddy.used
    )
    return booking, schedule, told if buddy.named else None


def _new_buddy(
    session: Session,
    caller: Principal,
    booking: Booking,
    change: BuddyChange,
    context: create._BuddyContext,
) -> create._Buddy:
    """The buddy named, resolved and checked exactly as at booking time (`create`, `busy`), on
    the session's own transaction."""
    data = BookingCreate.model_construct(
        schedule_id=booking.schedule_id,
        start_time="",
        buddy_user_id=change.buddy_user_id,
        buddy_phone=change.buddy_phone,
        buddy_name=change.buddy_name,
    )
    with on_session(session) as transaction:
        buddy = create._resolve_buddy(transaction, caller, data, context)
        new_id = buddy.member.user_id if buddy.member is not None else None
        window = (booking.shift_start, booking.shift_end)
        check_free(transaction, caller.user_id, new_id, *window, this_booking=booking.booking_id)
    return buddy
