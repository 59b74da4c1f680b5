"""Races against a real HTTP server, with many client threads at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.integration.auth.helpers import PHONE, last_code, otp_rows, wrong_code
from tests.support.server import running_server
from watchroster.auth.models import AuthSession, LoginCode
from watchroster.core.config import Settings
from watchroster.db.engine import Database

pytestmark = pytest.mark.slow
CLIENTS = 10


def race(base_url: str, path: str, bodies: list[dict[str, str]]) -> list[int]:
    """POST every body at once (released together by a barrier); the status codes, in order."""
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = [0] * len(bodies)

    def worker(index: int) -> Callable[[], None]:
        def run() -> None:
            with httpx.Client(base_url=base_url, timeout=30) as http:
                barrier.wait()
                statuses[index] = http.post(path, json=bodies[index]).status_code

        return run

    threads = [threading.Thread(target=worker(i)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_ten_parallel_verifies_of_one_code_give_exactly_one_login(
    app: FastAPI, db: Database, settings: Settings
) -> None:
    with running_server(app) as base_url:
        assert httpx.post(f"{base_url}/auth/register", json={"phone": PHONE}).status_code == 200
        code = last_code(db, settings)
        statuses = race(base_url, "/auth/verify", [{"phone": PHONE, "code": code}] * CLIENTS)
    assert sorted(statuses) == [200] + [401] * (CLIENTS - 1)
    with db.read() as session:
        assert len(session.scalars(select(AuthSession)).all()) == 1


def test_parallel_wrong_guesses_cannot_exceed_the_attempt_limit(
    app: FastAPI, db: Database, settings: Settings
) -> None:
    with running_server(app) as base_url:
        httpx.post(f"{base_url}/auth/register", json={"phone": PHONE})
        code = last_code(db, settings)
        guesses = [{"phone": PHONE, "code": wrong_code(code)}] * CLIENTS
        assert race(base_url, "/auth/verify", guesses) == [401] * CLIENTS
        after = httpx.post(f"{base_url}/auth/verify", json={"phone": PHONE, "code": code})
    assert after.status_code == 401
    with db.read() as session:
        assert session.scalar(select(LoginCode.failed_attempts)) == settings.otp_max_attempts


def test_ten_parallel_registers_of_one_number_send_one_code(app: FastAPI, db: Database) -> None:
    with running_server(app) as base_url:
        statuses = race(base_url, "/auth/register", [{"phone": PHONE}] * CLIENTS)
    assert sorted(statuses) == [200] + [429] * (CLIENTS - 1)
    assert len(otp_rows(db, PHONE)) == 1
