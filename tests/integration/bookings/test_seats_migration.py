"""Migration 0004 (seats) on both databases, on a database that has rows (a real upgrade):
existing schedules get one seat and existing bookings seat 1, the database enforces the ranges
and one active booking per seat, and the downgrade keeps every row. Run on a database of its own
at 0003, so the revisions after this one play no part."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from tests.support import databases
from watchroster import migrate
from watchroster.db import Database

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


@pytest.fixture(params=["sqlite", "postgresql"])
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with no tables yet."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'migration.db'}")
        yield database
        database.dispose()
        return
    reason = databases.postgres_unavailable_reason()
    if reason:
        pytest.fail(reason) if databases.REQUIRE_POSTGRES else pytest.skip(reason)
    name = f"watchroster_seats_{uuid.uuid4().hex[:10]}"
    admin = create_engine(databases.POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(databases.POSTGRES_ADMIN_URL).set(database=name)
    database = Database(url.render_as_string(hide_password=False))
    try:
        yield database
    finally:
        database.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _columns(engine: Engine, table: str) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table)}


def _values(engine: Engine) -> dict[str, Any]:
    if engine.dialect.name == "sqlite":
        at, start, end = (f"2026-12-04T{hour}:00:00.000000Z" for hour in ("08", "16", "19"))
        return {"yes": 1, "no": 0, "at": at, "start": start, "end": end}
    at, start, end = (f"2026-12-04T{hour}:00:00+00:00" for hour in ("08", "16", "19"))
    return {"yes": True, "no": False, "at": at, "start": start, "end": end}


def _refused(engine: Engine, statement: str, values: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(statement), values)


def test_upgrade_with_rows_enforces_seats_and_downgrades_keeping_rows(empty: Database) -> None:
    engine = empty.engine
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
    assert "seat" not in _columns(engine, "bookings")
    assert "seats" not in _columns(engine, "schedules")
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
    assert "seat" in _columns(engine, "bookings")
