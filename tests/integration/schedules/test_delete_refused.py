"""DELETE /schedules/{id} follows one rule (issue #21 §6): refused with 409 while anything refers
to the schedule (bookings, cancelled ones included; calls for volunteers; cancelled shifts),
else the schedule is gone. Both databases, through the API; the console in
`tests/integration/admin_web/test_schedule_edit_bookings.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from tests.integration.calls.support import add_member
from tests.support.factories import add_booking, add_schedule, add_user
from watchroster.core.clock import FrozenClock
from watchroster.db.engine import Base, Database
from watchroster.schedules.models import Schedule

FRIDAY = "2025-05-02T18:00:00+02:00"  # the next shift: the clock is Thursday 1 May 10:00


def _exists(db: Database, schedule_id: int) -> bool:
    with db.read() as session:
        return session.get(Schedule, schedule_id) is not None


def test_a_schedule_with_a_call_for_volunteers_is_refused_not_a_500(
    client: TestClient, db: Database, admin_headers: dict[str, str]
) -> None:
    schedule = add_schedule(db)
    add_member(db, "+27821230001", "Thandi")
    body = {"schedule_id": schedule.schedule_id, "start": FRIDAY}
    assert client.post("/roster/calls", json=body, headers=admin_headers).status_code == 201
    refused = client.delete(f"/schedules/{schedule.schedule_id}", headers=admin_headers)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "schedule_in_use"
    assert "calls for volunteers" in refused.json()["error"]
    assert "deactivate it instead" in refused.json()["error"]
    assert _exists(db, schedule.schedule_id)


def test_a_schedule_with_a_cancelled_shift_is_refused(
    client: TestClient, db: Database, admin_headers: dict[str, str]
) -> None:
    schedule = add_schedule(db)
    path = f"/schedules/{schedule.schedule_id}"
    cancelled = {"start": FRIDAY, "reason": "Storm"}
    assert client.post(f"{path}/exceptions", json=cancelled, headers=admin_headers).is_success
    refused = client.delete(path, headers=admin_headers)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "schedule_in_use"
    assert "cancelled shifts" in refused.json()["error"]
    assert _exists(db, schedule.schedule_id)
    assert len(client.get(f"{path}/exceptions", headers=admin_headers).json()) == 1


def test_a_schedule_with_only_cancelled_bookings_is_refused(
    client: TestClient, db: Database, admin_headers: dict[str, str], clock: FrozenClock
) -> None:
    schedule = add_schedule(db)
    volunteer = add_user(db, "+27821230001", "Thandi")
    start = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)
    add_booking(db, schedule, volunteer, start, canceled_at=clock())
    refused = client.delete(f"/schedules/{schedule.schedule_id}", headers=admin_headers)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "schedule_has_bookings"
    assert _exists(db, schedule.schedule_id)


def test_a_schedule_nothing_refers_to_is_deleted(
    client: TestClient, db: Database, admin_headers: dict[str, str]
) -> None:
    schedule = add_schedule(db)
    other = add_schedule(db, name="Saturday patrol", cron_expr="0 18 * * SAT")
    add_member(db, "+27821230001", "Thandi")
    # Another schedule's call and cancelled shift do not hold this one.
    body = {"schedule_id": other.schedule_id, "start": "2025-05-03T18:00:00+02:00"}
    assert client.post("/roster/calls", json=body, headers=admin_headers).status_code == 201
    path = f"/schedules/{schedule.schedule_id}"
    assert client.get("/shifts/available", params={"schedule_id": schedule.schedule_id}).is_success
    assert client.delete(path, headers=admin_headers).status_code == 204
    assert not _exists(db, schedule.schedule_id)
    missing = client.get("/shifts/available", params={"schedule_id": schedule.schedule_id})
    assert missing.status_code == 404
    assert client.delete(path, headers=admin_headers).status_code == 404


def test_every_table_that_refers_to_schedules_is_one_the_rule_knows() -> None:
    """A new table with a foreign key to schedules must be added to the rule (and its words).
    `watchroster.app`, imported by the suite's fixtures, has loaded every model."""
    from watchroster.schedules.service import REFERRERS

    referring = {
        table.name
        for table in Base.metadata.tables.values()
        for key in table.foreign_keys
        if key.column.table.name == "schedules"
    }
    assert referring == set(REFERRERS)
