"""Shared steps of the login tests: request a code, read it from the outbox, log in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from watchroster.app import create_app
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.models import OutboxMessage
from watchroster.outbox.service import open_payload

PHONE = "+27821234567"
GENERIC_401 = {"error": "invalid or expired code", "code": "invalid_code"}


def za_phone(number: int) -> str:
    """Distinct valid South African mobile numbers (+27 82 123 40nn)."""
    return f"+278212340{number:02d}"


def otp_rows(db: Database, phone: str | None = None) -> list[OutboxMessage]:
    with db.read() as session:
        query = select(OutboxMessage).where(OutboxMessage.message_type == "otp")
        if phone is not None:
            query = query.where(OutboxMessage.recipient == phone)
        return list(session.scalars(query.order_by(OutboxMessage.outbox_id)))


def last_code(db: Database, settings: Settings, phone: str = PHONE) -> str:
    """The code of the newest message queued for `phone`, unsealed as the dispatcher would."""
    rows = otp_rows(db, phone)
    assert rows, f"no login code queued for {phone}"
    body, params = open_payload(rows[-1].payload, settings.secret_key.get_secret_value())
    assert params["code"] in body
    return params["code"]


def register(client: TestClient, phone: str = PHONE, **extra: Any) -> Any:
    return client.post("/auth/register", json={"phone": phone, **extra})


def verify(client: TestClient, phone: str, code: str) -> Any:
    return client.post("/auth/verify", json={"phone": phone, "code": code})


def login(
    client: TestClient, db: Database, settings: Settings, phone: str = PHONE, **extra: Any
) -> dict[str, Any]:
    """Register and verify; returns the verify response body."""
    assert register(client, phone, **extra).status_code == 200
    response = verify(client, phone, last_code(db, settings, phone))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@contextmanager
def client_with(
    db: Database,
    settings: Settings,
    clock: FrozenClock,
    *,
    peer: str = "testclient",
    **overrides: Any,
) -> Iterator[TestClient]:
    """A client for an app whose settings differ from the fixture's in `overrides`, connecting
    from `peer` (a proxy test needs an address it can list as trusted)."""
    app = create_app(settings.model_copy(update=overrides), db=db, clock=clock)
    with TestClient(app, raise_server_exceptions=False, client=(peer, 50000)) as client:
        yield client
