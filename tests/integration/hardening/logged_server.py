"""A real `watchroster serve` process whose log output a test reads (for the log and
client-address tests of issue #9 sections 3 and 5, and issue #13's logs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from tests.integration.outbox.processes import wait_for
from tests.support.server import free_port
from watchroster.db.engine import Database


@dataclass
class LoggedServer:
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def json_records(self) -> list[dict[str, Any]]:
        """Every line of a `WATCHROSTER_LOG_FORMAT=json` server; a line that is not one JSON
        object fails the test."""
        return [json.loads(line) for line in self.log().splitlines() if line.strip()]

    def access_records(self, path: str, count: int) -> list[dict[str, Any]]:
        """The access lines (JSON format) of requests to `path`, once there are `count` of them:
        a request is logged just after its response leaves."""

        def access() -> list[dict[str, Any]]:
            return [
                record
                for record in self.json_records()
                if record["logger"] == "watchroster.http" and record.get("path") == path
            ]

        wait_for(lambda: len(access()) >= count, 10, f"{count} {path} line(s) in {self.log_path}")
        return access()

    def wait_for_text(self, needle: str) -> None:
        wait_for(lambda: needle in self.log(), 10, f"{needle!r} in {self.log_path}")


@contextmanager
def logged_server(database_url: str, directory: Path, **settings: object) -> Iterator[LoggedServer]:
    """`watchroster serve --no-worker` on a free port with WATCHROSTER_* `settings`; its stdout
    and stderr go to a file (a pipe could fill up and block it)."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("WATCHROSTER_")}
    env |= {
        "WATCHROSTER_DATABASE_URL": database_url,
        "WATCHROSTER_MESSAGE_BACKEND": "file",
        "WATCHROSTER_MESSAGE_FILE": str(directory / "messages.jsonl"),
        "WATCHROSTER_LOG_LEVEL": "INFO",
    }
    env |= {f"WATCHROSTER_{name.upper()}": str(value) for name, value in settings.items()}
    log_path = directory / f"serve-{port}.log"
    command = [sys.executable, "-m", "watchroster", "serve", "--no-worker", "--port", str(port)]
    with log_path.open("wb") as log:
        # cwd: a directory without a .env file, so only the environment configures it.
        process = subprocess.Popen(command, env=env, cwd=directory, stdout=log, stderr=log)
    server = LoggedServer(f"http://127.0.0.1:{port}", log_path)
    try:
        wait_for(lambda: _answers(server.url) or process.poll() is not None, 30, "the server")
        assert process.poll() is None, server.log()
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def table_renamed_away(db: Database, table: str) -> Iterator[None]:
    """The server's next statement on `table` fails for real (and the name comes back after,
    since the PostgreSQL test database is shared by the whole session)."""
    with db.engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
    try:
        yield
    finally:
        with db.engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))
