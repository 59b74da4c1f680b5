"""Issue #21 §2: the alert caps hold when reports arrive at once (SQLite and PostgreSQL).

Two transactions filing for the same reporter on two bookings: the second waits for the first
and sees its alert. And bursts against a real server, each request on its own connection:
one alert per booking, three per reporter, however many reports arrive together.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI

from tests.integration.bookings.races import members, race_requests
from tests.support.factories import add_booking, add_schedule, add_user
from tests.support.server import running_server
from watchroster.auth.deps import Principal
from watchroster.auth.models import User
from watchroster.bookings import service
from watchroster.bookings.messages import INCIDENT_ALERT
from watchroster.bookings.models import Report
from watchroster.bookings.schemas import ReportCreate
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.core.rules import AlertRules
from watchroster.db.engine import Database
from watchroster.outbox.models import OutboxMessage

# Long enough for the second transaction to reach its lock wait; it must still be waiting then.
HOLD_SECONDS = 0.5
SERIOUS = ReportCreate(severity=2, message="Break-in at no. 12")


def _alerts(db: Database) -> int:
    with db.read() as session:
        query = session.query(OutboxMessage).filter(OutboxMessage.message_type == INCIDENT_ALERT)
        return query.count()


def _in_thread(work: Callable[[], bool]) -> tuple[threading.Thread, list[object]]:
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_two_reports_at_once_cannot_both_pass_the_daily_cap(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    schedule = add_schedule(db, cron_expr="0 8 * * *")
    add_user(db, "+27821234569", "Anna Admin", role="admin")
    user = add_user(db, "+27821234567", "Thandi Mokoena")
    caller = Principal(user.user_id, "volunteer", user.name, user.phone, session_id=0)
    starts = [clock() - timedelta(hours=1 + 4 * index) for index in range(4)]
    bookings = [add_booking(db, schedule, user, start).booking_id for start in starts]
    rules = AlertRules.of(settings)

    def file(booking_id: int) -> bool:
        with db.write() as session:
            report = service.file_report(session, caller, booking_id, SERIOUS, clock(), rules)
            return report.alert_suppressed

    assert [file(bookings[0]), file(bookings[1])] == [False, False]  # two of three used
    with db.write() as session:  # the third, held open
        report = service.file_report(session, caller, bookings[2], SERIOUS, clock(), rules)
        assert report.alert_suppressed is False
        second, outcome = _in_thread(lambda: file(bookings[3]))
        second.join(HOLD_SECONDS)
        assert second.is_alive(), "the second report waits for the first to commit"
    second.join(10)
    assert outcome == [True], "the second saw the third alert and held its own back"
    assert _alerts(db) == 3


def _burst(app: FastAPI, requests: list[tuple[str, int]]) -> list[int]:
    """POST a serious report per (token, booking id), all at once; the statuses."""
    body = {"severity": 2, "message": "Suspicious car"}
    calls = [
        ("POST", f"/bookings/{booking_id}/report", body, {"Authorization": f"Bearer {token}"})
        for token, booking_id in requests
    ]
    with running_server(app) as base_url:
        return [response.status_code for response in race_requests(base_url, calls)]


def _member(db: Database, index: int) -> User:
    """The `index`th volunteer `members` wrote."""
    with db.read() as session:
        return session.query(User).filter(User.phone == f"+2782{5000000 + index:07d}").one()


def test_a_burst_on_one_booking_alerts_once(
    app: FastAPI, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    add_user(db, "+27821234569", "Anna Admin", role="admin")
    tokens = members(db, settings, clock, 2)  # the volunteer, and her registered buddy
    owner, buddy = _member(db, 0), _member(db, 1)
    schedule = add_schedule(db, cron_expr="0 8 * * *")
    start = clock() - timedelta(hours=1)
    booking = add_booking(db, schedule, owner, start, buddy_user_id=buddy.user_id).booking_id
    statuses = _burst(app, [(tokens[index % 2], booking) for index in range(16)])
    assert statuses == [201] * 16
    assert _alerts(db) == 1
    with db.read() as session:
        flags = [flag for (flag,) in session.query(Report.alert_suppressed)]
    assert sorted(flags) == [False] + [True] * 15


def test_a_burst_on_many_bookings_alerts_three_times(
    app: FastAPI, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    add_user(db, "+27821234569", "Anna Admin", role="admin")
    [token] = members(db, settings, clock, 1)
    schedule, owner = add_schedule(db, cron_expr="0 8 * * *"), _member(db, 0)
    starts = [clock() - timedelta(hours=1, minutes=index) for index in range(8)]
    bookings = [add_booking(db, schedule, owner, start).booking_id for start in starts]
    assert _burst(app, [(token, booking) for booking in bookings]) == [201] * 8
    assert _alerts(db) == 3
