"""`watchroster restore` checks what it restores (issue #21 §7): only a sound SQLite file that is
a watchroster database at a revision of this version's migrations replaces the live one, and
the command says which revision it is at before replacing. Every refusal exits 1 and leaves the
live database exactly as it was.

SQLite only by nature; the command is run in this process, as `test_backup` does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.integration.ops.test_backup import booking_ids, cli
from tests.support.factories import add_booking, add_schedule, add_user
from watchroster.db.backup import backup_sqlite
from watchroster.db.engine import Database
from watchroster.db.migrate import head_revision, upgrade

OLDER = "0007"  # a revision of the chain before the head


def live_database(directory: Path) -> tuple[Path, str]:
    """A migrated database with one booking: the one a bad restore would destroy."""
    database = directory / "roster.db"
    db = Database(f"sqlite:///{database}")
    upgrade(db.engine)
    user = add_user(db, "+27821230001", "Thandi")
    add_booking(db, add_schedule(db), user, datetime(2026, 12, 4, 16, tzinfo=UTC))
    db.dispose()
    return database, f"sqlite:///{database}"


def sqlite_file(path: Path, *statements: str) -> Path:
    with sqlite3.connect(path) as connection:
        for statement in statements:
            connection.execute(statement)
    return path


def watchroster_backup(path: Path, revision: str = "head") -> Path:
    """A backup of a database at `revision`, as `watchroster backup` writes it."""
    source = path.with_name(f"source-{path.name}")
    db = Database(f"sqlite:///{source}")
    upgrade(db.engine, revision)
    db.dispose()
    backup_sqlite(source, path)
    return path


def unrelated(path: Path) -> Path:
    return sqlite_file(path, "CREATE TABLE notes (body TEXT)", "INSERT INTO notes VALUES ('hi')")


def unknown_revision(path: Path) -> Path:
    return sqlite_file(
        path,
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
        "INSERT INTO alembic_version VALUES ('9f3ab2c1d0e4')",
        "CREATE TABLE users (user_id INTEGER PRIMARY KEY)",
    )


def foreign_project(path: Path) -> Path:
    """Another Alembic project whose first revision happens to be called 0001 too."""
    return sqlite_file(
        path,
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
        "INSERT INTO alembic_version VALUES ('0001')",
        "CREATE TABLE invoices (invoice_id INTEGER PRIMARY KEY)",
    )


def never_migrated(path: Path) -> Path:
    return sqlite_file(
        path, "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"
    )


def not_sqlite(path: Path) -> Path:
    path.write_text("user_id,phone\n1,+27821230001\n")
    return path


def empty(path: Path) -> Path:
    path.write_bytes(b"")  # SQLite takes it for an empty database
    return path


def truncated(path: Path) -> Path:
    watchroster_backup(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a copy cut short
    return path


BAD_FILES: dict[str, tuple[Callable[[Path], Path], list[str]]] = {
    "unrelated SQLite file": (unrelated, ["not a watchroster database", "no migration revision"]),
    "unknown revision": (unknown_revision, ["revision 9f3ab2c1d0e4", "not one of this version"]),
    "another project": (foreign_project, ["not a watchroster database", "no table bookings"]),
    "never migrated": (never_migrated, ["not a watchroster database", "no migration revision"]),
    "not SQLite": (not_sqlite, ["not a SQLite database"]),
    "empty file": (empty, ["not a watchroster database", "no migration revision"]),
    "truncated": (truncated, ["damaged"]),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_a_file_that_is_not_a_sound_watchroster_database_is_refused(
    kind: str, tmp_path: Path
) -> None:
    database, url = live_database(tmp_path)
    before = database.read_bytes()
    make, words = BAD_FILES[kind]
    bad = make(tmp_path / "bad.db")
    result = cli(["restore", str(bad)], url, tmp_path)
    assert result.exit_code == 1, result.output
    assert "restore refused" in result.output
    for word in words:
        assert word in result.output
    assert str(bad) in result.output
    assert "Traceback" not in result.output
    assert database.read_bytes() == before
    assert list(tmp_path.glob("roster.db.before-restore-*")) == []
    assert list(tmp_path.glob(".roster.db.*")) == []  # no half-copied file left behind
    assert len(booking_ids(database)) == 1


def test_a_good_backup_names_its_revision_before_it_is_restored(tmp_path: Path) -> None:
    database, url = live_database(tmp_path)
    backup = watchroster_backup(tmp_path / "nightly.db")
    result = cli(["restore", str(backup)], url, tmp_path)
    assert result.exit_code == 0, result.output
    head = head_revision()
    said, restored = result.output.index(f"at revision {head}"), result.output.index("restored")
    assert said < restored  # told before the file is replaced
    assert "latest" in result.output
    assert "watchroster migrate" not in result.output
    assert booking_ids(database) == set()  # the backup's (empty) bookings


def test_an_older_backup_is_restored_and_migrate_brings_it_up(tmp_path: Path) -> None:
    database, url = live_database(tmp_path)
    backup = watchroster_backup(tmp_path / "old.db", OLDER)
    result = cli(["restore", str(backup)], url, tmp_path)
    assert result.exit_code == 0, result.output
    assert f"at revision {OLDER}" in result.output
    assert f"run `watchroster migrate` to bring it from {OLDER} to {head_revision()}" in (
        result.output
    )
    migrated = cli(["migrate"], url, tmp_path)
    assert migrated.exit_code == 0, migrated.output
    assert f"database at revision {head_revision()}" in migrated.output
    assert booking_ids(database) == set()  # the backup's, brought up to date
