"""Migration 0009 on both databases, on a database with a member: the opt-out column arrives
set to true for existing rows, the call tables appear, and the downgrade removes them keeping the
row. Run on a database of its own at 0008, so later revisions play no part."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from watchroster.db import migrate
from watchroster.db.engine import Database

_MEMBER = (
    "INSERT INTO users (phone, name, role, active, channel, reminders, created_at) VALUES"
    " ('+27820000009', 'Sipho', 'volunteer', :yes, 'sms', :yes, '2025-05-01 08:00:00+00:00')"
)
_TABLES = {"volunteer_calls", "volunteer_call_counts"}


def _state(engine: Engine) -> tuple[bool, set[str], list[tuple[str, object]]]:
    """(users has the column, which call tables exist, the users' rows)."""
    inspector = inspect(engine)
    has_column = "volunteer_calls" in {c["name"] for c in inspector.get_columns("users")}
    tables = _TABLES & set(inspector.get_table_names())
    column = "volunteer_calls" if has_column else "NULL"
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT name, {column} FROM users")).all()
    return has_column, tables, [(name, value) for name, value in rows]


def test_upgrade_with_rows_downgrade_and_upgrade_again(empty_db: Database) -> None:
    engine = empty_db.engine
    migrate.run(engine, "upgrade", "0008")
    with engine.begin() as connection:
        connection.execute(text(_MEMBER), {"yes": True})
    migrate.run(engine, "upgrade", "0009")
    has_column, tables, rows = _state(engine)
    assert has_column and tables == _TABLES
    assert [(name, bool(value)) for name, value in rows] == [("Sipho", True)]
    migrate.run(engine, "downgrade", "0008")
    assert _state(engine) == (False, set(), [("Sipho", None)])
    migrate.run(engine, "upgrade", "0009")
    assert _state(engine)[:2] == (True, _TABLES)
