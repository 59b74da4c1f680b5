"""A small roster for booking tests: one Friday-evening schedule and members with tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.support.auth import bearer, issue_token
from tests.support.factories import add_schedule, add_user
from watchroster.auth.models import User
from watchroster.bookings.models import Booking
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.models import OutboxMessage
from watchroster.schedules.models import Schedule

# The default schedule: Fridays 18:00-21:00 Africa/Johannesburg (UTC+2). The clock starts on
# Thursday 2025-05-01 10:00 local, so FRIDAY is the next shift and has not started.
FRIDAY = "2025-05-02T18:00:00+02:00"
NEXT_FRIDAY = "2025-05-09T18:00:00+02:00"


@dataclass
class Member:
    user: User
    headers: dict[str, str]

    @property
    def user_id(self) -> int:
        return self.user.user_id


@dataclass
class Roster:
    client: TestClient
    db: Database
    settings: Settings
    clock: FrozenClock
    schedule: Schedule

    def member(self, phone: str, name: str | None = None, role: str = "volunteer") -> Member:
        user = add_user(self.db, phone, name, role=role)
        return Member(user, bearer(issue_token(self.db, self.settings, user, self.clock)))

    def book(
        self, who: Member, start: str = FRIDAY, schedule_id: int | None = None, **extra: Any
    ) -> httpx.Response:
        body = {"schedule_id": schedule_id or self.schedule.schedule_id, "start_time": start}
        response: httpx.Response = self.client.post(
            "/bookings", json={**body, **extra}, headers=who.headers
        )
        return response

    def booked(self, who: Member, start: str = FRIDAY, **extra: Any) -> dict[str, Any]:
        response = self.book(who, start, **extra)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def messages(self, message_type: str | None = None) -> list[OutboxMessage]:
        query = select(OutboxMessage).order_by(OutboxMessage.outbox_id)
        if message_type is not None:
            query = query.where(OutboxMessage.message_type == message_type)
        with self.db.read() as session:
            return list(session.scalars(query))

    def count_bookings(self, *, active_only: bool = False) -> int:
        query = select(func.count()).select_from(Booking)
        if active_only:
            query = query.where(Booking.canceled_at.is_(None))
        with self.db.read() as session:
            return int(session.scalar(query) or 0)


@pytest.fixture
def roster(client: TestClient, db: Database, settings: Settings, clock: FrozenClock) -> Roster:
    return Roster(client, db, settings, clock, add_schedule(db))


@pytest.fixture
def thandi(roster: Roster) -> Member:
    return roster.member("+27821234567", "Thandi Mokoena")


@pytest.fixture
def sipho(roster: Roster) -> Member:
    return roster.member("+27821234568", "Sipho Dlamini")


@pytest.fixture
def admin(roster: Roster) -> Member:
    return roster.member("+27821234569", "Anna Admin", role="admin")
