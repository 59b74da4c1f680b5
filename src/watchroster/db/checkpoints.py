"""WAL checkpoints for SQLite in a background thread, instead of inside some unlucky request.

By default SQLite checkpoints from whichever commit pushes the WAL past 1,000 pages: measured on
the booking path, every ~165th commit took 5-8 ms instead of 0.15 ms, and the work was spread
over all of them as ~40 µs each. The server runs them here instead, in PASSIVE mode (never
waits for, nor blocks, readers or writers); SQLite releases the GIL while it copies and syncs.
Connections keep a larger automatic checkpoint as a safety net for processes without this
thread (the CLI, a separate worker) - see `db.SQLITE_AUTOCHECKPOINT_PAGES`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from watchroster.core.background import start_thread
from watchroster.db.engine import Database

log = logging.getLogger("watchroster.db.checkpoints")

CHECKPOINT_INTERVAL_SECONDS = 1.0


def checkpoint_once(db: Database) -> tuple[int, int] | None:
    """One PASSIVE checkpoint: (WAL frames, frames copied), or None if it could not run."""
    with db.engine.connect() as connection:
        row = connection.execute(text("PRAGMA wal_checkpoint(PASSIVE)")).first()
    if row is None or row[0] != 0:  # 1 = busy: another checkpoint is running
        return None
    return int(row[1]), int(row[2])


def start_checkpoints(
    db: Database, interval_seconds: float = CHECKPOINT_INTERVAL_SECONDS
) -> Callable[[], None]:
    """Checkpoint every `interval_seconds` until the returned function is called.

    Does nothing (and returns a no-op) for PostgreSQL and in-memory SQLite.
    """
    if not db.is_sqlite or db.is_memory:
        return lambda: None

    def run(stopping: threading.Event) -> None:
        while not stopping.wait(interval_seconds):
            try:
                checkpoint_once(db)
            except SQLAlchemyError:
                log.exception("WAL checkpoint failed; SQLite's own will take over")

    return start_thread(run, name="wal-checkpoints", join_seconds=10)
