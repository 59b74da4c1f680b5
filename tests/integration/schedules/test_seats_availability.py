"""GET /shifts/available with several seats per shift: `seats`, `seats_left`, listed while a seat
is free, and the roster view's holders (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.support.auth import bearer, issue_token
from tests.support.factories import add_booking, add_schedule, add_user
from watchroster.bookings.models import Booking
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.schedules.availability import SlotQuery, open_slots, open_slots_json
from watchroster.schedules.models import Schedule
from watchroster.schedules.slot_cache import SlotCache

MAY = {"from": "2025-05-01", "to": "2025-05-31"}
NOW = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)  # the `clock` fixture's time
FRIDAYS = [datetime(2025, 5, day, 16, 0, tzinfo=UTC) for day in (2, 9, 16, 23, 30)]


def _slots(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/shifts/available", params={**MAY, **params.pop("query", {})}, **params)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


_PHONES = itertools.count(1)


def _book_seats(db: Database, schedule: Schedule, start: datetime, names: list[str]) -> None:
    """One new volunteer per name, on seats 1, 2, … of the slot."""
    for seat, name in enumerate(names, start=1):
        user = add_user(db, f"+2782130{next(_PHONES):04d}", name)
        add_booking(db, schedule, user, start, seat=seat)


def test_slots_show_their_seats_and_stay_listed_while_one_is_free(
    client: TestClient, db: Database
) -> None:
    teams = add_schedule(db, name="Teams", seats=3)
    _book_seats(db, teams, FRIDAYS[0], ["Thandi Mokoena", "Sipho Dlamini"])
    _book_seats(db, teams, FRIDAYS[1], ["Anna Smit", "Pieter Botha", "Lindiwe Khumalo"])
    slots = _slots(client)
    assert [(s["start_time"][:10], s["seats"], s["seats_left"]) for s in slots] == [
        ("2025-05-02", 3, 1),
        ("2025-05-16", 3, 3),
        ("2025-05-23", 3, 3),
        ("2025-05-30", 3, 3),
    ]
    assert all(s["available"] is True for s in slots)
    assert slots[0] == {
        "schedule_id": teams.schedule_id,
        "schedule_name": "Teams",
        "start_time": "2025-05-02T18:00:00+02:00",
        "end_time": "2025-05-02T21:00:00+02:00",
        "available": True,
        "seats": 3,
        "seats_left": 1,
    }


def test_one_seat_slots_read_as_before_with_seats_one(client: TestClient, db: Database) -> None:
    solo = add_schedule(db)
    _book_seats(db, solo, FRIDAYS[0], ["Thandi Mokoena"])
    slots = _slots(client)
    assert [s["start_time"][:10] for s in slots] == [
        "2025-05-09",
        "2025-05-16",
        "2025-05-23",
        "2025-05-30",
    ]
    assert all(s["seats"] == 1 and s["seats_left"] == 1 and s["available"] for s in slots)


def test_the_roster_view_names_who_holds_each_seat(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    teams = add_schedule(db, name="Teams", seats=3)
    _book_seats(db, teams, FRIDAYS[0], ["Thandi Mokoena", "Sipho Dlamini", "Anna Smit"])
    _book_seats(db, teams, FRIDAYS[1], ["Pieter Botha"])
    viewer = add_user(db, "+27820000001", "Viewer")
    headers = bearer(issue_token(db, settings, viewer, clock))
    roster = _slots(client, query={"include_booked": "true"}, headers=headers)
    first, second = roster[0], roster[1]
    assert first["available"] is False and first["seats_left"] == 0
    assert first["booked_by"] == "Thandi"
    assert first["holders"] == [
        {"seat": 1, "first_name": "Thandi"},
        {"seat": 2, "first_name": "Sipho"},
        {"seat": 3, "first_name": "Anna"},
    ]
    assert second["available"] is True and second["seats_left"] == 2
    assert second["holders"] == [{"seat": 1, "first_name": "Pieter"}]
    assert roster[2]["holders"] == [] and roster[2]["booked_by"] is None
    assert "Mokoena" not in str(roster) and "+2782" not in str(roster)


def test_a_cancelled_booking_frees_its_seat(client: TestClient, db: Database) -> None:
    teams = add_schedule(db, name="Teams", seats=2)
    _book_seats(db, teams, FRIDAYS[0], ["Thandi Mokoena", "Sipho Dlamini"])
    assert _slots(client)[0]["start_time"][:10] == "2025-05-09"
    with db.write() as session:
        session.execute(update(Booking).where(Booking.seat == 2).values(canceled_at=NOW))
    first = _slots(client)[0]
    assert (first["start_time"][:10], first["seats_left"]) == ("2025-05-02", 1)


def test_the_prerendered_json_matches_the_rendered_dicts(db: Database) -> None:
    """The open list joins cached JSON and patches `seats_left` in place for slots partly
    booked; it must say exactly what rendering each slot would."""
    teams = add_schedule(db, name='Teams "A" 3', seats=3, cron_expr="0 18 * * *")
    add_schedule(db, name="Solo", cron_expr="0 18 * * *")
    for offset, count in ((0, 1), (1, 2), (2, 3), (4, 1)):
        start = datetime(2025, 5, 1, 16, tzinfo=UTC) + timedelta(days=offset)
        _book_seats(db, teams, start, [f"Volunteer {n}" for n in range(count)])
    query = SlotQuery(datetime(2025, 5, 1, tzinfo=UTC), datetime(2025, 5, 10, tzinfo=UTC), 100)
    with db.read() as session:
        body = open_slots_json(session, query, NOW, SlotCache())
        dicts = open_slots(session, query, NOW, SlotCache())
    assert json.loads(body) == dicts
    left = [s["seats_left"] for s in dicts if s["schedule_id"] == teams.schedule_id]
    assert left[:5] == [2, 1, 3, 2, 3]  # 3 May is full: not listed
