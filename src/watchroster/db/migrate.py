"""Running and checking Alembic migrations from code (CLI, app start-up, tests).

Alembic itself (~0.3 s of imports, most of `serve`'s old start-up) is imported only to migrate.
Checking that a database is up to date, which `serve`, `worker` and `/readyz` do, needs neither
Alembic nor its script loader: the head is read from the revision files' own `revision` and
`down_revision` lines, and the database's revision from `alembic_version` with one query.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent.parent / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"

# The two header lines every revision file has (Alembic's template, kept by this project).
_REVISION = re.compile(r'^revision: str = "([^"]+)"$', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision: str \| None = (?:"([^"]+)"|None)$', re.MULTILINE)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    run(engine, "upgrade", revision)


def run(engine: Engine, step: str, revision: str) -> None:
    """`alembic upgrade|downgrade revision` on `engine`'s database.

    On SQLite, foreign keys are switched off for the migration and checked afterwards: a batch
    migration rebuilds a table (copy, drop, rename), and dropping a table that other rows point
    at fails with foreign keys on (SQLite's documented procedure for altering tables). The
    PRAGMA only works outside a transaction, so it is set on the driver connection first.
    """
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    # Migrations take their own connection on SQLite: DDL must not run inside BEGIN IMMEDIATE
    # bookkeeping of our sessions, and a plain connection keeps Alembic's transaction handling.
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _driver(connection).execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                getattr(command, step)(config, revision)
                if sqlite:
                    _check_foreign_keys(connection)
        finally:
            if sqlite:
                _driver(connection).execute("PRAGMA foreign_keys=ON")


def _driver(connection: Connection) -> Any:
    return connection.connection.driver_connection


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:  # rolls the whole migration back
        raise RuntimeError(f"migration left rows pointing at nothing: {broken[:5]}")


def _revisions(directory: Path) -> dict[str, str | None]:
    """revision → down_revision of every revision file in `directory`."""
    chain: dict[str, str | None] = {}
    for path in directory.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            raise RuntimeError(f"{path.name}: no `revision`/`down_revision` line")
        chain[revision.group(1)] = down.group(1)
    return chain


@lru_cache(maxsize=1)
def head_revision(directory: Path = VERSIONS_DIR) -> str | None:
    """The one revision no other revision builds on (what `alembic heads` shows)."""
    chain = _revisions(directory)
    heads = set(chain) - set(chain.values())
    if len(heads) > 1:
        raise RuntimeError(f"several migration heads: {sorted(heads)}")
    return heads.pop() if heads else None


def revision_chain(directory: Path = VERSIONS_DIR) -> list[str]:
    """Every revision from the first to the head, in the order they are applied."""
    chain = _revisions(directory)
    order: list[str] = []
    revision = head_revision(directory)
    while revision is not None:
        order.append(revision)
        revision = chain[revision]
    return order[::-1]


def current_revision(engine: Engine) -> str | None:
    """The database's revision; None when it was never migrated (no `alembic_version`)."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except (OperationalError, ProgrammingError) as exc:
        if _no_such_table(exc):
            return None
        raise  # unreachable, locked...: not the same as "not migrated"
    if len(rows) > 1:
        raise RuntimeError("the database is on several migration heads")
    return str(rows[0][0]) if rows else None


def _no_such_table(exc: DBAPIError) -> bool:
    if getattr(exc.orig, "sqlstate", None) == "42P01":  # PostgreSQL: undefined_table
        return True
    return "no such table" in str(exc.orig)  # SQLite


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
