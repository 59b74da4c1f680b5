"""`buddy_busy` under concurrency, against a real server on SQLite and PostgreSQL: many
volunteers naming one buddy for the same evening (and the buddy booking it themselves) leave
that buddy on exactly one shift."""

from __future__ import annotations

from collections import Counter

import pytest
from fastapi import FastAPI
from sqlalchemy import func, or_, select

from tests.integration.bookings.conftest import FRIDAY
from tests.integration.bookings.races import members, race_on_server, scalar
from tests.support.factories import add_schedule
from watchroster.auth.models import User
from watchroster.bookings.models import Booking
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database


@pytest.mark.slow
def test_ten_volunteers_naming_one_buddy_and_the_buddy_booking_leave_one_shift(
    app: FastAPI, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    schedule_ids = [add_schedule(db, name=f"Patrol {index}").schedule_id for index in range(11)]
    tokens = members(db, settings, clock, 11)
    buddy_token, namers = tokens[0], tokens[1:]
    with db.read() as session:
        buddy_id = session.scalar(select(User.user_id).where(User.phone == "+27825000000"))
    assert buddy_id is not None
    bodies = [(buddy_token, {"schedule_id": schedule_ids[0], "start_time": FRIDAY})]
    bodies += [
        (token, {"schedule_id": sid, "start_time": FRIDAY, "buddy_user_id": buddy_id})
        for token, sid in zip(namers, schedule_ids[1:], strict=True)
    ]
    responses, statuses = race_on_server(app, bodies)
    assert statuses == {201: 1, 409: 10}, statuses
    codes = Counter(r.json()["code"] for r in responses if r.status_code == 409)
    assert set(codes) <= {"buddy_busy", "overlap"}
    # The buddy is on exactly one active booking, as volunteer or as buddy.
    on_it = select(func.count()).where(
        or_(Booking.user_id == buddy_id, Booking.buddy_user_id == buddy_id)
    )
    assert scalar(db, on_it) == 1
    assert scalar(db, select(func.count()).select_from(Booking)) == 1
