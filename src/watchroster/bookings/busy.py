"""Nobody is on two overlapping shifts, whichever side of a booking they are on (issue #12 §3).

A registered buddy (`Booking.buddy_user_id`) is on the shift as much as its volunteer. The
booking path (`create.create_booking`) and a change of buddy (`participants.change_buddy`) both
call `check_free`, the one place of that rule. It reads on the driver's cursor because the
booking path does; a session's own connection serves as well (`on_session`), so both run the
same statements.

Two bookings naming the same buddy at once cannot both pass: the buddy's user row is locked
(PostgreSQL; SQLite runs one writer at a time) after the volunteer's, as the buddy's own
bookings lock it. Two people naming each other at the same instant would wait on each other:
PostgreSQL breaks that deadlock by failing one, which is then exactly `buddy_busy`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from watchroster.auth.models import User
from watchroster.bookings.models import Booking
from watchroster.errors import Conflict
from watchroster.rawsql import Prepared, RawTransaction

# Schedules allow shifts of at most a day: an overlapping booking started less than a day
# before this one ends, so the queries can use the shift_start index.
_LONGEST_SHIFT = timedelta(minutes=1440)
_DEADLOCK = "40P01"


def _overlapping(column: Any) -> Prepared:
    return Prepared(
        lambda _dialect: (
            select(Booking.booking_id)
            .where(
                column,
                Booking.canceled_at.is_(None),
                Booking.booking_id != bindparam("this_booking"),
                Booking.shift_start > bindparam("earliest"),
                Booking.shift_start < bindparam("end"),
                Booking.shift_end > bindparam("start"),
            )
            .limit(1)
        )
    )


# The volunteer as someone else's buddy; the buddy on either side of any booking.
_AS_BUDDY = _overlapping(Booking.buddy_user_id == bindparam("user_id"))
_ON_ANY_SIDE = _overlapping(
    or_(Booking.user_id == bindparam("user_id"), Booking.buddy_user_id == bindparam("user_id"))
)
_LOCK_MEMBER = Prepared(
    lambda _dialect: (
        select(User.user_id)
        .where(User.user_id == bindparam("user_id"))
        .with_for_update(key_share=True)
    )
)


@contextmanager
def on_session(session: Session) -> Iterator[RawTransaction]:
    """The session's own connection and transaction, as a `RawTransaction` (a cursor of its
    own, closed afterwards; the transaction stays the session's)."""
    connection = session.connection()
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        yield RawTransaction(cursor, connection.dialect)
    finally:
        cursor.close()


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
    """Refuse a booking (or its change of buddy) that would put someone on two overlapping
    shifts: the volunteer as a buddy elsewhere (409 `overlap`; their own bookings are checked
    by the booking path), the registered buddy on either side of another booking (409
    `buddy_busy`). `this_booking`: the booking being changed, which does not clash with itself.
    """
    window = (start, end)
    clash = _clash(transaction, _AS_BUDDY, volunteer_id, window, this_booking)
    if clash is not None:
        raise Conflict(
            f"you are buddy on booking {clash}, which overlaps this shift", code="overlap"
        )
    if buddy_id is None:
        return
    if not transaction.is_sqlite:
        _lock_buddy(transaction, buddy_id)
    if _clash(transaction, _ON_ANY_SIDE, buddy_id, window, this_booking) is not None:
        # Which booking stays unsaid: it is someone else's.
        raise _busy()
