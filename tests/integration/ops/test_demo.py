"""`watchroster demo` (run by `make run` at every start) loads only into an empty database."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from tests.support.factories import add_user
from watchroster.cli.demo import demo_schedules, load_demo
from watchroster.db.engine import Database
from watchroster.schedules.models import Schedule
from watchroster.schedules.service import deactivate_schedule, delete_schedule

TODAY = date(2025, 5, 1)
ZONE = "Africa/Johannesburg"


def schedule_names(db: Database) -> dict[str, bool]:
    with db.read() as session:
        return {row.name: row.active for row in session.scalars(select(Schedule))}


def test_the_demo_loads_once_and_never_brings_back_what_a_coordinator_removed(
    db: Database,
) -> None:
    expected = [data.name for data in demo_schedules(TODAY)]
    with db.write() as session:
        assert load_demo(session, ZONE, TODAY) == expected
    with db.write() as session:
        assert load_demo(session, ZONE, TODAY) == []
    with db.read() as session:
        ids = [row.schedule_id for row in session.scalars(select(Schedule))]
    with db.write() as session:
        delete_schedule(session, ids[0], datetime(2025, 5, 1, 8, 0, tzinfo=UTC))
        deactivate_schedule(session, ids[1])
    with db.write() as session:
        assert load_demo(session, ZONE, TODAY) == []
    assert schedule_names(db) == {expected[1]: False, expected[2]: True}


def test_a_database_with_users_but_no_schedules_gets_no_demo(db: Database) -> None:
    add_user(db, "+27821230001", "Coordinator", role="admin")
    with db.write() as session:
        assert load_demo(session, ZONE, TODAY) == []
    assert schedule_names(db) == {}
