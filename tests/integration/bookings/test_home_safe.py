""" "Home safe" (issue #12 §5): the schedule's check-in setting, POST /bookings/{id}/safe, the
overdue list, and the coordinators' alert, exactly once with two runners and across a restart."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from tests.integration.bookings.conftest import FRIDAY, Member, Roster
from tests.support.factories import TEST_RULES, add_booking, add_schedule, add_user
from watchroster.bookings import home_safe
from watchroster.cli.periodic import periodic_jobs
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.jobs import JobRunner
from watchroster.outbox.models import OutboxMessage
from watchroster.runtime.context import AppContext
from watchroster.schedules.models import Schedule

SHIFT_END = datetime(2025, 5, 2, 19, 0, tzinfo=UTC)  # Friday 21:00 Africa/Johannesburg
DEADLINE = SHIFT_END + timedelta(minutes=45)


def _check_in(db: Database, schedule_id: int, minutes: int | None) -> None:
    with db.write() as session:
        schedule = session.get(Schedule, schedule_id)
        assert schedule is not None
        schedule.check_in_minutes = minutes


def _safe(roster: Roster, who: Member, booking_id: int) -> httpx.Response:
    response: httpx.Response = roster.client.post(
        f"/bookings/{booking_id}/safe", headers=who.headers
    )
    return response


def _overdue_ids(db: Database, now: datetime) -> list[int]:
    with db.read() as session:
        return [overdue.booking_id for overdue in home_safe.overdue_bookings(session, now)]


def _alerts(db: Database) -> list[OutboxMessage]:
    with db.read() as session:
        query = select(OutboxMessage).where(OutboxMessage.message_type == "home_safe_overdue")
        return list(session.scalars(query.order_by(OutboxMessage.outbox_id)))


# --- the schedule's setting ------------------------------------------------------------------


def test_check_in_minutes_on_the_schedules_api(roster: Roster, admin: Member) -> None:
    body = {"name": "Night", "cron_expr": "0 22 * * SAT", "duration_minutes": 240}
    created = roster.client.post("/schedules", json=body, headers=admin.headers).json()
    assert created["check_in_minutes"] is None
    path = f"/schedules/{created['schedule_id']}"
    on = roster.client.patch(path, json={"check_in_minutes": 30}, headers=admin.headers)
    assert on.status_code == 200 and on.json()["check_in_minutes"] == 30
    assert roster.client.get(path).json()["check_in_minutes"] == 30
    for bad in (4, 1441, "30", 2.5, True):
        refused = roster.client.patch(path, json={"check_in_minutes": bad}, headers=admin.headers)
        assert refused.status_code == 400, bad
        assert refused.json()["code"] == "validation_error"
    off = roster.client.patch(path, json={"check_in_minutes": None}, headers=admin.headers)
    assert off.status_code == 200 and off.json()["check_in_minutes"] is None
    with_check = {**body, "name": "Late night", "check_in_minutes": 1440}
    assert (
        roster.client.post("/schedules", json=with_check, headers=admin.headers).json()[
            "check_in_minutes"
        ]
        == 1440
    )


# --- saying "home safe" ----------------------------------------------------------------------


def test_home_safe_after_the_end_by_volunteer_or_buddy_once(
    roster: Roster, thandi: Member, sipho: Member, admin: Member
) -> None:
    booking_id = roster.booked(thandi, buddy_user_id=sipho.user_id)["booking_id"]
    other = roster.member("+27821234570", "Zodwa Other")
    roster.clock.now = SHIFT_END - timedelta(minutes=1)
    early = _safe(roster, thandi, booking_id)
    assert (early.status_code, early.json()["code"]) == (409, "shift_not_ended")
    roster.clock.now = SHIFT_END
    assert _safe(roster, other, booking_id).status_code == 403
    by_buddy = _safe(roster, sipho, booking_id)
    assert by_buddy.status_code == 200, by_buddy.text
    assert (by_buddy.json()["safe_at"], by_buddy.json()["safe_by"]) == (
        "2025-05-02T19:00:00+00:00",
        sipho.user_id,
    )
    roster.clock.advance(minutes=5)
    again = _safe(roster, thandi, booking_id)  # idempotent: the first word stands
    assert again.status_code == 200 and again.json() == by_buddy.json()
    detail = roster.client.get(f"/bookings/{booking_id}", headers=thandi.headers).json()
    assert detail["safe_by"] == sipho.user_id
    assert _safe(roster, admin, booking_id).status_code == 200
    missing = roster.client.post("/bookings/999999/safe", headers=thandi.headers)
    assert missing.status_code == 404


def test_no_home_safe_on_a_cancelled_booking(roster: Roster, thandi: Member) -> None:
    booking_id = roster.booked(thandi)["booking_id"]
    roster.client.delete(f"/bookings/{booking_id}", headers=thandi.headers)
    roster.clock.now = SHIFT_END
    refused = _safe(roster, thandi, booking_id)
    assert (refused.status_code, refused.json()["code"]) == (409, "booking_canceled")


# --- overdue and the alert -------------------------------------------------------------------


def test_overdue_from_the_deadline_until_someone_is_safe(roster: Roster, thandi: Member) -> None:
    booking_id = roster.booked(thandi)["booking_id"]
    db = roster.db
    assert _overdue_ids(db, DEADLINE) == []  # the schedule has no check
    _check_in(db, roster.schedule.schedule_id, 45)
    assert _overdue_ids(db, DEADLINE - timedelta(seconds=1)) == []
    assert _overdue_ids(db, DEADLINE) == [booking_id]
    with db.read() as session:
        [overdue] = home_safe.overdue_bookings(session, DEADLINE)
    assert (overdue.first_name, overdue.deadline, overdue.alerted) == ("Thandi", DEADLINE, False)
    assert _overdue_ids(db, DEADLINE + home_safe.HORIZON) == []  # history by then
    roster.clock.now = DEADLINE + timedelta(hours=1)
    assert _safe(roster, thandi, booking_id).status_code == 200  # late, still counts
    assert _overdue_ids(db, roster.clock.now) == []


def test_one_alert_per_coordinator_naming_shift_first_name_and_phone(
    roster: Roster, thandi: Member, admin: Member
) -> None:
    second_admin = roster.member("+27821234571", "Bongani Admin", role="admin")
    _check_in(roster.db, roster.schedule.schedule_id, 45)
    booking_id = roster.booked(thandi)["booking_id"]
    with roster.db.write() as session:
        assert (
            home_safe.queue_overdue_alerts(
                session, DEADLINE - timedelta(seconds=1), TEST_RULES.buddy
            )
            == 0
        )
    with roster.db.write() as session:
        assert home_safe.queue_overdue_alerts(session, DEADLINE, TEST_RULES.buddy) == 1
    with roster.db.write() as session:
        assert (
            home_safe.queue_overdue_alerts(
                session, DEADLINE + timedelta(minutes=1), TEST_RULES.buddy
            )
            == 0
        )
    alerts = _alerts(roster.db)
    assert [a.recipient for a in alerts] == ["+27821234569", "+27821234571"]
    assert [a.dedupe_key for a in alerts] == [
        f"booking:{booking_id}:overdue:{admin.user_id}",
        f"booking:{booking_id}:overdue:{second_admin.user_id}",
    ]
    assert alerts[0].payload["body"] == (
        "Home safe check overdue: nobody on Friday patrol, Fri 2 May 18:00-21:00 has said they "
        "got home. Call Thandi (+27821234567)."
    )
    with roster.db.read() as session:
        [overdue] = home_safe.overdue_bookings(session, DEADLINE)
    assert overdue.alerted  # the roster still shows it, as alerted


def test_no_alert_when_safe_in_time_cancelled_or_without_check(
    roster: Roster, thandi: Member, sipho: Member, admin: Member
) -> None:
    _check_in(roster.db, roster.schedule.schedule_id, 45)
    safe = roster.booked(thandi)["booking_id"]
    cancelled = roster.booked(sipho, "2025-05-09T18:00:00+02:00")["booking_id"]
    roster.client.delete(f"/bookings/{cancelled}", headers=sipho.headers)
    roster.clock.now = SHIFT_END + timedelta(minutes=10)
    assert _safe(roster, thandi, safe).status_code == 200
    for now in (DEADLINE, DEADLINE + timedelta(days=7)):
        with roster.db.write() as session:
            assert home_safe.queue_overdue_alerts(session, now, TEST_RULES.buddy) == 0
    assert _alerts(roster.db) == []


def test_a_dst_night_in_london(db: Database, settings: Settings) -> None:
    """Europe/London springs forward at 01:00 UTC on 2025-03-30: a shift from 00:00 GMT lasting
    an hour ends at 02:00 BST; the deadline is 30 real minutes after, at 01:30 UTC."""
    schedule = add_schedule(
        db, name="Night", cron_expr="0 0 * * SUN", timezone="Europe/London", duration_minutes=60
    )
    _check_in(db, schedule.schedule_id, 30)
    volunteer = add_user(db, "+447700900123", "Olive Walker")
    add_user(db, "+27821234569", "Anna Admin", role="admin")
    start = datetime(2025, 3, 30, 0, 0, tzinfo=UTC)
    add_booking(db, schedule, volunteer, start, created_at=start - timedelta(days=1))
    deadline = datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    with db.write() as session:
        assert (
            home_safe.queue_overdue_alerts(
                session, deadline - timedelta(seconds=1), TEST_RULES.buddy
            )
            == 0
        )
        assert home_safe.queue_overdue_alerts(session, deadline, TEST_RULES.buddy) == 1
    [alert] = _alerts(db)
    assert "Night, Sun 30 Mar 00:00-02:00" in alert.payload["body"]
    assert "Call Olive (+447700900123)" in alert.payload["body"]


# --- exactly once: two runners, a restart ------------------------------------------------------


def _worker(settings: Settings, url: str, clock: FrozenClock) -> tuple[AppContext, Database]:
    """A worker as a separate process would have it: its own engine and connections."""
    database = Database(url)
    return AppContext(settings=settings, db=database, clock=clock), database


@pytest.mark.slow
def test_two_runners_racing_and_a_restart_alert_once(
    roster: Roster, thandi: Member, sipho: Member, admin: Member
) -> None:
    _check_in(roster.db, roster.schedule.schedule_id, 45)
    first = roster.booked(thandi)["booking_id"]
    evening = add_schedule(roster.db, name="Evening patrol", cron_expr="0 18 * * FRI")
    _check_in(roster.db, evening.schedule_id, 45)
    second = roster.booked(sipho, schedule_id=evening.schedule_id)["booking_id"]
    clock = FrozenClock(DEADLINE)
    workers = [_worker(roster.settings, roster.db.url, clock) for _ in range(3)]
    # Two workers run the job body at the same instant, past the JobRunner's claim of the
    # minute: only the conditional UPDATE stands between them and a second alert.
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def run(context: AppContext) -> None:
        barrier.wait()
        with context.db.write() as session:
            counts.append(home_safe.queue_overdue_alerts(session, clock(), context.rules.buddy))

    threads = [threading.Thread(target=run, args=(context,)) for context, _ in workers[:2]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(counts) == 2, counts
    # The worker way: registered with the worker, two runners on one minute, then a restart.
    [job] = [job for job in periodic_jobs() if job.name == home_safe.OVERDUE_JOB]
    runners = [
        JobRunner(context, worker_id=f"w{i}", jobs=[job]) for i, (context, _) in enumerate(workers)
    ]
    clock.advance(minutes=1)
    assert sorted(len(runner.run_due()) for runner in runners[:2]) == [0, 1]
    clock.advance(minutes=10)
    assert runners[2].run_due() == [(home_safe.OVERDUE_JOB, "2025-05-02T19:56")]
    for _, database in workers:
        database.dispose()
    alerts = _alerts(roster.db)
    assert sorted(str(a.dedupe_key) for a in alerts) == sorted(
        f"booking:{booking_id}:overdue:{admin.user_id}" for booking_id in (first, second)
    )


@pytest.mark.parametrize("minutes", [5, 1440])
def test_the_range_ends_are_accepted(roster: Roster, admin: Member, minutes: int) -> None:
    path = f"/schedules/{roster.schedule.schedule_id}"
    response = roster.client.patch(path, json={"check_in_minutes": minutes}, headers=admin.headers)
    assert response.status_code == 200 and response.json()["check_in_minutes"] == minutes


def test_the_booking_starts_without_a_safe_mark(roster: Roster, thandi: Member) -> None:
    created = roster.booked(thandi, FRIDAY)
    assert (created["safe_at"], created["safe_by"]) == (None, None)
