"""`watchroster serve --workers 2` under signals: SIGTERM drains, a killed HTTP process is
replaced, and the children do not outlive a killed supervisor. Real processes, observed through
Linux's /proc (see `processes`)."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.integration.ops.processes import (
    TCP_LISTEN,
    ServeProcess,
    child_pids,
    is_gone,
    tcp_sockets,
)
from tests.integration.ops.test_serve_workers import Deployment, serve_env
from tests.integration.outbox.processes import wait_for
from tests.support.factories import add_schedule
from watchroster.db.engine import Database

pytestmark = pytest.mark.slow

CLIENTS = 100
# Five schedules with a shift every five minutes: 1,000 slots (17 hours) take a server ~25 ms
# to render, so 100 requests for as many different days keep two processes busy for about a
# second. The same day asked again would come from the process's slot cache in ~1 ms.
SLOTS = 1000


def slow_path(days_ahead: int) -> str:
    day = date.today() + timedelta(days=days_ahead)
    return f"/shifts/available?limit={SLOTS}&from={day.isoformat()}"


class Client(threading.Thread):
    """One request on a connection of its own; records the answer, or the error instead."""

    def __init__(self, port: int, path: str, go: threading.Event) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        # Every client connects first and sends on `go`, so the requests arrive together: sent
        # one by one as threads got going, the first ones could all be answered before the
        # last was sent (a loaded machine), leaving nothing in flight to drain.
        self.go = go
        self.connected = threading.Event()
        self.sent = threading.Event()
        self.local_port = 0
        self.status = 0
        self.slots = -1
        self.finished: float | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.connection.connect()
            assert self.connection.sock is not None
            self.local_port = self.connection.sock.getsockname()[1]
            self.connected.set()
            self.go.wait(timeout=30)
            self.connection.request("GET", self.path)
            self.sent.set()
            response = self.connection.getresponse()
            body = response.read()  # IncompleteRead if the body is cut short
            self.status, self.slots = response.status, len(json.loads(body))
            self.finished = time.monotonic()
        except BaseException as exc:  # a reset, a refusal: the failure this test looks for
            self.error = exc
            self.connected.set()
            self.sent.set()
        finally:
            self.connection.close()


def all_read_by_the_server(port: int, clients: list[Client]) -> bool:
    """Every request has been read by an HTTP process: it is being answered (or was), and no
    longer waits in an accept queue or a receive buffer, where a closing server would drop it."""
    ends = {end.remote_port: end for end in tcp_sockets(port) if end.state != TCP_LISTEN}
    return all(
        client.finished is not None
        or (client.local_port in ends and ends[client.local_port].unread == 0)
        for client in clients
    )


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_sigterm_lets_every_request_in_flight_finish(db: Database, tmp_path: Path) -> None:
    for number in range(5):
        add_schedule(db, name=f"Patrol {number}", cron_expr="*/5 * * * *", duration_minutes=5)
    with ServeProcess(db.url, tmp_path, "--workers", "2", env=serve_env(tmp_path)) as server:
        deployment = Deployment(server)
        go = threading.Event()
        clients = [Client(server.port, slow_path(day), go) for day in range(1, CLIENTS + 1)]
        for client in clients:
            client.start()
        wait_for(lambda: all(client.connected.is_set() for client in clients), 10, "connections")
        go.set()
        wait_for(lambda: all(client.sent.is_set() for client in clients), 10, "all requests")
        wait_for(lambda: all_read_by_the_server(server.port, clients), 10, "requests read")
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        status = server.process.wait(timeout=30)
        stopped = time.monotonic() - signalled
        for client in clients:
            client.join(timeout=10)
    assert status == 0, server.log()
    assert stopped < 30
    assert [client.error for client in clients] == [None] * CLIENTS
    assert {(client.status, client.slots) for client in clients} == {(200, SLOTS)}
    in_flight = sum(
        client.finished is not None and client.finished > signalled for client in clients
    )
    assert in_flight > 0, "every request was answered before SIGTERM: nothing was drained"
    assert [pid for pid in deployment.children if not is_gone(pid)] == []
    assert refuses_connections(server.port)


def test_a_killed_http_process_is_started_again(db: Database, tmp_path: Path) -> None:
    env = serve_env(tmp_path)
    with ServeProcess(db.url, tmp_path, "--workers", "2", env=env, log_level="INFO") as server:
        deployment = Deployment(server)
        victim = min(deployment.http)
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: is_gone(victim), 5, "the killed process to go")
        # Its socket went with it: the other process takes every new connection meanwhile.
        answers = [deployment.ask("/healthz") for _ in range(20)]
        assert {(answer.status, answer.pid) for answer in answers} == {
            (200, pid) for pid in deployment.http - {victim}
        }
        wait_for(lambda: len(deployment.listeners() - deployment.http) == 1, 10, "a new one")
        [new] = deployment.listeners() - deployment.http
        assert set(child_pids(deployment.supervisor)) == deployment.children - {victim} | {new}
        deployment.http = deployment.http - {victim} | {new}
        assert new in {answer.pid for answer in deployment.ask_until_each_answers("/healthz")}
    log = server.log()
    exited = re.search(rf"(http-\d) \(pid {victim}\) exited with status -9; starting it again", log)
    assert exited is not None, log
    assert f"started {exited[1]} (pid {new})" in log


def test_the_children_stop_when_the_supervisor_is_killed(db: Database, tmp_path: Path) -> None:
    with ServeProcess(db.url, tmp_path, "--workers", "2", env=serve_env(tmp_path)) as server:
        deployment = Deployment(server)
        server.process.kill()
        server.process.wait(timeout=10)
        wait_for(lambda: all(map(is_gone, deployment.children)), 5, "the children to stop")
        assert [end for end in tcp_sockets(server.port) if end.state == TCP_LISTEN] == []
        assert refuses_connections(server.port)
