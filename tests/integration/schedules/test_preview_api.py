"""POST /schedule-preview (the form's fields → cron, sentence, next shifts, warnings) and the
name rule of POST/PATCH /schedules (409 name_taken), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.auth import bearer, issue_token
from tests.support.factories import add_schedule, add_user
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database

# The clock: Thursday 1 May 2025, 10:00 in Johannesburg.
FRIDAYS: dict[str, Any] = {
    "weekdays": ["FRI"],
    "start_local": "18:00",
    "duration_minutes": 180,
    "start_date": "2025-05-01",
    "end_date": "2025-08-31",
}


def test_preview_writes_the_cron_and_lists_the_next_ten(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    answer = client.post("/schedule-preview", json=FRIDAYS, headers=admin_headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["cron"] == "0 18 * * FRI"
    assert body["description"] == "Every Friday from 18:00 to 21:00, 1 May – 31 August 2025"
    assert [shift["start_time"] for shift in body["next"][:2]] == [
        "2025-05-02T18:00:00+02:00",
        "2025-05-09T18:00:00+02:00",
    ]
    assert body["next"][0]["end_time"] == "2025-05-02T21:00:00+02:00"
    assert len(body["next"]) == 10
    assert body["warnings"] == []
    assert body["skipped"] == []


def test_preview_in_the_callers_language_skipping_holidays(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    data = {**FRIDAYS, "weekdays": ["MON"], "skip_holidays": True}
    headers = {**admin_headers, "Accept-Language": "af"}
    body = client.post("/schedule-preview", json=data, headers=headers).json()
    assert body["description"].startswith("Elke Maandag van 18:00 tot 21:00")
    assert "1 Mei – 31 Augustus 2025" in body["description"]
    assert [item["start_time"] for item in body["skipped"]] == ["2025-06-16T18:00:00+02:00"]
    assert "2025-06-16T18:00:00+02:00" not in [s["start_time"] for s in body["next"]]


def test_preview_warnings(client: TestClient, db: Database, admin_headers: dict[str, str]) -> None:
    existing = add_schedule(db, name="Friday patrol")
    data = {**FRIDAYS, "name": "Friday Patrol ", "cron_expr": "0 18 1-7 * FRI"}
    body = client.post("/schedule-preview", json=data, headers=admin_headers).json()
    assert body["cron"] == "0 18 1-7 * FRI"
    assert [w["code"] for w in body["warnings"]] == ["day_or_weekday", "name_taken"]
    # Editing that schedule: its own name is no conflict.
    own = {**FRIDAYS, "name": "Friday patrol", "schedule_id": existing.schedule_id}
    body = client.post("/schedule-preview", json=own, headers=admin_headers).json()
    assert body["warnings"] == []
    empty = {**FRIDAYS, "start_date": "2025-05-05", "end_date": "2025-05-08"}
    codes = client.post("/schedule-preview", json=empty, headers=admin_headers).json()
    assert [w["code"] for w in codes["warnings"]] == ["no_shifts"]
    over = {**FRIDAYS, "start_date": "2025-01-01", "end_date": "2025-03-31"}
    codes = client.post("/schedule-preview", json=over, headers=admin_headers).json()
    assert [w["code"] for w in codes["warnings"]] == ["season_over"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"weekdays": []}, None),
        ({"start_local": "25:00"}, "start_local"),
        ({"duration_minutes": 1441}, "duration_minutes"),
        ({"cron_expr": "0 18 * * FRIDAY"}, "cron_expr"),
        ({"end_date": "2025-04-01"}, None),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"skip_holidays": True, "holiday_country": "XX"}, "holiday_country"),
        ({"skip_holidays": True, "holiday_subdivision": "ZZ"}, "holiday_subdivision"),
        ({"weekdays": ["FRIDAY"]}, "weekdays"),
    ],
)
def test_preview_refuses_bad_fields_with_400(
    client: TestClient, admin_headers: dict[str, str], change: dict[str, Any], field: str | None
) -> None:
    answer = client.post("/schedule-preview", json={**FRIDAYS, **change}, headers=admin_headers)
    assert answer.status_code == 400, answer.text
    if field is not None:
        assert field in answer.text


def test_name_taken_on_create_and_rename_but_not_by_inactive_schedules(
    client: TestClient, db: Database, admin_headers: dict[str, str]
) -> None:
    first = add_schedule(db, name="Friday patrol")
    base = {"cron_expr": "0 18 * * SAT", "duration_minutes": 120}
    taken = client.post("/schedules", json={**base, "name": "FRIDAY PATROL"}, headers=admin_headers)
    assert taken.status_code == 409
    assert taken.json()["code"] == "name_taken"
    other = client.post("/schedules", json={**base, "name": "Saturday"}, headers=admin_headers)
    assert other.status_code == 201
    other_id = other.json()["schedule_id"]
    rename = client.patch(
        f"/schedules/{other_id}", json={"name": "Friday patrol"}, headers=admin_headers
    )
    assert rename.status_code == 409
    # Its own name is no conflict; an inactive schedule's name is free.
    same = client.patch(
        f"/schedules/{first.schedule_id}", json={"name": "Friday patrol"}, headers=admin_headers
    )
    assert same.status_code == 200
    off = client.patch(
        f"/schedules/{first.schedule_id}", json={"active": False}, headers=admin_headers
    )
    assert off.status_code == 200
    assert (
        client.patch(
            f"/schedules/{other_id}", json={"name": "Friday patrol"}, headers=admin_headers
        ).status_code
        == 200
    )
    back = client.patch(
        f"/schedules/{first.schedule_id}", json={"active": True}, headers=admin_headers
    )
    assert back.status_code == 409


def test_preview_is_for_admins(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    assert client.post("/schedule-preview", json=FRIDAYS).status_code == 401
    volunteer = add_user(db, "+27821230098", "Volunteer")
    headers = bearer(issue_token(db, settings, volunteer, clock))
    assert client.post("/schedule-preview", json=FRIDAYS, headers=headers).status_code == 403


@pytest.mark.parametrize(
    "season",
    [
        {"start_date": "1970-01-01", "end_date": "1970-01-31"},
        {"start_date": "2199-12-01", "end_date": "2199-12-31", "skip_holidays": True},
        {"end_date": "1970-01-01"},
        {"start_date": "2199-12-31"},
    ],
)
def test_preview_at_the_ends_of_the_date_range(
    client: TestClient, admin_headers: dict[str, str], season: dict[str, Any]
) -> None:
    data = {**FRIDAYS, "start_date": None, "end_date": None, **season}
    answer = client.post("/schedule-preview", json=data, headers=admin_headers)
    assert answer.status_code == 200, answer.text
