"""Issue #9, section 1: after an error, the keep-alive connection stays usable.

Starlette sends the 500 and then re-raises, and uvicorn closed any connection whose application
raised, so the client's next request on it failed. A real `watchroster serve` process, one HTTP
connection, and a genuine crash: the table the endpoint reads is renamed away underneath it.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.integration.outbox.processes import wait_for
from tests.support.server import free_port
from watchroster.db.engine import Database

pytestmark = pytest.mark.slow


@contextmanager
def serve(database_url: str, directory: Path) -> Iterator[tuple[int, Path]]:
    """`watchroster serve --no-worker` on a free port; yields the port and its log file."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("WATCHROSTER_")}
    env |= {"WATCHROSTER_DATABASE_URL": database_url, "WATCHROSTER_MESSAGE_BACKEND": "file"}
    log_path = directory / "serve.log"
    command = [sys.executable, "-m", "watchroster", "serve", "--no-worker", "--port", str(port)]
    with log_path.open("wb") as log:
        # cwd: a directory without a .env file, so only the environment configures it.
        process = subprocess.Popen(
            command, env=env, cwd=directory, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_for(lambda: _answers(port) or process.poll() is not None, 30, "the server")
        assert process.poll() is None, log_path.read_text()
        yield port, log_path
    finally:
        process.terminate()
        process.wait(timeout=30)


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@contextmanager
def table_renamed_away(db: Database, table: str) -> Iterator[None]:
    """Through a connection of our own, so the server's next read of `table` fails."""
    with db.engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
    try:
        yield
    finally:
        with db.engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))


def exchange(connection: http.client.HTTPConnection, path: str) -> http.client.HTTPResponse:
    connection.request("GET", path, headers={"X-Request-ID": path.strip("/").replace("/", "-")})
    response = connection.getresponse()
    response.read()  # the whole body, so the connection is ready for the next request
    return response


def test_a_500_leaves_the_connection_usable(db: Database, tmp_path: Path) -> None:
    with serve(db.url, tmp_path) as (port, log_path):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        assert exchange(connection, "/schedules").status == 200
        socket_before = connection.sock
        with table_renamed_away(db, "schedules"):
            connection.request("GET", "/schedules", headers={"X-Request-ID": "crash-1"})
            crashed = connection.getresponse()
            body = json.loads(crashed.read())
        assert crashed.status == 500
        assert (body["code"], body["request_id"]) == ("internal_error", "crash-1")
        assert crashed.getheader("x-request-id") == "crash-1"
        assert crashed.getheader("connection") is None  # not "close"
        # The same socket answers the next requests.
        assert exchange(connection, "/schedules").status == 200
        assert exchange(connection, "/nope").status == 404
        assert exchange(connection, "/healthz").status == 200
        assert connection.sock is socket_before
        connection.close()
        log = log_path.read_text()
    assert "unhandled error (request crash-1)" in log
    assert "Exception in ASGI application" not in log  # handled by us, not by uvicorn
