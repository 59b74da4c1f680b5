"""`watchroster backup FILE` and `watchroster restore FILE` for the SQLite database.

Backup uses SQLite's online backup API, so it is safe while `serve` runs: it copies a consistent
snapshot (WAL readers never block writers), checks the copy with `PRAGMA integrity_check`, and only
then moves it into place. Restore refuses while any `serve` or `worker` has the database open: each
holds a shared `flock` on `<database>.lock` for its lifetime (`hold_in_use_lock`), which restore
must take exclusively. The replaced database is kept beside it, never deleted.

Restore also refuses a file that is not what it claims (issue #21 §7: an unrelated SQLite file
replaced the live database with exit status 0): it must be SQLite, pass the integrity check, and
be a watchroster database at a revision of this version's migration chain. An older revision is
restored (serve and worker refuse to start until `watchroster migrate` brings it up, so nothing
runs on it meanwhile), since a backup from before an upgrade is exactly what one may need back;
a revision this version does not know (a newer version's, or another project's) is refused.

On PostgreSQL both commands refuse and name `pg_dump` / `pg_restore`, which do it properly there.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import typer

# SQLite files that belong to one database: the main file, its WAL and its shared-memory index.
_COMPANIONS = ("", "-wal", "-shm")
# The in-use locks of this process, kept open (and so held) until it exits.
_HELD: list[IO[bytes]] = []
# Tables every revision of the schema has: a file at a known revision without them belongs to
# another project that happens to name its revisions the same way (0001, 0002...).
_CORE_TABLES = ("bookings", "schedules", "users")


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why."""


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    # Imported on use: `watchroster --help` loads this module (start-up, issue #14 §3).
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def hold_in_use_lock(database_url: str) -> None:
    """Mark the SQLite database as in use by this process until it exits (for `restore`)."""
    database = sqlite_path(database_url)
    if database is None:
        return
    handle = _lock_path(database).open("ab")
    fcntl.flock(handle, fcntl.LOCK_SH)
    _HELD.append(handle)


def backup_sqlite(database: Path, target: Path) -> int:
    """Copy `database` to `target` while it may be in use; returns the pages copied."""
    if not database.exists():
        raise BackupError(f"no database at {database}")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(database)
    copy = sqlite3.connect(partial)
    try:
        # All pages in one step, i.e. one read transaction: a consistent snapshot that WAL lets
        # writers carry on beside. (Copying in steps restarts whenever another process writes,
        # so under steady booking load it might never finish.)
        source.backup(copy)
        # One self-contained file: a copy in WAL mode would need its -wal beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
        _check_integrity(copy, partial)
        pages = int(copy.execute("PRAGMA page_count").fetchone()[0])
    finally:
        copy.close()
        source.close()
    _fsync(partial)
    partial.replace(target)
    return pages


def restore_sqlite(
    database: Path,
    source: Path,
    now: datetime,
    checked: Callable[[str], None] = lambda _revision: None,
) -> Path | None:
    """Put `source` in place of `database`; returns where the replaced database was kept
    (None when there was none). `checked` gets the backup's revision once it passed every
    check, before anything is replaced."""
    if not source.exists():
        raise BackupError(f"no backup at {source}")
    checked(backup_revision(source))
    with _lock_path(database).open("ab") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                f"a watchroster process (serve or worker) is using {database}: stop it first"
            ) from None
        kept = database.with_name(f"{database.name}.before-restore-{now:%Y%m%dT%H%M%SZ}")
        incoming = database.with_name(f".{database.name}.restoring")
        incoming.write_bytes(source.read_bytes())
        _fsync(incoming)
        if not database.exists():
            incoming.replace(database)
            return None
        for suffix in _COMPANIONS:
            current = Path(f"{database}{suffix}")
            if current.exists():
                current.replace(Path(f"{kept}{suffix}"))
        incoming.replace(database)
    return kept


def backup_revision(path: Path) -> str:
    """The migration revision of the watchroster database in `path`; BackupError when it is
    not a sound SQLite file, or not a watchroster database at a revision this version knows."""
    # Read-only, through a URI built from the path (a name with "?" or "#" stays a name).
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        _check_integrity(connection, path)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        revisions: list[str] = []
        if "alembic_version" in tables:
            found = connection.execute("SELECT version_num FROM alembic_version").fetchall()
            revisions = [str(row[0]) for row in found]
    except sqlite3.DatabaseError as exc:
        raise BackupError(_unreadable(path, exc)) from None
    finally:
        connection.close()
    return _known_revision(path, revisions, tables)


def _unreadable(path: Path, error: sqlite3.DatabaseError) -> str:
    name = getattr(error, "sqlite_errorname", "")
    if name == "SQLITE_NOTADB":
        return f"{path} is not a SQLite database ({error})"
    if name == "SQLITE_CORRUPT":
        return f"{path} is damaged ({error})"
    return f"cannot read {path} ({error})"


def _known_revision(path: Path, revisions: list[str], tables: set[str]) -> str:
    from watchroster.db.migrate import revision_chain

    if not revisions:
        raise BackupError(f"{path} is not a watchroster database: it has no migration revision")
    if len(revisions) > 1:
        raise BackupError(f"{path} is on several migration revisions: {', '.join(revisions)}")
    [revision] = revisions
    chain = revision_chain()
    if revision not in chain:
        raise BackupError(
            f"{path} is at revision {revision}, which is not one of this version's migrations "
            f"({chain[0]} to {chain[-1]}): not a watchroster database, or one made by a newer "
            "version of watchroster"
        )
    missing = [table for table in _CORE_TABLES if table not in tables]
    if missing:
        raise BackupError(f"{path} is not a watchroster database: no table {', '.join(missing)}")
    return revision


def _check_integrity(connection: sqlite3.Connection, path: Path) -> None:
    result = connection.execute("PRAGMA integrity_check").fetchall()
    if result != [("ok",)]:
        problems = "; ".join(str(row[0]) for row in result[:5])
        raise BackupError(f"{path} is damaged: it failed the integrity check: {problems}")


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _sqlite_or_exit(tool: str) -> Path:
    from watchroster.core.config import get_settings

    database = sqlite_path(get_settings().database_url)
    if database is None:
        typer.echo(
            f"the database is not a SQLite file: on PostgreSQL use {tool} "
            "(see the README's deploy section)",
            err=True,
        )
        raise typer.Exit(2)
    return database


def backup_command(
    file: Path = typer.Argument(..., help="Where to write the copy (replaced if it exists)."),
) -> None:
    """Copy the SQLite database to FILE, safely while the server runs; integrity-checked."""
    database = _sqlite_or_exit("pg_dump (e.g. pg_dump -Fc -f FILE DATABASE)")
    try:
        pages = backup_sqlite(database, file)
    except (BackupError, sqlite3.Error) as exc:
        typer.echo(f"backup failed: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"backed up {database} to {file} ({pages} pages, integrity ok)")


def restore_command(
    file: Path = typer.Argument(..., help="A file written by `watchroster backup`."),
) -> None:
    """Replace the SQLite database by FILE; refuses while serve or worker runs; keeps the old."""
    from watchroster.db.migrate import head_revision

    database = _sqlite_or_exit("pg_restore (e.g. pg_restore --clean -d DATABASE FILE)")
    head = head_revision()
    found: list[str] = []

    def say_revision(revision: str) -> None:
        found.append(revision)
        age = "the latest" if revision == head else f"older than this version's {head}"
        typer.echo(f"{file} is a watchroster database at revision {revision} ({age})")

    try:
        kept = restore_sqlite(database, file, datetime.now(UTC), say_revision)
    except (BackupError, sqlite3.Error) as exc:
        typer.echo(f"restore refused: {exc}", err=True)
        raise typer.Exit(1) from None
    previous = f"; the previous database is kept as {kept}" if kept else ""
    typer.echo(f"restored {database} from {file}{previous}")
    if found != [head]:
        typer.echo(
            f"run `watchroster migrate` to bring it from {found[0]} to {head} "
            "(serve and worker refuse to start until then)"
        )
