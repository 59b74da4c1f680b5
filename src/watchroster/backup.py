"""`watchroster backup FILE` and `watchroster restore FILE` for the SQLite database.

Backup uses SQLite's online backup API, so it is safe while `serve` runs: it copies a consistent
snapshot (WAL readers never block writers), checks the copy with `PRAGMA integrity_check`, and only
then moves it into place. Restore refuses while any `serve` or `worker` has the database open: each
holds a shared `flock` on `<database>.lock` for its lifetime (`hold_in_use_lock`), which restore
must take exclusively. The replaced database is kept beside it, never deleted.

On PostgreSQL both commands refuse and name `pg_dump` / `pg_restore`, which do it properly there.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import typer

# SQLite files that belong to one database: the main file, its WAL and its shared-memory index.
_COMPANIONS = ("", "-wal", "-shm")
# The in-use locks of this process, kept open (and so held) until it exits.
_HELD: list[IO[bytes]] = []


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


def restore_sqlite(database: Path, source: Path, now: datetime) -> Path | None:
    """Put `source` in place of `database`; returns where the replaced database was kept
    (None when there was none)."""
    if not source.exists():
        raise BackupError(f"no backup at {source}")
    checked = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        _check_integrity(checked, source)
    finally:
        checked.close()
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


def _check_integrity(connection: sqlite3.Connection, path: Path) -> None:
    result = connection.execute("PRAGMA integrity_check").fetchall()
    if result != [("ok",)]:
        problems = "; ".join(str(row[0]) for row in result[:5])
        raise BackupError(f"{path} failed the integrity check: {problems}")


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _sqlite_or_exit(tool: str) -> Path:
    from watchroster.config import get_settings

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
    database = _sqlite_or_exit("pg_restore (e.g. pg_restore --clean -d DATABASE FILE)")
    try:
        kept = restore_sqlite(database, file, datetime.now(UTC))
    except (BackupError, sqlite3.Error) as exc:
        typer.echo(f"restore refused: {exc}", err=True)
        raise typer.Exit(1) from None
    previous = f"; the previous database is kept as {kept}" if kept else ""
    typer.echo(f"restored {database} from {file}{previous}")
    typer.echo("run `watchroster migrate` if the backup is from an older version")
