"""Abuse limits: send throttles per phone and per IP, verify attempts per IP, trusted proxies."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from tests.integration.auth.helpers import (
    PHONE,
    client_with,
    last_code,
    otp_rows,
    register,
    verify,
    za_phone,
)
from watchroster.auth.models import AuthEvent
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database


def assert_throttled(response: Response, retry_after: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["Retry-After"] == str(retry_after)
    assert response.json()["code"] == "rate_limited"


def test_one_code_per_phone_per_minute(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    assert register(client).status_code == 200
    clock.advance(seconds=20)
    assert_throttled(register(client), 40)
    clock.advance(seconds=39)
    assert_throttled(register(client), 1)
    assert len(otp_rows(db)) == 1, "a throttled request must queue nothing"
    clock.advance(seconds=1)
    assert register(client).status_code == 200
    assert len(otp_rows(db)) == 2


def test_at_most_five_codes_per_phone_per_hour(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    for _ in range(5):
        assert register(client).status_code == 200
        clock.advance(minutes=2)
    # Now t0 + 10 min; the first code leaves the hour at t0 + 60 min.
    assert_throttled(register(client), 50 * 60)
    assert len(otp_rows(db)) == 5
    clock.advance(minutes=50)
    assert register(client).status_code == 200


def test_at_most_twenty_codes_per_client_ip_per_hour(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    for number in range(20):
        assert register(client, za_phone(number)).status_code == 200
    assert_throttled(register(client, za_phone(20)), 3600)
    assert otp_rows(db, za_phone(20)) == []
    clock.advance(hours=1)
    assert register(client, za_phone(20)).status_code == 200


def test_at_most_sixty_verify_attempts_per_client_ip_per_hour(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    register(client)
    code = last_code(db, settings)
    for number in range(60):
        assert verify(client, za_phone(number), "000000").status_code == 401
    clock.advance(minutes=5)
    # Even the right code is refused while the client is over the limit.
    assert_throttled(verify(client, PHONE, code), 55 * 60)
    with db.read() as session:
        kinds = session.scalars(select(AuthEvent.kind).where(AuthEvent.kind == "verify")).all()
    assert len(kinds) == 60, "throttled attempts are not counted again"


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    client: TestClient, db: Database
) -> None:
    # A script rotating X-Forwarded-For still meets the per-IP limit.
    for number in range(20):
        spoofed = {"X-Forwarded-For": f"198.51.100.{number}"}
        response = client.post("/auth/register", json={"phone": za_phone(number)}, headers=spoofed)
        assert response.status_code == 200
    last = client.post(
        "/auth/register", json={"phone": za_phone(20)}, headers={"X-Forwarded-For": "203.0.113.9"}
    )
    assert last.status_code == 429
    with db.read() as session:
        assert set(session.scalars(select(AuthEvent.client_ip))) == {"testclient"}


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    with client_with(
        db, settings, clock, peer="10.0.0.2", trusted_proxies="10.0.0.0/8", otp_max_per_ip_hour=2
    ) as client:

        def send(phone: str, forwarded_for: str) -> int:
            headers = {"X-Forwarded-For": forwarded_for}
            response = client.post("/auth/register", json={"phone": phone}, headers=headers)
            status: int = response.status_code
            return status

        # The client claims an address; our proxy appends the one it saw.
        assert send(za_phone(1), "192.0.2.77, 198.51.100.7") == 200
        assert send(za_phone(2), "198.51.100.7") == 200
        assert send(za_phone(3), "203.0.113.1, 198.51.100.7") == 429
        assert send(za_phone(4), "198.51.100.8") == 200
    with db.read() as session:
        counted = sorted(str(ip) for ip in session.scalars(select(AuthEvent.client_ip)))
    assert counted == ["198.51.100.7", "198.51.100.7", "198.51.100.8"]
