"""Races for the seats of several-seat shifts against a real server (SQLite and PostgreSQL),
with the harness of the one-seat races (`races.py`)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.integration.bookings.conftest import FRIDAY
from tests.integration.bookings.races import (
    members,
    race_on_server,
    race_requests,
    random_evenings,
    scalar,
)
from tests.support.auth import bearer, issue_token
from tests.support.factories import add_booking, add_schedule, add_user
from tests.support.server import running_server
from watchroster.bookings.models import Booking
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.models import OutboxMessage


@pytest.mark.slow
def test_fifty_clients_race_for_a_three_seat_slot(
    app: FastAPI, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    schedule = add_schedule(db, seats=3)
    tokens = members(db, settings, clock, 50)
    body = {"schedule_id": schedule.schedule_id, "start_time": FRIDAY}
    responses, statuses = race_on_server(app, [(token, body) for token in tokens])
    assert statuses == {201: 3, 409: 47}
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"slot_taken"}
    won = sorted(r.json()["seat"] for r in responses if r.status_code == 201)
    assert won == [1, 2, 3]
    with db.read() as session:
        rows = session.execute(select(Booking.seat, Booking.user_id)).all()
    assert sorted(seat for seat, _ in rows) == [1, 2, 3]
    assert len({user for _, user in rows}) == 3
    confirmations = select(func.count()).where(OutboxMessage.message_type == "booking_confirmed")
    assert scalar(db, confirmations) == 3


@pytest.mark.slow
def test_two_hundred_clients_on_twenty_two_seat_slots(
    app: FastAPI, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    schedule = add_schedule(db, cron_expr="0 18 * * *", seats=2)  # daily; now is 10:00 May 1
    bodies = random_evenings(schedule.schedule_id, members(db, settings, clock, 200), 20251130)
    responses, statuses = race_on_server(app, bodies)
    assert set(statuses) <= {201, 409}, statuses
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"slot_taken"}
    wanted = Counter(body["start_time"] for _, body in bodies)
    with db.read() as session:
        rows = session.execute(select(Booking.shift_start, Booking.seat)).all()
    owners = Counter(start for start, _ in rows)
    assert statuses[201] == len(rows)
    assert all(count <= 2 for count in owners.values())
    # Every slot that at least two clients wanted is full; one wanted by one client has one.
    assert sorted(owners.values()) == sorted(min(2, count) for count in wanted.values())
    seats_by_slot: dict[object, set[int]] = {}
    for start, seat in rows:
        seats_by_slot.setdefault(start, set()).add(seat)
    assert all(seats == set(range(1, len(seats) + 1)) for seats in seats_by_slot.values())


@pytest.mark.slow
def test_lowering_seats_while_volunteers_book_the_last_one(
    app: FastAPI, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    """A coordinator lowers 3 seats to 2 while ten volunteers race for seat 3 of a shift whose
    seats 1 and 2 are held: either the change wins (no third booking) or one booking does (the
    change is refused). Never both (PostgreSQL: the schedule row's locks; SQLite: one writer)."""
    schedule = add_schedule(db, cron_expr="0 18 * * *", seats=3)
    holders = [add_user(db, f"+2782000010{index}", f"Holder {index}") for index in range(2)]
    admin = add_user(db, "+27820000199", "Anna Admin", role="admin")
    admin_headers = bearer(issue_token(db, settings, admin, clock))
    tokens = members(db, settings, clock, 10)
    outcomes = []
    with running_server(app) as base_url, httpx.Client(base_url=base_url, timeout=60) as http:
        for day in range(2, 7):
            start = datetime(2025, 5, day, 16, 0, tzinfo=UTC)
            for seat, holder in enumerate(holders, start=1):
                add_booking(db, schedule, holder, start, seat=seat)
            path = f"/schedules/{schedule.schedule_id}"
            assert http.patch(path, json={"seats": 3}, headers=admin_headers).status_code == 200
            body = {"schedule_id": schedule.schedule_id, "start_time": start.isoformat()}
            lower = ("PATCH", path, {"seats": 2}, admin_headers)
            books = [("POST", "/bookings", body, {"Authorization": f"Bearer {t}"}) for t in tokens]
            responses = race_requests(base_url, [lower, *books])
            patched, booked = responses[0], responses[1:]
            statuses = Counter(response.status_code for response in booked)
            with db.read() as session:
                seats = session.scalars(
                    select(Booking.seat).where(
                        Booking.shift_start == start, Booking.canceled_at.is_(None)
                    )
                ).all()
            if patched.status_code == 200:
                assert statuses == {409: 10} and sorted(seats) == [1, 2]
            else:
                assert patched.json()["code"] == "seats_in_use"
                assert statuses == {201: 1, 409: 9} and sorted(seats) == [1, 2, 3]
            outcomes.append(patched.status_code)
    assert set(outcomes) <= {200, 409}
