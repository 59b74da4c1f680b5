"""WAL checkpoints in the server's own thread (SQLite), and nothing at all on PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest

from tests.support.factories import add_user
from watchroster.db import checkpoints
from watchroster.db.checkpoints import checkpoint_once, start_checkpoints
from watchroster.db.engine import SQLITE_AUTOCHECKPOINT_PAGES, Database


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_checkpoint_copies_the_wal_back(db: Database) -> None:
    add_user(db, "+27820000001")
    result = checkpoint_once(db)
    assert result is not None
    frames, copied = result
    assert frames > 0 and copied == frames
    with db.engine.connect() as connection:
        setting = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert setting == SQLITE_AUTOCHECKPOINT_PAGES


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_the_thread_checkpoints_until_stopped(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    results: list[tuple[int, int] | None] = []

    def recorded(database: Database) -> tuple[int, int] | None:
        results.append(checkpoint_once(database))
        return results[-1]

    monkeypatch.setattr(checkpoints, "checkpoint_once", recorded)
    add_user(db, "+27820000001")
    stop = checkpoints.start_checkpoints(db, interval_seconds=0.01)
    deadline = time.monotonic() + 5
    while not any(r is not None and r[1] > 0 for r in results) and time.monotonic() < deadline:
        time.sleep(0.01)
    stop()
    assert any(r is not None and r[1] > 0 for r in results)  # it copied the user's pages
    runs = len(results)
    time.sleep(0.05)
    assert len(results) == runs  # stopped means stopped
    assert not any(t.name == "wal-checkpoints" for t in threading.enumerate())


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_postgresql_needs_no_checkpoint_thread(db: Database) -> None:
    stop = start_checkpoints(db, interval_seconds=0.01)
    assert not any(t.name == "wal-checkpoints" for t in threading.enumerate())
    stop()
