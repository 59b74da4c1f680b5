"""The authorization matrix, kept as data: every endpoint × every kind of caller.

Each feature lists its endpoints in `cases_<feature>.py` as `CASES`, added once to `ALL_CASES` in
`cases.py` (the matrix and the OpenAPI status test both run that list). A case names the callers
that may succeed; every other caller must be refused (401 for anonymous, 403 or 404 for a logged-in
caller), and any 2xx for a caller not listed fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.support.auth import bearer, issue_token
from tests.support.factories import add_booking, add_schedule, add_user
from watchroster.bookings.models import Report
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.schedules.models import ScheduleException

CALLERS = ("anonymous", "owner", "other", "buddy", "admin")
VOLUNTEERS = frozenset({"owner", "other", "buddy"})
EVERYONE_LOGGED_IN = frozenset({"owner", "other", "buddy", "admin"})
ADMIN_ONLY = frozenset({"admin"})
PUBLIC = frozenset(CALLERS)


@dataclass(frozen=True)
class Case:
    method: str
    # May use {schedule_id}, {booking_id}, {past_booking_id}, {owner_id}, {other_id}, {message_id},
    # {exception_id}, {past_exception_id}, {report_id}.
    path: str
    allowed: frozenset[str]
    json: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Scenario:
    """Who exists: an owner with a future and a past booking (buddy: a registered user), another
    volunteer and an admin; plus one schedule and one queued message."""

    ids: dict[str, int]
    tokens: dict[str, str]

    def headers(self, caller: str) -> dict[str, str]:
        return bearer(self.tokens[caller]) if caller in self.tokens else {}


def build_scenario(db: Database, settings: Settings, clock: FrozenClock) -> Scenario:
    from watchroster.outbox.service import queue_message

    schedule = add_schedule(db, cron_expr="0 18 * * *")
    owner = add_user(db, "+27821230001", "Owner Volunteer")
    other = add_user(db, "+27821230002", "Other Volunteer")
    buddy = add_user(db, "+27821230003", "Buddy Volunteer")
    admin = add_user(db, "+27821230004", "Admin Person", role="admin")
    future_start = datetime(2025, 5, 3, 16, 0, tzinfo=UTC)
    # Ended the evening before the clock: still open to reports (until 24 h after the end).
    past_start = datetime(2025, 4, 30, 16, 0, tzinfo=UTC)
    booking = add_booking(db, schedule, owner, future_start)
    past = add_booking(db, schedule, owner, past_start)
    with db.write() as session:
        for row in (booking, past):
            row = session.merge(row)
            row.buddy_user_id = buddy.user_id
        message_id = queue_message(
            session, message_type="test", recipient=owner.phone or "", body="hi", now=clock()
        )
        # Two cancelled shifts (helper E, issue #11 §2): one ahead (undo allowed), one past.
        cancelled = [
            ScheduleException(
                schedule_id=schedule.schedule_id,
                shift_start=start,
                reason="Storm",
                created_by_user_id=admin.user_id,
                created_at=clock(),
            )
            for start in (future_start + timedelta(days=1), past_start - timedelta(days=1))
        ]
        session.add_all(cancelled)
        session.flush()
        # An incident report on the past booking (helper G, the incident inbox).
        report = Report(
            booking_id=past.booking_id,
            user_id=owner.user_id,
            severity=2,
            message="Gate open",
            created_at=clock(),
        )
        session.add(report)
        session.flush()
    assert clock() > past_start + timedelta(hours=3)
    tokens = {
        name: issue_token(db, settings, user, clock)
        for name, user in (("owner", owner), ("other", other), ("buddy", buddy), ("admin", admin))
    }
    ids = {
        "schedule_id": schedule.schedule_id,
        "booking_id": booking.booking_id,
        "past_booking_id": past.booking_id,
        "owner_id": owner.user_id,
        "other_id": other.user_id,
        "message_id": message_id or 0,
        "exception_id": cancelled[0].exception_id,
        "past_exception_id": cancelled[1].exception_id,
        "report_id": report.report_id,
    }
    return Scenario(ids=ids, tokens=tokens)


def call(client: TestClient, scenario: Scenario, case: Case, caller: str) -> int:
    response = client.request(
        case.method,
        case.path.format(**scenario.ids),
        json=case.json,
        params=case.params,
        headers=scenario.headers(caller),
    )
    status: int = response.status_code
    return status


def check(status: int, case: Case, caller: str) -> None:
    if caller in case.allowed:
        assert status < 400 or status in (400, 404, 409), f"{caller}: {case.label} → {status}"
        return
    assert not 200 <= status < 300, f"{caller} must not succeed: {case.label} → {status}"
    expected = {401} if caller == "anonymous" else {403, 404}
    assert status in expected, f"{caller}: {case.label} → {status}, expected one of {expected}"
