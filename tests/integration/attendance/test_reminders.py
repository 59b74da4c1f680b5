"""The attendance reminder job on SQLite and PostgreSQL: one message per booking still
unrecorded 24 h after its end, never twice (two runners at once, a restart), never for a
cancelled or recorded booking, in the volunteer's language, with the booking's link."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.integration.attendance.support import past_booking
from tests.support.factories import add_schedule, add_user
from watchroster.attendance import jobs
from watchroster.attendance.messages import ATTENDANCE_REMINDER
from watchroster.auth.models import User
from watchroster.bookings.models import Booking
from watchroster.cli.periodic import periodic_jobs
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.jobs import JobRunner
from watchroster.outbox.models import OutboxMessage
from watchroster.runtime.context import AppContext

SHIFT = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)  # Friday 18:00-21:00 Johannesburg
DUE = SHIFT + timedelta(hours=3) + jobs.AFTER_END  # Saturday 21:00 local
URL = "https://watch.example.org"


def _run(db: Database, now: datetime) -> int:
    with db.write() as session:
        return jobs.queue_attendance_reminders(session, now, URL)


def _reminders(db: Database) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.message_type == ATTENDANCE_REMINDER)
    with db.read() as session:
        return list(session.scalars(query.order_by(OutboxMessage.outbox_id)))


def _user(db: Database, phone: str = "+27821234567", language: str | None = None) -> User:
    user = add_user(db, phone, "Thandi Mokoena")
    with db.write() as session:
        row = session.get(User, user.user_id)
        assert row is not None
        row.language = language
    return user


def test_one_reminder_24_hours_after_the_end_with_the_booking_link(db: Database) -> None:
    schedule = add_schedule(db)
    booking_id = past_booking(db, schedule, _user(db), SHIFT)

    assert _run(db, DUE - timedelta(minutes=1)) == 0  # 23 h 59 after the end: not yet
    assert _run(db, DUE) == 1
    assert _run(db, DUE + timedelta(hours=1)) == 0  # claimed: never again
    (message,) = _reminders(db)
    assert message.recipient == "+27821234567"
    assert f"{URL}/my/{booking_id}" in message.payload["body"]
    assert "Friday patrol, Fri 2 May 18:00-21:00" in message.payload["body"]
    with db.read() as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None and booking.attendance_reminded_at == DUE


def test_none_for_cancelled_recorded_or_long_past_bookings(db: Database) -> None:
    schedule = add_schedule(db)
    user = _user(db)
    past_booking(db, schedule, user, SHIFT, canceled_at=SHIFT - timedelta(days=1))
    past_booking(db, schedule, user, SHIFT - timedelta(days=7), attended=True)
    past_booking(db, schedule, user, SHIFT - timedelta(days=7 + 2))  # recorded never, long ago
    assert _run(db, DUE) == 0
    assert _reminders(db) == []


def test_none_for_volunteers_who_turned_reminders_off(db: Database) -> None:
    schedule = add_schedule(db)
    user = _user(db)
    with db.write() as session:
        row = session.get(User, user.user_id)
        assert row is not None
        row.reminders = False
    past_booking(db, schedule, user, SHIFT)
    assert _run(db, DUE) == 0


def test_in_the_volunteers_language(db: Database) -> None:
    schedule = add_schedule(db)
    past_booking(db, schedule, _user(db, language="af"), SHIFT)
    assert _run(db, DUE) == 1
    (message,) = _reminders(db)
    assert "Vrydag 2 Mei" in message.payload["body"]  # the shift's day in Afrikaans (Babel)


def test_two_runs_at_once_send_one_message(db: Database) -> None:
    schedule = add_schedule(db)
    user = _user(db)
    ids = [past_booking(db, schedule, user, SHIFT - timedelta(days=day)) for day in range(3)]
    start = threading.Barrier(2)
    counts: list[int] = []

    def runner() -> None:
        start.wait()
        counts.append(_run(db, DUE))

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 3  # each booking claimed by one of the two
    keys = sorted(m.dedupe_key or "" for m in _reminders(db))
    assert keys == sorted(f"booking:{i}:attendance_reminder" for i in ids)


def test_through_the_job_runner_once_across_workers_and_a_restart(
    db: Database, settings: Settings
) -> None:
    schedule = add_schedule(db)
    past_booking(db, schedule, _user(db), SHIFT)
    clock = FrozenClock(DUE)
    context = AppContext(settings=settings, db=db, clock=clock)
    jobs_ = [job for job in periodic_jobs() if job.name == jobs.ATTENDANCE_REMINDER_JOB]
    assert jobs_, "the job is registered with the worker's periodic jobs"
    first = JobRunner(context, worker_id="a", jobs=jobs_)
    second = JobRunner(context, worker_id="b", jobs=jobs_)
    ran = first.run_due() + second.run_due()
    assert len(ran) == 1  # one run per hour across workers
    clock.advance(hours=1)  # a restarted worker, the next hour
    restarted = JobRunner(
        AppContext(settings=settings, db=db, clock=clock), worker_id="c", jobs=jobs_
    )
    assert len(restarted.run_due()) == 1
    assert len(_reminders(db)) == 1
