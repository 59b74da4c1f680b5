"""Races against a real server, and all-or-nothing writes (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.integration.bookings.conftest import FRIDAY, Member, Roster
from tests.support.factories import add_schedule
from tests.support.server import running_server
from watchroster.auth.deps import TOKEN_PURPOSE
from watchroster.auth.models import AuthSession, User
from watchroster.bookings import messages
from watchroster.bookings.models import Booking
from watchroster.clock import FrozenClock
from watchroster.config import Settings
from watchroster.db import Database
from watchroster.outbox.models import OutboxMessage
from watchroster.outbox.service import queue_message
from watchroster.security import keyed_hash, new_session_token


def _members(db: Database, settings: Settings, clock: FrozenClock, count: int) -> list[str]:
    """`count` volunteers with a session token each, written in one transaction."""
    secret = settings.secret_key.get_secret_value()
    tokens = [new_session_token() for _ in range(count)]
    with db.write() as session:
        for index, token in enumerate(tokens):
            user = User(phone=f"+2782{5000000 + index:07d}", name=f"Volunteer {index}")
            session.add(user)
            session.flush()
            session.add(
                AuthSession(
                    user_id=user.user_id,
                    token_hash=keyed_hash(secret, TOKEN_PURPOSE, token),
                    created_at=clock(),
                    expires_at=clock() + timedelta(days=1),
                )
            )
    return tokens


def _race(base_url: str, bodies: list[tuple[str, dict[str, Any]]]) -> list[httpx.Response]:
    """One thread (and connection) per (token, body), all released at once by a barrier."""
    barrier = threading.Barrier(len(bodies))
    # One client shared by the threads (httpx clients are thread-safe): building one per thread
    # costs ~40 ms of CPU each, which would spread the "race" over seconds.
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=len(bodies))
    with httpx.Client(base_url=base_url, timeout=60, limits=limits) as http:

        def book(token: str, body: dict[str, Any]) -> httpx.Response:
            barrier.wait()
            return http.post("/bookings", json=body, headers={"Authorization": f"Bearer {token}"})

        with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
            return list(pool.map(lambda item: book(*item), bodies))


def _scalar(db: Database, query: Any) -> int:
    with db.read() as session:
        return int(session.scalar(query) or 0)


@pytest.mark.slow
def test_fifty_clients_race_for_one_slot(
    app: FastAPI, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    schedule = add_schedule(db)
    tokens = _members(db, settings, clock, 50)
    body = {"schedule_id": schedule.schedule_id, "start_time": FRIDAY}
    with running_server(app) as base_url:
        responses = _race(base_url, [(token, body) for token in tokens])
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 409: 49}
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"slot_taken"}
    assert _scalar(db, select(func.count()).select_from(Booking)) == 1
    confirmations = select(func.count()).where(OutboxMessage.message_type == "booking_confirmed")
    assert _scalar(db, confirmations) == 1


@pytest.mark.slow
def test_two_hundred_clients_on_twenty_slots(
    app: FastAPI, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    schedule = add_schedule(db, cron_expr="0 18 * * *")  # daily; the clock is 10:00 on May 1
    slots = [f"2025-05-{day:02d}T18:00:00+02:00" for day in range(1, 21)]
    chooser = random.Random(20250501)
    bodies = [
        (token, {"schedule_id": schedule.schedule_id, "start_time": chooser.choice(slots)})
        for token in _members(db, settings, clock, 200)
    ]
    with running_server(app) as base_url:
        responses = _race(base_url, bodies)
    statuses = Counter(response.status_code for response in responses)
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
    [token] = _members(db, settings, clock, 1)
    bodies = [(token, {"schedule_id": sid, "start_time": FRIDAY}) for sid in schedule_ids]
    with running_server(app) as base_url:
        responses = _race(base_url, bodies)
    assert Counter(response.status_code for response in responses) == {201: 1, 409: 9}
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"overlap"}
    assert _scalar(db, select(func.count()).select_from(Booking)) == 1


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
