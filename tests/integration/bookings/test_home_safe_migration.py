"""Migration 0005 (buddies and home safe) on both databases, on a database that has rows (a
real upgrade): the columns and the check constraint arrive, the downgrade removes them keeping
every row, the upgrade restores them. Run on a database of its own at 0004, so the revisions
after this one play no part."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

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
    "INSERT INTO schedules (name, cron_expr, timezone, duration_minutes, active, created_at,"
    " updated_at) VALUES ('Friday', '0 18 * * FRI', 'Africa/Johannesburg', 180, :yes, :at, :at)",
    "INSERT INTO bookings (user_id, schedule_id, shift_start, shift_end, attended, created_at)"
    " VALUES (1, 1, :at, :at, :no, :at)",
    "INSERT INTO reports (booking_id, user_id, severity, message, created_at)"
    " VALUES (1, 1, 0, 'quiet', :at)",
]


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
    name = f"watchroster_migration_{uuid.uuid4().hex[:10]}"
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


NEW_BOOKING_COLUMNS = {"safe_at", "safe_by", "overdue_alerted_at"}


def test_upgrade_with_rows_downgrade_and_upgrade_again(empty: Database) -> None:
    engine = empty.engine
    sqlite = engine.dialect.name == "sqlite"
    values: dict[str, object] = {"yes": 1 if sqlite else True, "no": 0 if sqlite else False}
    values["at"] = "2026-11-30T08:00:00.000000Z" if sqlite else "2026-11-30T08:00:00+00:00"
    migrate.run(engine, "upgrade", "0004")
    with engine.begin() as connection:
        for statement in _ROWS:
            connection.execute(text(statement), values)

    migrate.run(engine, "upgrade", "0005")
    assert _columns(engine, "bookings") >= NEW_BOOKING_COLUMNS
    assert "check_in_minutes" in _columns(engine, "schedules")
    for minutes in (4, 1441):  # the range is the database's rule too
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE schedules SET check_in_minutes = :m"), {"m": minutes})
    with engine.begin() as connection:
        connection.execute(text("UPDATE schedules SET check_in_minutes = 30"))

    migrate.run(engine, "downgrade", "0004")
    assert not NEW_BOOKING_COLUMNS & _columns(engine, "bookings")
    assert "check_in_minutes" not in _columns(engine, "schedules")
    with engine.connect() as connection:
        counts = [
            connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("users", "schedules", "bookings", "reports")
        ]
    assert counts == [1, 1, 1, 1]

    migrate.run(engine, "upgrade", "0005")
    assert _columns(engine, "bookings") >= NEW_BOOKING_COLUMNS
