"""A restart under load loses no request (issue #21 §9): `serve --workers 2` gets SIGTERM while
clients keep sending, on keep-alive connections and on a new connection each time, and every
request that reached the server (its connection was accepted, by the kernel or by us) is
answered. Connections tried after the listeners closed are refused: that is allowed, and counted
apart, since no server can answer on a port nobody listens on.

`test_serve_workers_signals` covers requests already read by an HTTP process when SIGTERM comes;
this covers the rest: connections the kernel has accepted that no process has taken yet (its
accept queue), requests sent on keep-alive connections while the server shuts down, and requests
waiting in a receive buffer that the busy event loop has not read yet.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from tests.integration.ops.processes import ServeProcess
from tests.integration.ops.test_serve_workers import Deployment, serve_env
from tests.integration.outbox.processes import wait_for
from tests.support import databases
from tests.support.factories import add_schedule
from watchroster.db.engine import Database

pytestmark = pytest.mark.slow

DEADLINE_SECONDS = 60.0
# Five schedules with a shift every five minutes: 1,000 slots take a server ~25 ms to render, so
# a few dozen clients keep both event loops busy: new connections wait in the kernel's accept
# queue, and the next request of a keep-alive connection waits unread in its receive buffer.
SLOTS = 1000


@dataclass(frozen=True)
class Load:
    """Clients sending one request after the other, bounded in number and in time."""

    keep_alive_clients: int
    fresh_clients: int  # a new connection for each request
    requests_per_client: int
    answered_before_sigterm: int

    def path(self, client: int, request: int) -> str:
        day = date.today() + timedelta(days=1 + (client * self.requests_per_client + request) % 300)
        return f"/shifts/available?limit={SLOTS}&from={day.isoformat()}"


@dataclass
class Tally:
    """What became of every request the clients sent."""

    answered: list[float] = field(default_factory=list)  # when each full answer arrived
    refused: list[float] = field(default_factory=list)  # no connection: when it was refused
    lost: list[str] = field(default_factory=list)  # connected, but no (full) answer
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> None:
        with self.lock:
            self.answered.append(time.monotonic())

    def refuse(self) -> None:
        with self.lock:
            self.refused.append(time.monotonic())

    def lose(self, why: str) -> None:
        with self.lock:
            self.lost.append(why)


class Client(threading.Thread):
    """Sends up to REQUESTS_PER_CLIENT requests one after the other; stops at its first refused
    connection (the port is closed: more tries would only be refused too)."""

    def __init__(self, base_url: str, load: Load, number: int, tally: Tally) -> None:
        super().__init__(daemon=True)
        self.base_url, self.load, self.number, self.tally = base_url, load, number, tally
        self.keep_alive = number < load.keep_alive_clients
        self.kind = "keep-alive" if self.keep_alive else "new connection each time"
        self.deadline = time.monotonic() + DEADLINE_SECONDS

    def run(self) -> None:
        limits = httpx.Limits(max_keepalive_connections=1 if self.keep_alive else 0)
        timeout = httpx.Timeout(30, connect=10)
        with httpx.Client(base_url=self.base_url, limits=limits, timeout=timeout) as http:
            for request in range(self.load.requests_per_client):
                if time.monotonic() > self.deadline or not self._one(http, request):
                    return

    def _one(self, http: httpx.Client, request: int) -> bool:
        """One request; False once a connection was refused."""
        try:
            response = http.get(self.load.path(self.number, request))
            slots = len(response.json())
        except (httpx.ConnectError, httpx.ConnectTimeout):
            self.tally.refuse()
            return False
        except Exception as exc:  # a reset, a connection closed before the answer...
            self.tally.lose(f"{self.kind}: {exc!r}")
            return True
        if (response.status_code, slots) == (200, SLOTS):
            self.tally.answer()
        else:
            self.tally.lose(f"{self.kind}: {response.status_code} {response.text[:200]}")
        return True


@pytest.fixture
def db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """SQLite only: its reads run on the event loop (`Database.offload_read`), so a busy loop leaves
    new connections in the kernel's accept queue and requests unread in receive buffers, which
    is what a shutdown must not drop. On PostgreSQL reads go to the thread pool, the loop takes
    every connection at once and this load finds nothing waiting."""
    database = Database(databases.fresh_sqlite(sqlite_template, tmp_path))
    yield database
    database.dispose()


# At most 64 x 8 = 512 requests; mostly new connections, which a closing socket would reset
# while they wait in its accept queue.
MIXED = Load(
    keep_alive_clients=8, fresh_clients=56, requests_per_client=8, answered_before_sigterm=60
)
# At most 64 x 6 = 384 requests, all on keep-alive connections, which a shutdown would close
# with the next request unread in the buffer, or on its way.
KEEP_ALIVE = Load(
    keep_alive_clients=64, fresh_clients=0, requests_per_client=6, answered_before_sigterm=80
)


@pytest.mark.parametrize("load", [MIXED, KEEP_ALIVE], ids=["mixed", "keep-alive"])
def test_a_restart_under_load_loses_no_request(load: Load, db: Database, tmp_path: Path) -> None:
    for number in range(5):
        add_schedule(db, name=f"Patrol {number}", cron_expr="*/5 * * * *", duration_minutes=5)
    tally = Tally()
    with ServeProcess(db.url, tmp_path, "--workers", "2", env=serve_env(tmp_path)) as server:
        Deployment(server)  # both HTTP processes listen
        count = load.keep_alive_clients + load.fresh_clients
        clients = [Client(server.url, load, number, tally) for number in range(count)]
        for client in clients:
            client.start()
        wait_for(lambda: len(tally.answered) >= load.answered_before_sigterm, 60, "the load")
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        status = server.process.wait(timeout=40)
        for client in clients:
            client.join(timeout=DEADLINE_SECONDS)
    assert status == 0, server.log()
    assert tally.lost == [], f"{len(tally.lost)} request(s) lost:\n" + "\n".join(tally.lost[:10])
    assert [at for at in tally.refused if at < signalled] == []
    assert sum(at > signalled for at in tally.answered) > 0, "nothing was in flight at SIGTERM"
    assert not any(client.is_alive() for client in clients)
