"""Which seats of which slots are taken: the active bookings of a window, read a stretch at a
time just ahead of the open-shifts walk (`schedules.availability`), never the whole window up
front. Reads the bookings table (`watchroster.db.booking_table`) on the driver's cursor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from watchroster.auth.models import User
from watchroster.db.booking_table import Booking
from watchroster.db.rawsql import Prepared, decode_instant, encode_instant

# The first stretch of bookings read. The next one is twice as long after a read of fewer than
# FEW_BOOKING_ROWS rows (a walk of d sparse days makes about log2(d) queries), half as long after
# one of more than 4x that, and as long otherwise: a walk through dense bookings does not read
# far past the point where it stops (measured: a query costs about what 50-80 rows do).
FIRST_BOOKING_STRETCH = timedelta(days=1)
FEW_BOOKING_ROWS = 100
SHORTEST_BOOKING_STRETCH = timedelta(minutes=15)
BOOKING_ROWS_PER_STEP = 500
_IN_STRETCH = (
    Booking.canceled_at.is_(None),
    Booking.shift_start >= bindparam("start"),
    Booking.shift_start < bindparam("end"),
)
# Bookings of schedules that are not listed simply match no slot, so no schedule filter. Read
# on the driver's cursor (see `rawsql`): per row, SQLAlchemy's result and type processing cost
# more than the rest of the request's handling of a booking.
_BOOKED = Prepared(
    lambda _dialect: select(Booking.schedule_id, Booking.shift_start).where(*_IN_STRETCH)
)
_BOOKED_WITH_NAMES = Prepared(
    lambda _dialect: (
        select(Booking.schedule_id, Booking.shift_start, Booking.seat, User.name)
        .join(User, User.user_id == Booking.user_id)
        .where(*_IN_STRETCH)
    )
)
Key = tuple[int, datetime]  # (schedule_id, shift start)
Holder = tuple[int, str | None]  # (seat, first name)


class BookedSeats:
    """The window's active bookings, read a stretch at a time just ahead of the walk:
    (schedule_id, start) → how many seats are taken, and in the roster view who holds them.
    The index on shift_start keeps each read independent of the booking history."""

    def __init__(self, session: Session, start: datetime, end: datetime, names: bool) -> None:
        # A Counter: `update` counts in C, so a slot with one seat costs what a set would.
        self.booked: Counter[Key] = Counter()
        self.holders: dict[Key, list[Holder]] = {}
        self._session = session
        self._names = names
        self._statement = _BOOKED_WITH_NAMES if names else _BOOKED
        self._read_until = start
        self._end = end
        self._stretch = FIRST_BOOKING_STRETCH

    def through(self, instant: datetime) -> Generator[None, None, Counter[Key]]:
        """All bookings that start at or before `instant` (pausing every few hundred rows)."""
        while self._read_until <= instant and self._read_until < self._end:
            until = min(self._end, max(instant, self._read_until + self._stretch))
            if until == instant:
                until += timedelta(microseconds=1)
            begin, rows_read = self._read_until, 0
            for rows in self.read(begin, until):
                rows_read += len(rows)
                if self._names:
                    self._add_holders(rows)
                else:
                    self.booked.update(_keys(rows))
                yield
            self._read_until = until
            self._stretch = _next_stretch(until - begin, rows_read)
        return self.booked

    def _add_holders(self, rows: list[tuple[Any, ...]]) -> None:
        for schedule_id, start, seat, name in rows:
            key = (schedule_id, _instant(start))
            self.booked[key] += 1
            self.holders.setdefault(key, []).append((seat, first_name(name)))

    def read(self, start: datetime, end: datetime) -> Iterator[list[tuple[Any, ...]]]:
        """Rows (schedule_id, stored start, name or None) starting in [start, end), in batches,
        on the driver's cursor inside the session's own transaction."""
        connection = self._session.connection()
        driver = connection.connection.driver_connection
        assert driver is not None
        sql, _fixed = self._statement.compiled(connection.dialect)
        sqlite = connection.dialect.name == "sqlite"
        params = {
            "start": encode_instant(start, sqlite=sqlite),
            "end": encode_instant(end, sqlite=sqlite),
        }
        cursor = driver.cursor()
        try:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(BOOKING_ROWS_PER_STEP):
                yield rows
        finally:
            cursor.close()


def _instant(stored: Any) -> datetime:
    decoded = decode_instant(stored)
    assert decoded is not None  # shift_start is NOT NULL
    return decoded


_SCHEDULE_ID, _STORED_START = itemgetter(0), itemgetter(1)


def _keys(rows: list[tuple[Any, ...]]) -> Iterable[Key]:
    """The (schedule_id, start) keys of rows (schedule_id, stored start), made in C: per row,
    a generator calling `_instant` cost as much as reading the row."""
    if rows and isinstance(rows[0][1], str):  # SQLite's text: what `decode_instant` does to it
        starts = map(datetime.fromisoformat, map(_STORED_START, rows))
        return zip(map(_SCHEDULE_ID, rows), starts, strict=True)
    # psycopg's aware datetimes as they come: an aware datetime equals, and hashes like, the
    # same instant in UTC, so they match the slots' keys with no conversion.
    return rows  # tuples of exactly (int, datetime)


def _next_stretch(length: timedelta, rows: int) -> timedelta:
    """How long a stretch to read next, after one of `length` that held `rows` bookings."""
    if rows < FEW_BOOKING_ROWS:
        return length * 2
    if rows > 4 * FEW_BOOKING_ROWS:
        return max(SHORTEST_BOOKING_STRETCH, length / 2)
    return length


def first_name(name: str | None) -> str | None:
    return name.split()[0] if name and name.strip() else None
