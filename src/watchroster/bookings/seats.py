"""Seats: which place of a shift a new booking takes (issue #12 §1).

A schedule takes `seats` volunteers per shift; each active booking holds one seat, and the
partial unique index over active bookings on (schedule, shift start, seat) makes over-booking
impossible, never a count read before the write. A booking tries the lowest free seat; when a
concurrent booking took it, the next; when none is left the shift is full (409 `slot_taken`).
Used by `bookings.create` on the driver's cursor, inside the booking's one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, bindparam, cast, func, literal_column, select, text
from sqlalchemy.dialects import postgresql, sqlite

from watchroster.bookings.models import Booking
from watchroster.core.errors import Conflict
from watchroster.db.rawsql import Prepared, RawTransaction

# The seats of a slot taken now, as one "1,3" text (one row, so `first` reads it): where a
# booking of a several-seat slot starts trying. A hint only; the index decides.
_TAKEN = Prepared(
    lambda dialect: select(
        func.string_agg(cast(Booking.seat, Text), literal_column("','"))
        if dialect == "postgresql"
        else func.group_concat(Booking.seat)
    ).where(
        Booking.schedule_id == bindparam("schedule_id"),
        Booking.shift_start == bindparam("shift_start"),
        Booking.canceled_at.is_(None),
    )
)


def insert_statement(dialect: str, columns: Sequence[str]) -> Any:
    """INSERT a booking (`columns`, `seat` among them) into one seat; when that seat is taken,
    nothing happens and no row comes back.

    ON CONFLICT DO NOTHING rather than a caught unique violation: on PostgreSQL a failed
    statement aborts the whole transaction (and on SQLite a group commit batch shares one), so
    trying the next seat must not raise. Only the active-slot index is the arbiter; any other
    conflict still raises."""
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        make(Booking)
        .values({name: bindparam(name) for name in columns})
        .on_conflict_do_nothing(
            index_elements=["schedule_id", "shift_start", "seat"],
            index_where=text("canceled_at IS NULL"),
        )
        .returning(Booking.booking_id)
    )


def free_seats(
    transaction: RawTransaction, schedule_id: int, shift_start: datetime, seats: int
) -> list[int]:
    """The seats worth trying, lowest first. One seat: just try it (no read, as before seats)."""
    if seats <= 1:
        return [1]
    params = {"schedule_id": schedule_id, "shift_start": shift_start}
    row = transaction.first(_TAKEN, params)
    listed = row[0] if row is not None else None
    taken = {int(seat) for seat in listed.split(",")} if listed else set()
    return [seat for seat in range(1, seats + 1) if seat not in taken]


def full() -> Conflict:
    return Conflict("this shift is full", code="slot_taken")
