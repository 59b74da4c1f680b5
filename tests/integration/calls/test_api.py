"""The JSON API of calls, people and the message backlog (admins only), on both databases."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.integration.calls.support import add_member
from tests.support.auth import bearer, issue_token
from tests.support.factories import add_booking, add_schedule, add_user
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.models import OutboxMessage
from watchroster.outbox.service import queue_message

FRIDAY = "2025-05-02T18:00:00+02:00"


@pytest.fixture
def admin(db: Database, settings: Settings, clock: FrozenClock) -> dict[str, str]:
    user = add_user(db, "+27821230000", "Anna Admin", role="admin")
    return bearer(issue_token(db, settings, user, clock))


def test_ask_list_and_conflict(
    client: TestClient, db: Database, admin: dict[str, str], clock: FrozenClock
) -> None:
    schedule = add_schedule(db)
    thandi = add_member(db, "+27821230001", "Thandi")
    add_member(db, "+27821230002", "Sipho", volunteer_calls=False)
    body = {"schedule_id": schedule.schedule_id, "start": "2025-05-02T16:00:00Z"}
    created = client.post("/roster/calls", json=body, headers=admin)
    assert created.status_code == 201, created.text
    call = created.json()
    assert call == {
        "call_id": call["call_id"],
        "schedule_id": schedule.schedule_id,
        "schedule_name": "Friday patrol",
        "start_time": FRIDAY,
        "end_time": "2025-05-02T21:00:00+02:00",
        "asked_at": "2025-05-01T08:00:00+00:00",
        "asked_by": call["asked_by"],
        "asked_by_name": "Anna Admin",
        "recipients": 1,
        "skipped_capped": 0,
        "filled": False,
    }
    again = client.post("/roster/calls", json={**body, "start": FRIDAY}, headers=admin)
    assert again.status_code == 409 and again.json()["code"] == "already_asked"

    add_booking(db, schedule, thandi, clock() + timedelta(hours=32))
    listed = client.get(
        "/roster/calls", params={"from": "2025-05-01", "to": "2025-05-14"}, headers=admin
    )
    assert listed.status_code == 200
    assert [(c["call_id"], c["filled"]) for c in listed.json()] == [(call["call_id"], True)]
    assert client.get("/roster/calls", params={"from": "2025-05-03"}, headers=admin).json() == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"schedule_id": 1, "start": "2025-05-02T18:07:00+02:00"}, 400, "not_an_open_slot"),
        ({"schedule_id": 1, "start": "friday"}, 400, "validation_error"),
        ({"schedule_id": 1}, 400, "validation_error"),
        ({"schedule_id": 1, "start": FRIDAY, "to": "all"}, 400, "validation_error"),
        ({"schedule_id": 999_999, "start": FRIDAY}, 404, "schedule_not_found"),
    ],
)
def test_refused_calls(
    client: TestClient,
    db: Database,
    admin: dict[str, str],
    body: dict[str, object],
    status: int,
    code: str,
) -> None:
    schedule = add_schedule(db)
    if body.get("schedule_id") == 1:
        body = {**body, "schedule_id": schedule.schedule_id}
    answer = client.post("/roster/calls", json=body, headers=admin)
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text


def test_people_list_and_the_logged_phone_lookup(
    client: TestClient, db: Database, admin: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    thandi = add_member(db, "+27821234567", "Thandi")
    people = client.get("/people", headers=admin).json()
    row = next(p for p in people if p["user_id"] == thandi.user_id)
    assert row["phone_masked"] == "+27 82 *** **67" and "phone" not in row
    assert (row["role"], row["no_shows"], row["last_login_at"]) == ("volunteer", 0, None)
    assert client.get(f"/users/{thandi.user_id}/phone", headers=admin).status_code == 405
    with caplog.at_level(logging.INFO, logger="watchroster.people"):
        shown = client.post(f"/users/{thandi.user_id}/phone", headers=admin)
    assert shown.json() == {"user_id": thandi.user_id, "phone": "+27821234567"}
    assert "looked at the phone number of user" in caplog.text
    assert "+27821234567" not in caplog.text and "+2782*****67" in caplog.text
    assert client.post("/users/999999/phone", headers=admin).status_code == 404


def test_backlog_and_retry_failed(
    client: TestClient, db: Database, admin: dict[str, str], clock: FrozenClock
) -> None:
    with db.write() as session:
        for status in ("pending", "failed", "expired"):
            outbox_id = queue_message(
                session,
                message_type="t",
                recipient="+27821230001",
                body="x",
                now=clock() - timedelta(seconds=90),
            )
            session.get_one(OutboxMessage, outbox_id).status = status
    stats = client.get("/admin/outbox/stats", headers=admin).json()
    assert stats == {
        "counts": {"pending": 1, "sent": 0, "failed": 1, "expired": 1},
        "oldest_pending_age_seconds": 90.0,
    }
    assert client.post("/admin/outbox/retry-failed", headers=admin).json() == {"retried": 2}
    assert client.get("/admin/outbox/stats", headers=admin).json()["counts"]["pending"] == 3
