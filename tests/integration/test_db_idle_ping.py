"""PostgreSQL connections are pinged only after sitting idle in the pool (`db.IDLE_PING_SECONDS`):
one that the server closed meanwhile is replaced without the caller noticing, and one used
moments ago costs no extra round trip."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from watchroster.db import engine as db_module
from watchroster.db.engine import Database


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:
    database = Database(postgres_url)
    yield database
    database.dispose()


def _backend_pid(database: Database) -> int:
    with database.read() as session:
        pid = session.scalar(text("SELECT pg_backend_pid()"))
    assert isinstance(pid, int)
    return pid


def _terminate(postgres_url: str, pid: int) -> None:
    dsn = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


class _PingCounter:
    def __init__(self, database: Database) -> None:
        self.calls = 0
        self._ping = database.engine.dialect.do_ping

    def __call__(self, dbapi_connection: Any) -> bool:
        self.calls += 1
        return self._ping(dbapi_connection)


def test_a_connection_closed_while_idle_is_replaced(
    pg: Database, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 0.0)  # every checkout counts as idle
    pings = _PingCounter(pg)
    monkeypatch.setattr(pg.engine.dialect, "do_ping", pings)
    first = _backend_pid(pg)
    _terminate(postgres_url, first)  # e.g. the server restarted while the pool sat idle

    second = _backend_pid(pg)  # no error reaches the caller

    assert second != first
    assert pings.calls >= 1
    with pg.raw_read() as transaction:  # the driver-cursor scopes check out the same way
        assert transaction.is_sqlite is False


def test_a_connection_used_moments_ago_is_not_pinged(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 3600.0)
    pings = _PingCounter(pg)
    monkeypatch.setattr(pg.engine.dialect, "do_ping", pings)

    pids = {_backend_pid(pg) for _ in range(5)}

    assert pings.calls == 0
    assert len(pids) == 1  # the same pooled connection each time, used as it was
