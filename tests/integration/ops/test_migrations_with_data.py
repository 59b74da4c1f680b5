"""Migrations on a database that already holds a group's data, as an upgrade in the field meets
it: every row survives upgrade → downgrade → upgrade, with foreign keys intact.

SQLite rebuilds a table for most changes (batch mode); with rows pointing at that table, the
rebuild fails unless foreign keys are off during the migration (`migrate.run`). Test databases
are migrated empty, so only this test would notice.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from watchroster.db import migrate
from watchroster.db.engine import Database

# The last revision before this session's changes: the schema a deployed group has today.
DEPLOYED = "0003"
NOW = "2026-11-01T10:00:00.000000Z"

_ROWS = [
    "INSERT INTO users (user_id, phone, name, role, active, channel, reminders, created_at)"
    f" VALUES (1, '+27821234567', 'Thandi', 'volunteer', 1, 'sms', 1, '{NOW}'),"
    f" (2, '+27821234568', 'Sipho', 'admin', 1, 'sms', 1, '{NOW}')",
    "INSERT INTO schedules (schedule_id, name, cron_expr, timezone, duration_minutes, active,"
    " created_at, updated_at) VALUES (1, 'Friday patrol', '0 18 * * FRI',"
    f" 'Africa/Johannesburg', 180, 1, '{NOW}', '{NOW}')",
    "INSERT INTO bookings (booking_id, user_id, schedule_id, shift_start, shift_end,"
    " buddy_user_id, attended, created_at) VALUES (1, 1, 1, '2026-11-06T16:00:00.000000Z',"
    f" '2026-11-06T19:00:00.000000Z', 2, 1, '{NOW}')",
    "INSERT INTO reports (report_id, booking_id, user_id, severity, message, created_at)"
    f" VALUES (1, 1, 1, 2, 'Car break-in on Main Road.', '{NOW}')",
]
_COUNTS = {"users": 2, "schedules": 1, "bookings": 1, "reports": 1}


def _counts(database: Database) -> dict[str, int]:
    with database.engine.connect() as connection:
        return {
            table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in _COUNTS
        }


def test_a_deployed_sqlite_database_upgrades_and_downgrades_keeping_every_row(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'deployed.db'}")
    try:
        migrate.upgrade(database.engine, DEPLOYED)
        with database.engine.begin() as connection:
            for statement in _ROWS:
                connection.execute(text(statement))

        migrate.upgrade(database.engine)
        assert migrate.is_up_to_date(database.engine)
        assert _counts(database) == _COUNTS
        with database.engine.connect() as connection:
            booking = connection.execute(
                text("SELECT user_id, buddy_user_id, shift_start FROM bookings")
            ).one()
            assert tuple(booking) == (1, 2, "2026-11-06T16:00:00.000000Z")
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
            # Foreign keys are back on for whoever uses the connection next.
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1

        migrate.run(database.engine, "downgrade", DEPLOYED)
        assert _counts(database) == _COUNTS
        migrate.upgrade(database.engine)
        assert _counts(database) == _COUNTS
    finally:
        database.dispose()
