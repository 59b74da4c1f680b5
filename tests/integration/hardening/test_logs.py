"""Logs of a real `watchroster serve` (issue #9 section 5, issue #13 "Logs").

- A database error quotes its statement's parameters: the phone number, and the hash of a token,
  must come out masked, in the plain and the JSON format, tracebacks included.
- A 500 is logged with status 500, and every line of the request carries its id.
- `%0A` in a path cannot write a second, forged line.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.hardening.logged_server import LoggedServer, logged_server
from tests.integration.hardening.logged_server import table_renamed_away as renamed
from watchroster.auth.service import token_hash
from watchroster.core.config import Settings
from watchroster.core.logs import mask_phone
from watchroster.db.engine import Database

pytestmark = pytest.mark.slow

PHONE = "+27821234567"
CODE = "483920"
SECRET_KEY = "log-test-secret-key-0123456789abcdef"
HEX_64 = re.compile(r"\b[0-9a-f]{64}\b")


@contextmanager
def crashing_server(db: Database, directory: Path, log_format: str) -> Iterator[LoggedServer]:
    """A server whose login tables are gone: statements that carry a phone number, or the hash of
    a bearer token, fail in the database."""
    with ExitStack() as stack:
        server = stack.enter_context(
            logged_server(db.url, directory, log_format=log_format, secret_key=SECRET_KEY)
        )
        stack.enter_context(renamed(db, "auth_events"))
        stack.enter_context(renamed(db, "auth_sessions"))
        yield server


def crash_requests(server: LoggedServer, token: str) -> list[int]:
    with httpx.Client(base_url=server.url) as client:
        responses = [
            client.post(
                "/auth/register", json={"phone": PHONE}, headers={"X-Request-ID": "crash-register"}
            ),
            client.post(
                "/auth/verify",
                json={"phone": PHONE, "code": CODE},
                headers={"X-Request-ID": "crash-verify"},
            ),
            client.get(
                "/me", headers={"Authorization": f"Bearer {token}", "X-Request-ID": "crash-me"}
            ),
        ]
    return [response.status_code for response in responses]


def assert_no_secret(log: str, token: str) -> None:
    hashed = token_hash(Settings(_env_file=None, secret_key=SECRET_KEY), token)
    for secret in (PHONE, CODE, token, hashed):
        assert secret not in log
    assert not HEX_64.search(log), "a keyed hash reached the log"
    # The parameters were logged, masked: the test saw the database error, not a silent log.
    assert mask_phone(PHONE) in log


def _records_of(records: list[dict[str, Any]], request_id: str) -> list[dict[str, Any]]:
    return [record for record in records if record.get("request_id") == request_id]


def test_a_database_error_in_plain_logs_masks_phone_code_and_token(
    db: Database, tmp_path: Path
) -> None:
    token = secrets.token_urlsafe(32)
    with crashing_server(db, tmp_path, "plain") as server:
        assert crash_requests(server, token) == [500, 500, 500]
        server.wait_for_text("GET /me 500")
        log = server.log()

    assert "Traceback (most recent call last)" in log and "[parameters:" in log
    assert_no_secret(log, token)
    for request_id, access in (
        ("crash-register", "POST /auth/register 500"),
        ("crash-me", "GET /me 500"),
    ):
        lines = [line for line in log.splitlines() if f"[{request_id}]" in line]
        assert any("unhandled error" in line for line in lines), log
        assert any(access in line for line in lines), log


def test_a_database_error_in_json_logs_masks_phone_code_and_token(
    db: Database, tmp_path: Path
) -> None:
    token = secrets.token_urlsafe(32)
    with crashing_server(db, tmp_path, "json") as server:
        assert crash_requests(server, token) == [500, 500, 500]
        accesses = server.access_records("/me", 1) + server.access_records("/auth/verify", 1)
        records = server.json_records()
        log = server.log()

    assert_no_secret(log, token)
    assert [(record["status"], record["request_id"]) for record in accesses] == [
        (500, "crash-me"),
        (500, "crash-verify"),
    ]
    crashes = [record for record in records if record["message"].startswith("unhandled error")]
    assert {record["request_id"] for record in crashes} == {
        "crash-register",
        "crash-verify",
        "crash-me",
    }
    [register_crash] = _records_of(crashes, "crash-register")
    assert "[parameters:" in register_crash["exc_info"]
    assert mask_phone(PHONE) in register_crash["exc_info"]


def test_every_line_of_a_request_carries_its_id_and_a_path_cannot_forge_a_line(
    db: Database, tmp_path: Path
) -> None:
    forged = "1999-01-01 00:00:00,000 INFO watchroster.auth [-]: user 1 made admin"
    with logged_server(db.url, tmp_path) as server, httpx.Client(base_url=server.url) as client:
        registered = client.post(
            "/auth/register", json={"phone": PHONE}, headers={"X-Request-ID": "reg-1"}
        )
        injected = client.get(
            "/nope%0A" + forged.replace(" ", "%20") + "%0D%1B[2J", headers={"X-Request-ID": "inj-1"}
        )
        server.wait_for_text("[inj-1]")
        lines = server.log().splitlines()

    assert registered.status_code == 200 and injected.status_code == 404
    # Written by the auth service in a worker thread, not by the middleware.
    queued = [line for line in lines if "login code queued" in line]
    assert len(queued) == 1 and "[reg-1]" in queued[0], lines
    assert mask_phone(PHONE) in queued[0]
    assert not any(line.startswith(forged[:19]) for line in lines), lines
    [access] = [line for line in lines if "[inj-1]" in line]
    assert "GET /nope\\n1999-01-01" in access and "\\r\\x1b[2J 404" in access


def test_json_lines_of_a_request_carry_its_id_and_its_extra_fields(
    db: Database, tmp_path: Path
) -> None:
    with (
        logged_server(db.url, tmp_path, log_format="json") as server,
        httpx.Client(base_url=server.url) as client,
    ):
        client.post("/auth/register", json={"phone": PHONE}, headers={"X-Request-ID": "reg-2"})
        [access] = server.access_records("/auth/register", 1)
        mine = _records_of(server.json_records(), "reg-2")

    assert {record["logger"] for record in mine} == {"watchroster.auth", "watchroster.http"}
    assert access["status"] == 200 and access["method"] == "POST"
    assert access["client"] == "127.0.0.1" and access["duration_ms"] > 0
    assert all({"ts", "level", "logger", "message"} <= record.keys() for record in mine)
