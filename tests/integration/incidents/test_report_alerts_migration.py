"""Migration 0011 (issue #21 §2) on both databases, on a database that has a report: the report
gets `alert_suppressed` false (it did alert, as every serious report did before), the column
refuses NULL, and the downgrade keeps the row. Run on a database of its own at 0010, so later
revisions play no part."""

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
    "INSERT INTO schedules (name, cron_expr, timezone, duration_minutes, active, created_at,"
    " updated_at) VALUES ('Friday', '0 18 * * FRI', 'Africa/Johannesburg', 180, :yes, :at, :at)",
    "INSERT INTO bookings (user_id, schedule_id, shift_start, shift_end, attended, created_at)"
    " VALUES (1, 1, :start, :end, :no, :at)",
    "INSERT INTO reports (booking_id, user_id, severity, message, created_at)"
    " VALUES (1, 1, 2, 'Break-in', :end)",
]
_NULL_FLAG = (
    "INSERT INTO reports (booking_id, user_id, severity, message, created_at, alert_suppressed)"
    " VALUES (1, 1, 2, 'Again', :end, NULL)"
)


def _values(engine: Engine) -> dict[str, Any]:
    if engine.dialect.name == "sqlite":
        at, start, end = (f"2026-12-04T{hour}:00:00.000000Z" for hour in ("08", "16", "19"))
        return {"yes": 1, "no": 0, "at": at, "start": start, "end": end}
    at, start, end = (f"2026-12-04T{hour}:00:00+00:00" for hour in ("08", "16", "19"))
    return {"yes": True, "no": False, "at": at, "start": start, "end": end}


def _reports(engine: Engine, flag: bool) -> list[tuple[Any, ...]]:
    column = ", alert_suppressed" if flag else ""
    with engine.connect() as connection:
        query = f"SELECT message{column} FROM reports ORDER BY report_id"
        return [tuple(row) for row in connection.execute(text(query))]


def test_upgrade_with_a_report_downgrade_and_upgrade_again(empty_db: Database) -> None:
    engine = empty_db.engine
    values = _values(engine)
    migrate.run(engine, "upgrade", "0010")
    with engine.begin() as connection:
        for statement in _ROWS:
            connection.execute(text(statement), values)

    migrate.run(engine, "upgrade", "0011")
    assert [(message, bool(flag)) for message, flag in _reports(engine, True)] == [
        ("Break-in", False)
    ]
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(_NULL_FLAG), values)

    migrate.run(engine, "downgrade", "0010")
    assert "alert_suppressed" not in columns(engine, "reports")
    assert _reports(engine, False) == [("Break-in",)]
    migrate.run(engine, "upgrade", "0011")
    assert "alert_suppressed" in columns(engine, "reports")
