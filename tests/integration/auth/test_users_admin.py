"""GET /users, PATCH /users/{id} (admins only) and the `watchroster users` commands."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from tests.integration.auth.helpers import PHONE, login
from tests.support.auth import bearer, issue_token
from tests.support.factories import add_user
from watchroster.auth.cli import users_app
from watchroster.auth.models import AuthSession, User
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database

ADMIN_PHONE = "+27821230099"


@pytest.fixture
def admin(db: Database) -> User:
    return add_user(db, ADMIN_PHONE, "Coordinator", role="admin")


@pytest.fixture
def admin_headers(
    db: Database, settings: Settings, clock: FrozenClock, admin: User
) -> dict[str, str]:
    return bearer(issue_token(db, settings, admin, clock))


def test_admins_list_users(
    client: TestClient, db: Database, settings: Settings, admin: User, admin_headers: dict[str, str]
) -> None:
    volunteer_id = login(client, db, settings, name="Thandi")["user"]["user_id"]
    users = client.get("/users", headers=admin_headers).json()
    assert [(u["user_id"], u["phone_masked"], u["role"]) for u in users] == [
        (admin.user_id, "+27 82 *** **99", "admin"),
        (volunteer_id, "+27 82 *** **67", "volunteer"),
    ]
    assert len(client.get("/users", params={"limit": 1}, headers=admin_headers).json()) == 1
    for bad in ({"limit": 0}, {"limit": 100_000}, {"offset": -1}):
        assert client.get("/users", params=bad, headers=admin_headers).status_code == 400


def test_numbers_leave_the_user_admin_api_only_through_the_logged_door(
    client: TestClient,
    db: Database,
    admin: User,
    admin_headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue #21 §8: `GET /users` and `PATCH /users/{id}` show the number masked, as
    `GET /people` and the console do; the full number only through `POST /users/{id}/phone`,
    which logs who looked (the number masked in the line)."""
    thandi = add_user(db, PHONE, "Thandi")
    with caplog.at_level(logging.INFO, logger="watchroster"):
        listed = client.get("/users", headers=admin_headers)
        patched = client.patch(
            f"/users/{thandi.user_id}", json={"role": "admin"}, headers=admin_headers
        )
    assert listed.status_code == 200 and patched.status_code == 200
    for text in (listed.text, patched.text):
        assert PHONE not in text and ADMIN_PHONE not in text
    row = next(user for user in listed.json() if user["user_id"] == thandi.user_id)
    people = client.get("/people", headers=admin_headers).json()
    same = next(person for person in people if person["user_id"] == thandi.user_id)
    assert row["phone_masked"] == same["phone_masked"] == "+27 82 *** **67"
    assert "phone" not in row and patched.json()["phone_masked"] == "+27 82 *** **67"
    assert "looked at the phone number" not in caplog.text  # listing is not looking
    with caplog.at_level(logging.INFO, logger="watchroster.people"):
        shown = client.post(f"/users/{thandi.user_id}/phone", headers=admin_headers)
    assert shown.json() == {"user_id": thandi.user_id, "phone": PHONE}
    assert f"admin {admin.user_id} looked at the phone number of user {thandi.user_id}" in (
        caplog.text
    )
    assert PHONE not in caplog.text


def test_an_erased_member_is_listed_without_a_number(
    client: TestClient, db: Database, settings: Settings, admin_headers: dict[str, str]
) -> None:
    body = login(client, db, settings, name="Thandi")
    assert client.delete("/me", headers=bearer(body["token"])).status_code == 204
    users = client.get("/users", headers=admin_headers).json()
    erased = next(user for user in users if user["user_id"] == body["user"]["user_id"])
    assert erased["phone_masked"] == "-"


def test_promoting_a_volunteer_gives_admin_access(
    client: TestClient, db: Database, settings: Settings, admin_headers: dict[str, str]
) -> None:
    body = login(client, db, settings)
    token, user_id = body["token"], body["user"]["user_id"]
    assert client.get("/users", headers=bearer(token)).status_code == 403
    promoted = client.patch(f"/users/{user_id}", json={"role": "admin"}, headers=admin_headers)
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    assert client.get("/users", headers=bearer(token)).status_code == 200


def test_deactivating_revokes_every_session_at_once(
    client: TestClient,
    db: Database,
    settings: Settings,
    clock: FrozenClock,
    admin_headers: dict[str, str],
) -> None:
    first = login(client, db, settings)
    clock.advance(minutes=2)
    second = login(client, db, settings)["token"]
    user_id = first["user"]["user_id"]
    response = client.patch(f"/users/{user_id}", json={"active": False}, headers=admin_headers)
    assert response.status_code == 200 and response.json()["active"] is False
    for token in (first["token"], second):
        assert client.get("/me", headers=bearer(token)).status_code == 401
    # Reactivating lets the person log in again, but the old tokens stay dead.
    client.patch(f"/users/{user_id}", json={"active": True}, headers=admin_headers)
    assert client.get("/me", headers=bearer(second)).status_code == 401
    with db.read() as session:
        sessions = session.scalars(select(AuthSession).where(AuthSession.user_id == user_id))
        assert all(s.revoked_at == clock() for s in sessions)
    clock.advance(minutes=2)
    assert login(client, db, settings)["user"]["user_id"] == user_id


@pytest.mark.parametrize("body", [{"role": "volunteer"}, {"active": False}])
def test_an_admin_cannot_lock_themselves_out(
    client: TestClient,
    db: Database,
    admin: User,
    admin_headers: dict[str, str],
    body: dict[str, object],
) -> None:
    response = client.patch(f"/users/{admin.user_id}", json=body, headers=admin_headers)
    assert response.status_code == 409
    assert response.json()["code"] == "cannot_change_own_access"
    with db.read() as session:
        unchanged = session.get_one(User, admin.user_id)
        assert (unchanged.role, unchanged.active) == ("admin", True)
    # Harmless changes to oneself are fine.
    assert (
        client.patch(
            f"/users/{admin.user_id}", json={"active": True}, headers=admin_headers
        ).status_code
        == 200
    )


def test_patch_user_errors(client: TestClient, db: Database, admin_headers: dict[str, str]) -> None:
    other = add_user(db, "+27821230002", "Other")
    target = f"/users/{other.user_id}"
    assert (
        client.patch("/users/999", json={"role": "admin"}, headers=admin_headers).status_code == 404
    )
    assert client.patch(f"/users/{2**40}", json={}, headers=admin_headers).status_code == 400
    for body, field in (
        ({"role": "owner"}, "role"),
        ({"role": None}, "role"),
        ({"active": None}, "active"),
        ({"name": "New"}, "name"),
        ({"phone": "+27821230003"}, "phone"),
    ):
        response = client.patch(target, json=body, headers=admin_headers)
        assert response.status_code == 400 and field in response.json()["error"], body
    with db.write() as session:
        erased = session.get_one(User, other.user_id)
        erased.phone, erased.erased_at = None, datetime(2025, 4, 1, tzinfo=UTC)
    erased_response = client.patch(target, json={"active": True}, headers=admin_headers)
    assert erased_response.status_code == 409 and erased_response.json()["code"] == "user_erased"


@pytest.mark.usefixtures("cli_env")
def test_cli_grant_admin_creates_or_promotes_and_list_shows_users(db: Database) -> None:
    runner = CliRunner()
    add_user(db, "+27821230002", "Existing")
    created = runner.invoke(users_app, ["grant-admin", "082 123 0001"])
    assert created.exit_code == 0, created.output
    assert created.output.startswith("created admin")
    promoted = runner.invoke(users_app, ["grant-admin", "+27821230002"])
    assert promoted.exit_code == 0 and promoted.output.startswith("granted admin")
    with db.read() as session:
        roles = {phone: role for phone, role in session.execute(select(User.phone, User.role))}
    assert roles == {"+27821230001": "admin", "+27821230002": "admin"}

    listing = runner.invoke(users_app, ["list"])
    assert listing.exit_code == 0
    assert "+27821230001" in listing.output and "Existing" in listing.output

    invalid = runner.invoke(users_app, ["grant-admin", "12345"])
    assert invalid.exit_code == 2 and "not a valid" in invalid.output
