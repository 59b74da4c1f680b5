"""`GET /attendance` and `GET /attendance.csv` (admins), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from tests.integration.attendance.support import past_booking
from tests.support.auth import bearer, issue_token
from tests.support.factories import add_schedule, add_user
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database

FRIDAY_25 = datetime(2025, 4, 25, 18, 0, tzinfo=ZoneInfo("Africa/Johannesburg")).astimezone(UTC)


def _admin(db: Database, settings: Settings, clock: FrozenClock) -> dict[str, str]:
    admin = add_user(db, "+27821239999", "Bongi Coordinator", role="admin")
    return bearer(issue_token(db, settings, admin, clock))


def test_figures_as_json_and_csv(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    headers = _admin(db, settings, clock)
    schedule = add_schedule(db)
    thandi = add_user(db, "+27821234567", "Thandi Mokoena")
    sipho = add_user(db, "+27821234568", "Sipho Dlamini")
    past_booking(db, schedule, thandi, FRIDAY_25, attended=True)
    past_booking(db, schedule, sipho, FRIDAY_25 - timedelta(weeks=1), attended=False)

    response = client.get("/attendance", params={"sort": "-absent"}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["first_day"], body["last_day"], body["sort"]) == (
        "2025-02-07",
        "2025-05-01",
        "-absent",
    )
    assert [v["name"] for v in body["volunteers"]] == ["Sipho Dlamini", "Thandi Mokoena"]
    assert body["volunteers"][0] | {"user_id": 0} == {
        "user_id": 0,
        "name": "Sipho Dlamini",
        "booked": 1,
        "attended": 0,
        "absent": 1,
        "not_recorded": 0,
        "canceled_late": 0,
    }
    (friday,) = body["schedules"]
    assert (friday["offered"], friday["booked"], friday["fill_rate"]) == (12, 2, 0.1667)
    assert len(body["weeks"]) == 12
    assert body["weeks"][-1] == {
        "offered": 1,
        "booked": 1,
        "fill_rate": 1.0,
        "first_day": "2025-04-25",
        "last_day": "2025-05-01",
    }

    exported = client.get(
        "/attendance.csv", params={"from": "2025-04-20", "to": "2025-04-30"}, headers=headers
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        'filename="attendance-2025-04-20-2025-04-30.csv"' in exported.headers["content-disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["name"], r["booked"], r["attended"]) for r in rows] == [("Thandi Mokoena", "1", "1")]


def test_bad_periods_and_sorts_are_400(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    headers = _admin(db, settings, clock)
    for params in (
        {"from": "2025-05-02", "to": "2025-05-01"},
        {"from": "2024-01-01", "to": "2025-01-01"},
        {"from": "2025-02-30"},
        {"to": ""},
        {"sort": "phone"},
    ):
        for path in ("/attendance", "/attendance.csv"):
            response = client.get(path, params=params, headers=headers)
            assert response.status_code == 400, (path, params)
            assert response.json()["code"] == "validation_error"
