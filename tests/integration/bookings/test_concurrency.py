"""Races against a real server, and all-or-nothing writes (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.integration.bookings.conftest import FRIDAY, Member, Roster
from tests.integration.bookings.races import members, race_on_server, random_evenings, scalar
from tests.support.factories import add_schedule
from watchroster.bookings import messages
from watchroster.bookings.models import Booking
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.models import OutboxMessage
from watchroster.outbox.service import queue_message


@pytest.mark.slow
def test_fifty_clients_race_for_one_slot(
    app: FastAPI, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    schedule = add_schedule(db)
    tokens = members(db, settings, clock, 50)
    body = {"schedule_id": schedule.schedule_id, "start_time": FRIDAY}
    responses, statuses = race_on_server(app, [(token, body) for token in tokens])
    assert statuses == {201: 1, 409: 49}
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"slot_taken"}
    assert scalar(db, select(func.count()).select_from(Booking)) == 1
    confirmations = select(func.count()).where(OutboxMessage.message_type == "booking_confirmed")
    assert scalar(db, confirmations) == 1


@pytest.mark.slow
def test_two_hundred_clients_on_twenty_slots(
    app: FastAPI, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    schedule = add_schedule(db, cron_expr="0 18 * * *")  # daily; the clock is 10:00 on May 1
    bodies = random_evenings(schedule.schedule_id, members(db, settings, clock, 200), 20250501)
    _, statuses = race_on_server(app, bodies)
    assert set(statuses) <= {201, 409}, statuses
    chosen = {body["start_time"] for _, body in bodies}
    with db.read() as session:
        owners = session.execute(
            select(Booking.shift_start, func.count()).group_by(Booking.shift_start)
        ).all()
    assert statuses[201] == len(owners) == len(chosen)
    assert all(count == 1 for _, count in owners)


@pytest.mark.slow
def test_one_volunteer_racing_for_overlapping_slots_gets_one(
    app: FastAPI, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    """Different schedules at the same time: no unique index can help, the overlap check must
    see the other request's booking (PostgreSQL: the caller's row is locked first)."""
    schedule_ids = [add_schedule(db, name=f"Patrol {index}").schedule_id for index in range(10)]
    [token] = members(db, settings, clock, 1)
    bodies = [(token, {"schedule_id": sid, "start_time": FRIDAY}) for sid in schedule_ids]
    responses, statuses = race_on_server(app, bodies)
    assert statuses == {201: 1, 409: 9}
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"overlap"}
    assert scalar(db, select(func.count()).select_from(Booking)) == 1


@pytest.fixture
def fail_on_buddy_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """The confirmation is queued for real; queueing the buddy's notice then blows up."""
    real: Callable[..., int | None] = queue_message

    def queue_or_fail(transaction: Any, **kwargs: Any) -> int | None:
        if kwargs["message_type"] == messages.BUDDY_BOOKED:
            raise RuntimeError("injected failure")
        return real(transaction, **kwargs)

    monkeypatch.setattr(messages, "queue_message", queue_or_fail)


@pytest.mark.usefixtures("fail_on_buddy_message")
def test_booking_and_its_messages_commit_together_or_not_at_all(
    roster: Roster, thandi: Member, sipho: Member, client: TestClient
) -> None:
    response = roster.book(thandi, buddy_user_id=sipho.user_id)
    assert response.status_code == 500
    assert roster.count_bookings() == 0
    assert roster.messages() == []
    # Without a buddy nothing fails, and both rows are there.
    assert roster.book(thandi).status_code == 201
    assert roster.count_bookings() == 1
    assert [m.message_type for m in roster.messages()] == ["booking_confirmed"]
