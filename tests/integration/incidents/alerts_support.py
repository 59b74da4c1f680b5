"""Shifts under way for the alert tests (issue #21 §2): Thandi booked them with Sipho as her
registered buddy, and two coordinators are there to be alerted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.integration.bookings.conftest import Member, Roster
from tests.support.factories import add_booking, add_schedule
from watchroster.bookings.messages import INCIDENT_ALERT
from watchroster.bookings.models import Report
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.models import OutboxMessage

SERIOUS = {"severity": 2, "message": "Two men trying car doors on Main Road"}


@dataclass
class Shifts:
    roster: Roster
    thandi: Member
    sipho: Member
    admins: list[Member]
    # Thandi's bookings, soonest-ended last: the first is under way, each next one started
    # four hours earlier; all still open to reports (ended less than 24 h ago).
    bookings: list[int]

    def report(self, who: Member, booking_id: int, **body: Any) -> httpx.Response:
        path = f"/bookings/{booking_id}/report"
        response: httpx.Response = self.roster.client.post(
            path, json={**SERIOUS, **body}, headers=who.headers
        )
        return response

    def alerts(self) -> list[OutboxMessage]:
        return self.roster.messages(INCIDENT_ALERT)

    def reports(self) -> list[Report]:
        with self.roster.db.read() as session:
            return list(session.query(Report).order_by(Report.report_id))


@pytest.fixture
def roster(client: TestClient, db: Database, settings: Settings, clock: FrozenClock) -> Roster:
    """The bookings tests' roster (Fridays 18:00-21:00), imported by the test modules here."""
    return Roster(client, db, settings, clock, add_schedule(db))


def shifts_under_way(roster: Roster, count: int = 1) -> Shifts:
    thandi = roster.member("+27821234567", "Thandi Mokoena")
    sipho = roster.member("+27821234568", "Sipho Dlamini")
    admins = [
        roster.member("+27821234569", "Anna Admin", role="admin"),
        roster.member("+27821234570", "Bongani Coordinator", role="admin"),
    ]
    now = roster.clock()
    bookings = [
        add_booking(
            roster.db,
            roster.schedule,
            thandi.user,
            now - timedelta(hours=1 + 4 * index),
            buddy_user_id=sipho.user_id,
            buddy_name="Sipho Dlamini",
        ).booking_id
        for index in range(count)
    ]
    return Shifts(roster, thandi, sipho, admins, bookings)
