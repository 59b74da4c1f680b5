"""Reminders and the coverage alert: the job functions, and exactly-once through the JobRunner."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.support.factories import add_schedule, add_user
from watchroster.auth.models import User
from watchroster.bookings import jobs
from watchroster.bookings.models import Booking
from watchroster.cli.periodic import periodic_jobs
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.jobs import JobRunner
from watchroster.outbox.models import OutboxMessage
from watchroster.runtime.context import AppContext

SHIFT = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)  # Friday 18:00 Africa/Johannesburg
BOOKED_AT = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)  # 32 h before


def _book(
    db: Database, user: User, *, created_at: datetime = BOOKED_AT, start: datetime = SHIFT
) -> int:
    schedule_id = _schedule_id(db)
    with db.write() as session:
        booking = Booking(
            user_id=user.user_id,
            schedule_id=schedule_id,
            shift_start=start,
            shift_end=start + timedelta(hours=3),
            created_at=created_at,
        )
        session.add(booking)
        session.flush()
        return booking.booking_id


def _schedule_id(db: Database) -> int:
    with db.read() as session:
        from watchroster.schedules.models import Schedule

        found = session.scalar(select(Schedule.schedule_id).limit(1))
    return found if found is not None else add_schedule(db).schedule_id


def _reminders_at(db: Database, now: datetime) -> int:
    with db.write() as session:
        return jobs.queue_due_reminders(session, [24, 2], now)


def _outbox(db: Database, message_type: str) -> list[OutboxMessage]:
    with db.read() as session:
        query = select(OutboxMessage).where(OutboxMessage.message_type == message_type)
        return list(session.scalars(query.order_by(OutboxMessage.outbox_id)))


def test_reminders_are_queued_once_per_lead_when_due(db: Database) -> None:
    user = add_user(db, "+27821234567", "Thandi")
    booking_id = _book(db, user)
    assert _reminders_at(db, SHIFT - timedelta(hours=24, seconds=1)) == 0
    assert _reminders_at(db, SHIFT - timedelta(hours=24)) == 1
    assert _reminders_at(db, SHIFT - timedelta(hours=23)) == 0  # already queued
    assert _reminders_at(db, SHIFT - timedelta(hours=2)) == 1
    assert _reminders_at(db, SHIFT) == 0
    sent = _outbox(db, "shift_reminder")
    assert [m.dedupe_key for m in sent] == [
        f"booking:{booking_id}:reminder:24h",
        f"booking:{booking_id}:reminder:2h",
    ]
    assert sent[1].recipient == "+27821234567"
    assert sent[1].expires_at == SHIFT
    assert sent[1].payload["body"] == (
        "Reminder: your patrol shift Friday patrol, Fri 2 May 18:00-21:00 starts in about 2 h."
    )


def test_no_reminder_whose_time_passed_before_the_booking(db: Database) -> None:
    user = add_user(db, "+27821234567")
    late = _book(db, user, created_at=SHIFT - timedelta(hours=10))
    tomorrow = SHIFT + timedelta(days=1)
    _book(
        db, add_user(db, "+27821234568"), created_at=tomorrow - timedelta(hours=1), start=tomorrow
    )
    _reminders_at(db, SHIFT - timedelta(hours=9))
    _reminders_at(db, SHIFT - timedelta(hours=2))
    _reminders_at(db, tomorrow - timedelta(minutes=30))
    assert [m.dedupe_key for m in _outbox(db, "shift_reminder")] == [f"booking:{late}:reminder:2h"]


def test_after_an_outage_only_the_latest_reminder_goes_out(db: Database) -> None:
    user = add_user(db, "+27821234567")
    booking_id = _book(db, user)
    assert _reminders_at(db, SHIFT - timedelta(hours=1)) == 1
    assert _reminders_at(db, SHIFT - timedelta(minutes=30)) == 0
    assert [m.dedupe_key for m in _outbox(db, "shift_reminder")] == [
        f"booking:{booking_id}:reminder:2h"
    ]


def test_no_reminders_for_cancelled_bookings_or_users_who_opted_out(db: Database) -> None:
    quiet = add_user(db, "+27821234567")
    cancelled_owner = add_user(db, "+27821234568")
    _book(db, quiet)
    cancelled = _book(db, cancelled_owner, start=SHIFT + timedelta(days=1) - timedelta(hours=20))
    with db.write() as session:
        user = session.get(User, quiet.user_id)
        booking = session.get(Booking, cancelled)
        assert user is not None and booking is not None
        user.reminders = False
        booking.canceled_at = BOOKED_AT
    assert _reminders_at(db, SHIFT - timedelta(hours=2)) == 0
    assert _outbox(db, "shift_reminder") == []


def test_coverage_alert_lists_open_slots_to_active_admins(db: Database, settings: Settings) -> None:
    add_schedule(db)
    admin = add_user(db, "+27821234569", "Anna", role="admin")
    add_user(db, "+27821234570", "Volunteer")
    gone = add_user(db, "+27821234571", "Gone", role="admin")
    with db.write() as session:
        row = session.get(User, gone.user_id)
        assert row is not None
        row.active = False
    now = BOOKED_AT  # 10:00 local on Thursday: the next 48 h hold Friday's shift
    with db.write() as session:
        assert jobs.queue_coverage_alert(session, now, 48, "2025-05-01") == 1
    [alert] = _outbox(db, "coverage_alert")
    assert (alert.recipient, alert.dedupe_key) == (
        "+27821234569",
        f"coverage:2025-05-01:{admin.user_id}",
    )
    assert alert.payload["body"] == (
        "Roster gaps: 1 unbooked shift in the next 48 h: Friday patrol Fri 2 May 18:00."
    )
    with db.write() as session:  # the same day again: nothing new
        assert jobs.queue_coverage_alert(session, now, 48, "2025-05-01") == 0


def test_no_coverage_alert_when_every_slot_is_booked(db: Database) -> None:
    add_schedule(db)
    add_user(db, "+27821234569", "Anna", role="admin")
    _book(db, add_user(db, "+27821234567"))
    with db.write() as session:
        assert jobs.queue_coverage_alert(session, BOOKED_AT, 48, "2025-05-01") == 0


def test_coverage_run_key_follows_local_time(settings: Settings, db: Database) -> None:
    context = AppContext(settings=settings, db=db)
    [coverage] = [job for job in periodic_jobs() if job.name == "coverage_alert"]
    # 08:00 in Johannesburg is 06:00Z.
    assert coverage.run_key(context, datetime(2025, 5, 1, 5, 59, tzinfo=UTC)) is None
    assert coverage.run_key(context, datetime(2025, 5, 1, 6, 0, tzinfo=UTC)) == "2025-05-01"
    assert coverage.run_key(context, datetime(2025, 5, 1, 21, 59, tzinfo=UTC)) == "2025-05-01"
    # 00:30 local on the 2nd: a new local day, not yet 08:00.
    assert coverage.run_key(context, datetime(2025, 5, 1, 22, 30, tzinfo=UTC)) is None
    assert coverage.run_key(context, datetime(2025, 5, 2, 9, 0, tzinfo=UTC)) == "2025-05-02"


# --- through the JobRunner -----------------------------------------------------------------


def _runner(
    settings: Settings, db_url: str, clock: FrozenClock, name: str
) -> tuple[JobRunner, Database]:
    """A worker as a separate process would have it: its own engine and connections."""
    database = Database(db_url)
    context = AppContext(settings=settings, db=database, clock=clock)
    return JobRunner(context, worker_id=name, jobs=jobs.BOOKING_JOBS), database


@pytest.mark.slow
def test_two_workers_and_a_restart_send_each_message_once(db: Database, settings: Settings) -> None:
    add_schedule(db)
    add_schedule(db, name="Nightly", cron_expr="0 22 * * *", duration_minutes=60)
    admin = add_user(db, "+27821234569", "Anna", role="admin")
    booking_id = _book(db, add_user(db, "+27821234567"))
    clock = FrozenClock(SHIFT - timedelta(hours=2))  # 16:00 local: the 2 h reminder is due
    workers = [_runner(settings, db.url, clock, f"worker-{i}") for i in range(2)]
    barrier = threading.Barrier(2)
    ran: list[tuple[str, str]] = []

    def run(runner: JobRunner) -> None:
        barrier.wait()
        ran.extend(runner.run_due())

    threads = [threading.Thread(target=run, args=(runner,)) for runner, _ in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(ran) == [
        ("booking_reminders", "2025-05-02T14:00"),
        ("coverage_alert", "2025-05-02"),
    ]
    # A restarted worker remembers nothing; a minute later the reminder job runs again.
    restarted, restarted_db = _runner(settings, db.url, clock, "worker-restarted")
    assert restarted.run_due() == []
    clock.advance(minutes=1)
    assert restarted.run_due() == [("booking_reminders", "2025-05-02T14:01")]
    for _, database in [*workers, (restarted, restarted_db)]:
        database.dispose()
    assert [m.dedupe_key for m in _outbox(db, "shift_reminder")] == [
        f"booking:{booking_id}:reminder:2h"
    ]
    assert [m.dedupe_key for m in _outbox(db, "coverage_alert")] == [
        f"coverage:2025-05-02:{admin.user_id}"
    ]
