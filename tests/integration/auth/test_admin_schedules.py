"""POST/PATCH/DELETE /schedules: admins only, the platform's validation, 409 when booked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.auth import bearer, issue_token
from tests.support.factories import add_booking, add_schedule, add_user
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database

VALID: dict[str, Any] = {
    "name": "Saturday patrol",
    "cron_expr": "0 18 * * SAT",
    "duration_minutes": 120,
}


def test_create_update_and_delete_a_schedule(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    created = client.post("/schedules", json=VALID, headers=admin_headers)
    assert created.status_code == 201
    schedule = created.json()
    assert schedule == {
        "schedule_id": schedule["schedule_id"],
        **VALID,
        "timezone": "Africa/Johannesburg",
        "start_date": None,
        "end_date": None,
        "active": True,
        "seats": 1,
        "skip_holidays": False,
        "holiday_country": "ZA",
        "holiday_subdivision": None,
        "check_in_minutes": None,
    }
    path = f"/schedules/{schedule['schedule_id']}"
    changed = client.patch(
        path, json={"name": "Sat night", "end_date": "2025-09-30"}, headers=admin_headers
    )
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["end_date"]) == ("Sat night", "2025-09-30")
    assert client.get(path).json() == changed.json()
    assert client.delete(path, headers=admin_headers).status_code == 204
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cron_expr": "61 18 * * *"}, "cron_expr"),
        ({"cron_expr": "0 18 * *"}, "cron_expr"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 1441}, "duration_minutes"),
        ({"start_date": "2025-09-01", "end_date": "2025-08-01"}, "start_date"),
        ({"name": ""}, "name"),
        ({"schedule_id": 7}, "schedule_id"),
    ],
)
def test_invalid_schedules_are_400_naming_the_field(
    client: TestClient, admin_headers: dict[str, str], change: dict[str, Any], field: str
) -> None:
    created = client.post("/schedules", json={**VALID, **change}, headers=admin_headers)
    assert created.status_code == 400 and field in created.json()["error"], created.text
    existing = client.post("/schedules", json=VALID, headers=admin_headers).json()
    updated = client.patch(
        f"/schedules/{existing['schedule_id']}", json=change, headers=admin_headers
    )
    assert updated.status_code == 400 and field in updated.json()["error"], updated.text
    assert client.get("/schedules").json() == [existing]


def test_update_rejects_nulls_and_unknown_ids(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    existing = client.post("/schedules", json=VALID, headers=admin_headers).json()
    path = f"/schedules/{existing['schedule_id']}"
    assert client.patch(path, json={"name": None}, headers=admin_headers).status_code == 400
    missing = client.patch("/schedules/999", json={"name": "x"}, headers=admin_headers)
    assert missing.status_code == 404 and missing.json()["code"] == "schedule_not_found"
    assert client.delete("/schedules/999", headers=admin_headers).status_code == 404


def test_a_schedule_with_future_bookings_cannot_be_deleted_only_deactivated(
    client: TestClient, db: Database, admin_headers: dict[str, str]
) -> None:
    schedule = add_schedule(db, cron_expr="0 18 * * *")
    volunteer = add_user(db, "+27821230001", "Volunteer")
    add_booking(db, schedule, volunteer, datetime(2025, 5, 3, 16, 0, tzinfo=UTC))
    path = f"/schedules/{schedule.schedule_id}"
    refused = client.delete(path, headers=admin_headers)
    assert refused.status_code == 409 and refused.json()["code"] == "schedule_has_bookings"
    deactivated = client.patch(path, json={"active": False}, headers=admin_headers)
    assert deactivated.status_code == 200 and deactivated.json()["active"] is False


def test_volunteers_get_403_and_anonymous_callers_401(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    volunteer = add_user(db, "+27821230001", "Volunteer")
    headers = bearer(issue_token(db, settings, volunteer, clock))
    forbidden = client.post("/schedules", json=VALID, headers=headers)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "admin_required"
    anonymous = client.post("/schedules", json=VALID)
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == "Bearer"
    assert client.get("/schedules").json() == []
