"""Test databases: migrated once per test session with Alembic, emptied before each test.

SQLite: a migrated template file copied per test. PostgreSQL: a throwaway database created for the
session, truncated per test. Tests talk to them through real commits, so servers and worker
processes started by a test see the same data.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from watchroster.db import migrate
from watchroster.db.engine import Database
from watchroster.models import Base

POSTGRES_ADMIN_URL = os.environ.get(
    "WATCHROSTER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# CI sets this so a PostgreSQL that is down fails the run instead of skipping half the suite.
REQUIRE_POSTGRES = os.environ.get("WATCHROSTER_REQUIRE_POSTGRES") == "1"
START_HINT = (
    "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
)


def sqlite_template(directory: Path) -> Path:
    template = directory / "template.db"
    db = Database(f"sqlite:///{template}")
    migrate.upgrade(db.engine)
    db.dispose()
    return template


def fresh_sqlite(template: Path, directory: Path) -> str:
    target = directory / f"test-{uuid.uuid4().hex[:8]}.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


# The server is up but the database is missing. psycopg gives connection failures no SQLSTATE
# (it would be 3D000), so the server's message is what tells the cases apart.
MISSING_DATABASE = re.compile(r'database "[^"]*" does not exist')


def postgres_unavailable_reason(url: str = POSTGRES_ADMIN_URL) -> str | None:
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        if MISSING_DATABASE.search(str(exc.orig)):
            name = make_url(url).database
            return (
                f"PostgreSQL is running but database {name!r} does not exist; create it with: "
                f"createdb -h 127.0.0.1 -U postgres {name}"
            )
        return f"PostgreSQL not reachable at {url} ({type(exc).__name__}); {START_HINT}"
    finally:
        engine.dispose()
    return None


def _require_postgres() -> None:
    """Fail (CI) or skip when PostgreSQL cannot be reached."""
    reason = postgres_unavailable_reason()
    if reason:
        if REQUIRE_POSTGRES:
            pytest.fail(reason)
        pytest.skip(reason)


@contextmanager
def throwaway_postgres(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database named `prefix_<random>`: its URL; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_session_database() -> Iterator[str]:
    """Create a throwaway, migrated database for this test session; drop it afterwards."""
    _require_postgres()
    with throwaway_postgres("watchroster_test") as url:
        db = Database(url)
        migrate.upgrade(db.engine)
        db.dispose()
        yield url


def empty_database(kind: str, directory: Path) -> Iterator[Database]:
    """A database ("sqlite" or "postgresql") with no tables yet, for the migration tests: each
    starts it at the revision before its own, so later revisions play no part."""
    if kind == "sqlite":
        database = Database(f"sqlite:///{directory / 'migration.db'}")
        yield database
        database.dispose()
        return
    _require_postgres()
    with throwaway_postgres("watchroster_migration") as url:
        database = Database(url)
        try:
            yield database
        finally:
            database.dispose()


def columns(engine: Engine, table: str) -> set[str]:
    """The names of a table's columns, as the database has them now."""
    return {column["name"] for column in inspect(engine).get_columns(table)}


def truncate_all(db: Database) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
