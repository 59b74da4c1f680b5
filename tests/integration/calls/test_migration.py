"""Migration 0009 on both databases, on a database with a member: the opt-out column arrives
set to true for existing rows, the call tables appear, and the downgrade removes them keeping the
row. Run on a database of its own at 0008, so later revisions play no part."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from tests.support import databases
from watchroster import migrate
from watchroster.db import Database

_MEMBER = (
    "INSERT INTO users (phone, name, role, active, channel, reminders, created_at) VALUES"
    " ('+27820000009', 'Sipho', 'volunteer', :yes, 'sms', :yes, '2025-05-01 08:00:00+00:00')"
)
_TABLES = {"volunteer_calls", "volunteer_call_counts"}


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
    name = f"watchroster_calls_{uuid.uuid4().hex[:10]}"
    admin = create_engine(databases.POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(
        make_url(databases.POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)
    )
    try:
        yield database
    finally:
        database.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _state(engine: Engine) -> tuple[bool, set[str], list[tuple[str, object]]]:
    """(users has the column, which call tables exist, the users' rows)."""
    inspector = inspect(engine)
    has_column = "volunteer_calls" in {c["name"] for c in inspector.get_columns("users")}
    tables = _TABLES & set(inspector.get_table_names())
    column = "volunteer_calls" if has_column else "NULL"
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT name, {column} FROM users")).all()
    return has_column, tables, [(name, value) for name, value in rows]


def test_upgrade_with_rows_downgrade_and_upgrade_again(empty: Database) -> None:
    engine = empty.engine
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
