"""Nobody is on two overlapping shifts, whichever side of a booking they are on (issue #12 §3).

A registered buddy (`Booking.buddy_user_id`) is on the shift as much as its volunteer. The
booking path (`create.create_booking`) and a change of buddy (`participants.change_buddy`) both
call `check_free`, the one place of that rule. It reads on the driver's cursor because the
booking path does; a session's own connection serves as well (`rawsql.on_session`), so both run the
same statements.

Two bookings naming the same buddy at once cannot both pass: the buddy's user row is locked
(PostgreSQL; SQLite runs one writer at a time) after the volunteer's, as the buddy's own
bookings lock it. Two people naming each other at the same instant would wait on each other:
PostgreSQL breaks that deadlock by failing one, which is then exactly `buddy_busy`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, select, union_all

from watchroster.auth.models import User
from watchroster.bookings.models import Booking
from watchroster.core.errors import Conflict
from watchroster.db.rawsql import Prepared, RawTransaction

# Schedules allow shifts of at most a day: an overlapping booking started less than a day
# before this one ends, so the queries can use the shift_start index.
_LONGEST_SHIFT = timedelta(minutes=1440)
_DEADLOCK = "40P01"


def _on_side(side: Any, columns: tuple[Any, ...], *, excluding: bool) -> Select[Any]:
    """The bookings overlapping the window where `side` (a user column) is the user."""
    conditions = [
        side == bindparam("user_id"),
        Booking.canceled_at.is_(None),
        Booking.shift_start > bindparam("earliest"),
        Booking.shift_start < bindparam("end"),
        Booking.shift_end > bindparam("start"),
    ]
    if excluding:
        conditions.append(Booking.booking_id != bindparam("this_booking"))
    return select(*columns).where(*conditions)


def _first_overlap(
    *sides: Any, columns: tuple[Any, ...] = (Booking.booking_id,), excluding: bool = True
) -> Prepared:
    """One booking overlapping the window on any of `sides` (`excluding` the booking
    `this_booking`), if there is one.

    Several sides are one SELECT each joined by UNION ALL, never `user_id = :u OR buddy_user_id
    = :u`: given the OR and LIMIT 1, PostgreSQL walked `ix_bookings_shift_start` through every
    booking of that day (0.23-0.34 ms with 1,440 that day, the booking's costliest statement);
    each SELECT here reads its own side's index, also in the generic plan a prepared statement
    ends up with (0.03 ms). SQLite reads the same two indexes either way.
    """

    def build(_dialect: str) -> Any:
        selects = [_on_side(side, columns, excluding=excluding) for side in sides]
        return (union_all(*selects) if len(selects) > 1 else selects[0]).limit(1)

    return Prepared(build)


# The volunteer as someone else's buddy; the buddy on either side of any booking.
_AS_BUDDY = _first_overlap(Booking.buddy_user_id)
_ON_ANY_SIDE = _first_overlap(Booking.user_id, Booking.buddy_user_id)
# The booking path's one query for its volunteer: their own overlapping booking or one they are
# buddy on (one statement instead of two on the hot path); `user_id` tells which.
_VOLUNTEER_ANYWHERE = _first_overlap(
    Booking.user_id,
    Booking.buddy_user_id,
    columns=(Booking.booking_id, Booking.user_id),
    excluding=False,
)
_LOCK_MEMBER = Prepared(
    lambda _dialect: (
        select(User.user_id)
        .where(User.user_id == bindparam("user_id"))
        .with_for_update(key_share=True)
    )
)


def _clash(
    transaction: RawTransaction,
    statement: Prepared,
    user_id: int,
    window: tuple[datetime, datetime],
    this_booking: int,
) -> int | None:
    start, end = window
    params = {
        "user_id": user_id,
        "this_booking": this_booking,
        "earliest": start - _LONGEST_SHIFT,
        "end": end,
        "start": start,
    }
    row = transaction.first(statement, params)
    return None if row is None else int(row[0])


def _lock_buddy(transaction: RawTransaction, buddy_id: int) -> None:
    try:
        transaction.first(_LOCK_MEMBER, {"user_id": buddy_id})
    except Exception as exc:
        if getattr(exc, "sqlstate", None) == _DEADLOCK:
            raise _busy() from None
        raise


def _busy() -> Conflict:
    return Conflict("your buddy is already on another shift at this time", code="buddy_busy")


def check_free(
    transaction: RawTransaction,
    volunteer_id: int,
    buddy_id: int | None,
    start: datetime,
    end: datetime,
    *,
    this_booking: int = 0,
) -> None:
    """Refuse a change of buddy that would put someone on two overlapping shifts: the volunteer
    as a buddy elsewhere (409 `overlap`), the registered buddy on either side of another booking
    (409 `buddy_busy`). `this_booking`: the booking being changed, which does not clash with
    itself. (A new booking checks its volunteer with `check_volunteer_free`.)
    """
    clash = _clash(transaction, _AS_BUDDY, volunteer_id, (start, end), this_booking)
    if clash is not None:
        raise _overlap_as_buddy(clash)
    if buddy_id is not None:
        check_buddy_free(transaction, buddy_id, start, end, this_booking=this_booking)


def check_volunteer_free(
    transaction: RawTransaction, volunteer_id: int, start: datetime, end: datetime
) -> None:
    """409 `overlap` when the volunteer of a new booking already holds an overlapping booking
    or is the registered buddy on one."""
    params = {"user_id": volunteer_id, "earliest": start - _LONGEST_SHIFT, "end": end}
    row = transaction.first(_VOLUNTEER_ANYWHERE, {**params, "start": start})
    if row is None:
        return
    booking_id, owner = int(row[0]), int(row[1])
    if owner != volunteer_id:
        raise _overlap_as_buddy(booking_id)
    raise Conflict(
        f"you already hold booking {booking_id}, which overlaps this shift", code="overlap"
    )


def check_buddy_free(
    transaction: RawTransaction,
    buddy_id: int,
    start: datetime,
    end: datetime,
    *,
    this_booking: int = 0,
) -> None:
    """409 `buddy_busy` when the registered buddy is on either side of an overlapping booking."""
    if not transaction.is_sqlite:
        _lock_buddy(transaction, buddy_id)
    if _clash(transaction, _ON_ANY_SIDE, buddy_id, (start, end), this_booking) is not None:
        # Which booking stays unsaid: it is someone else's.
        raise _busy()


def _overlap_as_buddy(booking_id: int) -> Conflict:
    return Conflict(
        f"you are buddy on booking {booking_id}, which overlaps this shift", code="overlap"
    )
