"""Tokens (logout, expiry, bad tokens) and the caller's own account: GET/PATCH/DELETE /me."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.integration.auth.helpers import PHONE, login, register
from tests.support.auth import bearer
from tests.support.factories import add_booking, add_schedule, add_user
from watchroster.auth.models import AuthSession, LoginCode, User
from watchroster.bookings.models import Booking
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.models import OutboxMessage


def _refused(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/me", headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["code"] == "invalid_token"


def test_logout_revokes_only_the_presented_token(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    phone_token = login(client, db, settings)["token"]
    clock.advance(minutes=2)
    laptop_token = login(client, db, settings)["token"]
    assert client.post("/auth/logout", headers=bearer(phone_token)).status_code == 204
    _refused(client, bearer(phone_token))
    assert client.post("/auth/logout", headers=bearer(phone_token)).status_code == 401
    assert client.get("/me", headers=bearer(laptop_token)).status_code == 200


@pytest.mark.parametrize(("age_seconds", "status"), [(30 * 86400 - 1, 200), (30 * 86400 + 1, 401)])
def test_session_expiry_boundary(
    client: TestClient,
    db: Database,
    settings: Settings,
    clock: FrozenClock,
    age_seconds: int,
    status: int,
) -> None:
    token = login(client, db, settings)["token"]
    clock.advance(seconds=age_seconds)
    assert client.get("/me", headers=bearer(token)).status_code == status


def test_missing_malformed_unknown_and_tampered_tokens_are_401(
    client: TestClient, db: Database, settings: Settings
) -> None:
    token = login(client, db, settings)["token"]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for headers in (
        {},
        {"Authorization": token},
        {"Authorization": f"Basic {token}"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer " + "x" * 300},
        bearer("not-a-token"),
        bearer(tampered),
    ):
        _refused(client, headers)


def test_patch_me_changes_only_the_listed_fields(
    client: TestClient, db: Database, settings: Settings
) -> None:
    token = login(client, db, settings, name="Thandi")["token"]
    changed = client.patch(
        "/me",
        json={"name": " Thandi M ", "channel": "whatsapp", "reminders": False},
        headers=bearer(token),
    )
    assert changed.status_code == 200
    assert {k: changed.json()[k] for k in ("name", "channel", "reminders")} == {
        "name": "Thandi M",
        "channel": "whatsapp",
        "reminders": False,
    }
    cleared = client.patch("/me", json={"name": None}, headers=bearer(token))
    assert cleared.json()["name"] is None and cleared.json()["channel"] == "whatsapp"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "admin"}, "role"),
        ({"active": False}, "active"),
        ({"user_id": 99}, "user_id"),
        ({"phone": "+27821111111"}, "phone"),
        ({"channel": "email"}, "channel"),
        ({"channel": None}, "channel"),
        ({"reminders": None}, "reminders"),
        ({"name": "x" * 101}, "name"),
        ({"name": "   "}, "name"),
    ],
)
def test_patch_me_refuses_other_fields_and_bad_values(
    client: TestClient, db: Database, settings: Settings, body: dict[str, object], field: str
) -> None:
    token = login(client, db, settings, name="Thandi")["token"]
    response = client.patch("/me", json=body, headers=bearer(token))
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]
    me = client.get("/me", headers=bearer(token)).json()
    assert (me["role"], me["active"], me["name"], me["channel"]) == (
        "volunteer",
        True,
        "Thandi",
        "sms",
    )


def test_delete_me_erases_the_person_and_keeps_the_statistics(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    body = login(client, db, settings, name="Thandi")
    user_id, token = body["user"]["user_id"], body["token"]
    clock.advance(minutes=2)
    register(client)  # a pending code, which must go too
    schedule = add_schedule(db, cron_expr="0 18 * * *")
    with db.read() as session:
        user = session.get_one(User, user_id)
    past = add_booking(db, schedule, user, datetime(2025, 4, 28, 16, 0, tzinfo=UTC))
    future = add_booking(db, schedule, user, datetime(2025, 5, 3, 16, 0, tzinfo=UTC))
    friend = add_user(db, "+27821239999", "Friend")
    buddy_booking = add_booking(db, schedule, friend, datetime(2025, 5, 4, 16, 0, tzinfo=UTC))
    with db.write() as session:
        session.get_one(Booking, buddy_booking.booking_id).buddy_phone = PHONE

    assert client.delete("/me", headers=bearer(token)).status_code == 204
    _refused(client, bearer(token))
    with db.read() as session:
        erased = session.get_one(User, user_id)
        assert (erased.phone, erased.name, erased.active) == (None, None, False)
        assert erased.erased_at == clock()
        assert session.get_one(Booking, future.booking_id).canceled_at == clock()
        kept = session.get_one(Booking, past.booking_id)
        assert kept.canceled_at is None and kept.user_id == user_id
        assert session.scalars(select(LoginCode)).all() == []
        assert all(s.revoked_at == clock() for s in session.scalars(select(AuthSession)))
        # The outbox keeps counts, not the person: the pending code expired, no row names them.
        messages = session.scalars(select(OutboxMessage)).all()
        assert messages and all(m.recipient != PHONE for m in messages)
        assert all(m.status != "pending" and m.payload.get("erased") for m in messages)
        assert session.get_one(Booking, buddy_booking.booking_id).buddy_phone is None

    # The number is free again: a new login makes a new, unrelated account.
    clock.advance(minutes=2)
    again = login(client, db, settings)
    assert again["user"]["user_id"] != user_id and again["user"]["name"] is None
    assert again["user"]["phone"] == PHONE
