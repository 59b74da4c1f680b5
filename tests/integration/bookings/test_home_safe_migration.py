"""Migration 0005 (buddies and home safe) on both databases, on a database that has rows (a
real upgrade): the columns and the check constraint arrive, the downgrade removes them keeping
every row, the upgrade restores them. Run on a database of its own at 0004, so the revisions
after this one play no part."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.support.databases import columns
from watchroster.db import migrate
from watchroster.db.engine import Database

_ROWS = [
    "INSERT INTO users (phone, name, role, active, channel, reminders, created_at) VALUES"
    " ('+27820000009', 'Sipho', 'volunteer', :yes, 'sms', :yes, :at)",
    "INSERT INTO schedules (name, cron_expr, timezone, duration_minutes, active, created_at,"
    " updated_at) VALUES ('Friday', '0 18 * * FRI', 'Africa/Johannesburg', 180, :yes, :at, :at)",
    "INSERT INTO bookings (user_id, schedule_id, shift_start, shift_end, attended, created_at)"
    " VALUES (1, 1, :at, :at, :no, :at)",
    "INSERT INTO reports (booking_id, user_id, severity, message, created_at)"
    " VALUES (1, 1, 0, 'quiet', :at)",
]


NEW_BOOKING_COLUMNS = {"safe_at", "safe_by", "overdue_alerted_at"}


def test_upgrade_with_rows_downgrade_and_upgrade_again(empty_db: Database) -> None:
    engine = empty_db.engine
    sqlite = engine.dialect.name == "sqlite"
    values: dict[str, object] = {"yes": 1 if sqlite else True, "no": 0 if sqlite else False}
    values["at"] = "2026-11-30T08:00:00.000000Z" if sqlite else "2026-11-30T08:00:00+00:00"
    migrate.run(engine, "upgrade", "0004")
    with engine.begin() as connection:
        for statement in _ROWS:
            connection.execute(text(statement), values)

    migrate.run(engine, "upgrade", "0005")
    assert columns(engine, "bookings") >= NEW_BOOKING_COLUMNS
    assert "check_in_minutes" in columns(engine, "schedules")
    for minutes in (4, 1441):  # the range is the database's rule too
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE schedules SET check_in_minutes = :m"), {"m": minutes})
    with engine.begin() as connection:
        connection.execute(text("UPDATE schedules SET check_in_minutes = 30"))

    migrate.run(engine, "downgrade", "0004")
    assert not NEW_BOOKING_COLUMNS & columns(engine, "bookings")
    assert "check_in_minutes" not in columns(engine, "schedules")
    with engine.connect() as connection:
        counts = [
            connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("users", "schedules", "bookings", "reports")
        ]
    assert counts == [1, 1, 1, 1]

    migrate.run(engine, "upgrade", "0005")
    assert columns(engine, "bookings") >= NEW_BOOKING_COLUMNS
