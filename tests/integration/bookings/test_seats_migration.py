"""Migration 0004 (seats) on both databases, on a database that has rows (a real upgrade):
existing schedules get one seat and existing bookings seat 1, the database enforces the ranges
and one active booking per seat, and the downgrade keeps every row. Run on a database of its own
at 0003, so the revisions after this one play no part."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from tests.support.databases import columns
from watchroster.db import migrate
from watchroster.db.engine import Database

_ROWS = [
    "INSERT INTO users (phone, name, role, active, channel, reminders, created_at) VALUES"
    " ('+27820000009', 'Sipho', 'volunteer', :yes, 'sms', :yes, :at)",
    "INSERT INTO users (phone, name, role, active, channel, reminders, created_at) VALUES"
    " ('+27820000010', 'Thandi', 'volunteer', :yes, 'sms', :yes, :at)",
    "INSERT INTO schedules (name, cron_expr, timezone, duration_minutes, active, created_at,"
    " updated_at) VALUES ('Friday', '0 18 * * FRI', 'Africa/Johannesburg', 180, :yes, :at, :at)",
    # One active booking of the slot, and a cancelled one of the same slot kept for history.
    "INSERT INTO bookings (user_id, schedule_id, shift_start, shift_end, attended, created_at)"
    " VALUES (1, 1, :start, :end, :no, :at)",
    "INSERT INTO bookings (user_id, schedule_id, shift_start, shift_end, attended, created_at,"
    " canceled_at) VALUES (2, 1, :start, :end, :no, :at, :at)",
]
_SECOND_SEAT = (
    "INSERT INTO bookings (user_id, schedule_id, shift_start, shift_end, attended, created_at,"
    " seat) VALUES (2, 1, :start, :end, :no, :at, :seat)"
)


def _values(engine: Engine) -> dict[str, Any]:
    if engine.dialect.name == "sqlite":
        at, start, end = (f"2026-12-04T{hour}:00:00.000000Z" for hour in ("08", "16", "19"))
        return {"yes": 1, "no": 0, "at": at, "start": start, "end": end}
    at, start, end = (f"2026-12-04T{hour}:00:00+00:00" for hour in ("08", "16", "19"))
    return {"yes": True, "no": False, "at": at, "start": start, "end": end}


def _refused(engine: Engine, statement: str, values: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(statement), values)


def test_upgrade_with_rows_enforces_seats_and_downgrades_keeping_rows(empty_db: Database) -> None:
    engine = empty_db.engine
    values = _values(engine)
    migrate.run(engine, "upgrade", "0003")
    with engine.begin() as connection:
        for statement in _ROWS:
            connection.execute(text(statement), values)

    migrate.run(engine, "upgrade", "0004")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT seats FROM schedules")).scalars().all() == [1]
        booked = connection.execute(text("SELECT seat FROM bookings ORDER BY booking_id"))
        assert booked.scalars().all() == [1, 1]
    for seats in (0, 51):  # the range is the database's rule too
        _refused(engine, "UPDATE schedules SET seats = :seats", {"seats": seats})
    _refused(engine, _SECOND_SEAT, {**values, "seat": 0})
    _refused(engine, _SECOND_SEAT, {**values, "seat": 1})  # seat 1 of the slot is held
    with engine.begin() as connection:
        connection.execute(text("UPDATE schedules SET seats = 2"))
        connection.execute(text(_SECOND_SEAT), {**values, "seat": 2})
        # Once cancelled, a seat may be booked again: the index covers active bookings only.
        connection.execute(text("UPDATE bookings SET canceled_at = :at WHERE seat = 2"), values)
        connection.execute(text(_SECOND_SEAT), {**values, "seat": 2})

    with engine.begin() as connection:  # back to one booking per slot: the second seat goes
        connection.execute(text("DELETE FROM bookings WHERE seat = 2 AND canceled_at IS NULL"))
    migrate.run(engine, "downgrade", "0003")
    assert "seat" not in columns(engine, "bookings")
    assert "seats" not in columns(engine, "schedules")
    with engine.connect() as connection:
        counts = [
            connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("users", "schedules", "bookings")
        ]
    assert counts == [2, 1, 3]
    legacy = (
        "INSERT INTO bookings (user_id, schedule_id, shift_start, shift_end, attended, created_at)"
        " VALUES (2, 1, :start, :end, :no, :at)"
    )
    _refused(engine, legacy, values)  # one active booking per slot, as before seats

    migrate.run(engine, "upgrade", "0004")
    assert "seat" in columns(engine, "bookings")
