"""GET /schedules and GET /shifts/available against a migrated database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi.testclient import TestClient

from tests.support.auth import bearer, issue_token
from tests.support.factories import add_booking, add_schedule, add_user
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.schedules.schemas import ScheduleUpdate
from watchroster.schedules.service import update_schedule

MAY = {"from": "2025-05-01", "to": "2025-05-31"}


def test_schedules_list_and_detail(client: TestClient, db: Database) -> None:
    assert client.get("/schedules").json() == []
    schedule = add_schedule(db, start_date=date(2025, 5, 1), end_date=date(2025, 8, 31))
    listed = client.get("/schedules").json()
    assert listed == [
        {
            "schedule_id": schedule.schedule_id,
            "name": "Friday patrol",
            "cron_expr": "0 18 * * FRI",
            "timezone": "Africa/Johannesburg",
            "start_date": "2025-05-01",
            "end_date": "2025-08-31",
            "duration_minutes": 180,
            "active": True,
            "seats": 1,
            "skip_holidays": False,
            "holiday_country": "ZA",
            "holiday_subdivision": None,
            "check_in_minutes": None,
        }
    ]
    assert client.get(f"/schedules/{schedule.schedule_id}").json() == listed[0]


def test_unknown_schedule_is_404(client: TestClient) -> None:
    response = client.get("/schedules/999")
    assert response.status_code == 404
    assert response.json()["code"] == "schedule_not_found"


def test_design_case_fridays_in_may(client: TestClient, db: Database) -> None:
    add_schedule(db, start_date=date(2025, 5, 1), end_date=date(2025, 5, 31))
    slots = client.get("/shifts/available", params=MAY).json()
    assert [s["start_time"] for s in slots] == [
        f"2025-05-{day:02d}T18:00:00+02:00" for day in (2, 9, 16, 23, 30)
    ]
    assert slots[0]["end_time"] == "2025-05-02T21:00:00+02:00"
    assert all(s["available"] is True and s["schedule_name"] == "Friday patrol" for s in slots)


def test_started_slots_are_not_offered(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    add_schedule(db)
    clock.now = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)  # 18:00 local: the shift has started
    slots = client.get("/shifts/available", params=MAY).json()
    assert slots[0]["start_time"] == "2025-05-09T18:00:00+02:00"


def test_booked_slots_are_left_out_and_shown_in_roster_view(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    schedule = add_schedule(db)
    user = add_user(db, "+27821234567", "Thandi Mokoena")
    add_booking(db, schedule, user, datetime(2025, 5, 9, 16, 0, tzinfo=UTC))
    open_starts = [s["start_time"][:10] for s in client.get("/shifts/available", params=MAY).json()]
    assert open_starts == ["2025-05-02", "2025-05-16", "2025-05-23", "2025-05-30"]
    roster_params = {**MAY, "include_booked": "true"}
    assert client.get("/shifts/available", params=roster_params).status_code == 401
    token = issue_token(db, settings, user, clock)
    roster = client.get("/shifts/available", params=roster_params, headers=bearer(token)).json()
    booked = [s for s in roster if not s["available"]]
    assert booked == [
        {
            "schedule_id": schedule.schedule_id,
            "schedule_name": "Friday patrol",
            "start_time": "2025-05-09T18:00:00+02:00",
            "end_time": "2025-05-09T21:00:00+02:00",
            "available": False,
            "seats": 1,
            "seats_left": 0,
            "booked_by": "Thandi",
            "holders": [{"seat": 1, "first_name": "Thandi"}],
        }
    ]
    assert "+2782" not in str(roster)


def test_slots_sorted_by_start_then_schedule_and_limited(client: TestClient, db: Database) -> None:
    later = add_schedule(db, name="B", cron_expr="0 18 * * FRI")
    earlier = add_schedule(db, name="A", cron_expr="0 18 * * FRI,SAT")
    slots = client.get("/shifts/available", params={**MAY, "limit": 3}).json()
    assert [(s["start_time"][:10], s["schedule_id"]) for s in slots] == [
        ("2025-05-02", later.schedule_id),
        ("2025-05-02", earlier.schedule_id),
        ("2025-05-03", earlier.schedule_id),
    ]


def test_rfc3339_bounds_and_schedule_filter(client: TestClient, db: Database) -> None:
    add_schedule(db, name="other", cron_expr="0 6 * * *")
    friday = add_schedule(db)
    params = {
        "from": "2025-05-09T16:00:00Z",  # exactly the start of the 9 May shift: included
        "to": "2025-05-16T18:00:00+02:00",  # exclusive
        "schedule_id": friday.schedule_id,
    }
    slots = client.get("/shifts/available", params=params).json()
    assert [s["start_time"] for s in slots] == ["2025-05-09T18:00:00+02:00"]


def test_default_window_is_the_next_14_days(client: TestClient, db: Database) -> None:
    add_schedule(db, cron_expr="0 18 * * *")
    slots = client.get("/shifts/available").json()
    # clock: 2025-05-01 10:00 local; daily 18:00 → 1 May .. 14 May (15 May 18:00 is past +14 d)
    assert slots[0]["start_time"] == "2025-05-01T18:00:00+02:00"
    assert slots[-1]["start_time"] == "2025-05-14T18:00:00+02:00"
    assert len(slots) == 14


def test_inactive_schedule_gives_no_slots(client: TestClient, db: Database) -> None:
    schedule = add_schedule(db, active=False)
    assert client.get("/shifts/available", params=MAY).json() == []
    response = client.get("/shifts/available", params={**MAY, "schedule_id": schedule.schedule_id})
    assert response.status_code == 200
    assert response.json() == []


def test_availability_errors(client: TestClient, db: Database) -> None:
    add_schedule(db)
    cases = [
        ({"limit": 0}, 400, "validation_error"),
        ({"limit": 1001}, 400, "validation_error"),
        ({"limit": "many"}, 400, "validation_error"),
        ({"from": "2025-06-01", "to": "2025-05-01"}, 400, "validation_error"),
        ({"from": "2025-01-01", "to": "2026-01-03"}, 400, "validation_error"),
        ({"from": "2025-13-01"}, 400, "validation_error"),
        ({"from": "2025-05-01T18:00:00"}, 400, "validation_error"),
        ({"from": "yesterday"}, 400, "validation_error"),
        ({"schedule_id": 999}, 404, "schedule_not_found"),
    ]
    for params, status, code in cases:
        response = client.get("/shifts/available", params=params)
        assert (response.status_code, response.json()["code"]) == (status, code), params
        assert response.json()["error"]


def test_a_full_year_window_is_allowed(client: TestClient, db: Database) -> None:
    add_schedule(db)
    response = client.get("/shifts/available", params={"from": "2025-01-01", "to": "2025-12-31"})
    assert response.status_code == 200


def test_cached_slots_follow_schedule_and_booking_changes(client: TestClient, db: Database) -> None:
    """The slot cache is keyed by the schedule's definition and bookings are read fresh, so
    neither an edit nor a new booking can be served stale."""
    schedule = add_schedule(db)
    first = client.get("/shifts/available", params=MAY).json()  # warms the cache
    assert first[0]["start_time"] == "2025-05-02T18:00:00+02:00"

    user = add_user(db, "+27821234568", "Sipho")
    add_booking(db, schedule, user, datetime(2025, 5, 2, 16, 0, tzinfo=UTC))
    after_booking = client.get("/shifts/available", params=MAY).json()
    assert after_booking[0]["start_time"] == "2025-05-09T18:00:00+02:00"

    with db.write() as session:
        update_schedule(
            session,
            schedule.schedule_id,
            ScheduleUpdate(cron_expr="30 19 * * SAT", name="Saturday patrol"),
        )
    edited = client.get("/shifts/available", params=MAY).json()
    assert edited[0]["start_time"] == "2025-05-03T19:30:00+02:00"
    assert {slot["schedule_name"] for slot in edited} == {"Saturday patrol"}
