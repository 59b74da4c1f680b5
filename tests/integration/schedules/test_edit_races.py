"""A coordinator changing a schedule's times and a volunteer booking a shift it drops, in both
orders, with the first transaction held open while the second one runs (SQLite and PostgreSQL):
the booking is never left behind as an orphan (issue #21 §1).

PostgreSQL: the change locks the schedule row FOR UPDATE before it reads the bookings; a
booking reads the row FOR KEY SHARE, so it either committed before that read (and is counted)
or waits and then reads the new definition. SQLite: one writer at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.support.factories import TEST_RULES, add_schedule, add_user
from watchroster.auth.deps import Principal
from watchroster.bookings.create import create_booking
from watchroster.bookings.models import Booking
from watchroster.bookings.schedule_edit import edit_schedule
from watchroster.bookings.schemas import BookingCreate
from watchroster.core.clock import FrozenClock
from watchroster.core.errors import AppError
from watchroster.db.engine import Database
from watchroster.schedules.models import Schedule
from watchroster.schedules.schemas import ScheduleUpdate

FRIDAY = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)  # 18:00 in Johannesburg
SATURDAYS = ScheduleUpdate(cron_expr="0 18 * * SAT")
# Long enough for the second transaction to reach its lock wait; it must still be waiting then.
HOLD_SECONDS = 0.5


@pytest.fixture
def schedule(db: Database) -> Schedule:
    return add_schedule(db)


@pytest.fixture
def coordinator(db: Database) -> Principal:
    user = add_user(db, "+27820000300", "Anna Admin", role="admin")
    return Principal(user.user_id, "admin", user.name, user.phone, session_id=0)


@pytest.fixture
def volunteer(db: Database) -> Principal:
    user = add_user(db, "+27820000301", "Thandi Mokoena")
    return Principal(user.user_id, "volunteer", user.name, user.phone, session_id=0)


def _book(db: Database, caller: Principal, schedule: Schedule, clock: FrozenClock) -> None:
    data = BookingCreate(schedule_id=schedule.schedule_id, start_time=FRIDAY.isoformat())
    with db.raw_write() as transaction:
        create_booking(transaction, caller, data, clock(), "ZA", TEST_RULES.buddy)


def _change(
    db: Database, caller: Principal, schedule: Schedule, clock: FrozenClock, data: ScheduleUpdate
) -> None:
    with db.write() as session:
        edit_schedule(
            session, caller.user_id, schedule.schedule_id, data, clock(), TEST_RULES.buddy
        )


def _in_thread(work: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def _state(db: Database, schedule: Schedule) -> tuple[str, list[datetime]]:
    """The schedule's cron and the starts of its active bookings."""
    with db.read() as session:
        cron = session.get_one(Schedule, schedule.schedule_id).cron_expr
        starts = session.scalars(
            select(Booking.shift_start).where(
                Booking.schedule_id == schedule.schedule_id, Booking.canceled_at.is_(None)
            )
        )
        return cron, list(starts)


def test_a_change_waits_for_a_booking_and_is_refused(
    db: Database,
    schedule: Schedule,
    coordinator: Principal,
    volunteer: Principal,
    clock: FrozenClock,
) -> None:
    data = BookingCreate(schedule_id=schedule.schedule_id, start_time=FRIDAY.isoformat())
    with db.raw_write() as transaction:
        create_booking(transaction, volunteer, data, clock(), "ZA", TEST_RULES.buddy)
        change, errors = _in_thread(lambda: _change(db, coordinator, schedule, clock, SATURDAYS))
        change.join(HOLD_SECONDS)
        assert change.is_alive(), "the change waits for the booking to commit"
    change.join(10)
    [error] = errors
    assert isinstance(error, AppError) and error.code == "bookings_affected", error
    assert _state(db, schedule) == ("0 18 * * FRI", [FRIDAY])


def test_a_change_that_cancels_waits_for_a_booking_and_cancels_it_too(
    db: Database,
    schedule: Schedule,
    coordinator: Principal,
    volunteer: Principal,
    clock: FrozenClock,
) -> None:
    data = BookingCreate(schedule_id=schedule.schedule_id, start_time=FRIDAY.isoformat())
    cancelling = ScheduleUpdate(cron_expr="0 18 * * SAT", on_booked="cancel")
    with db.raw_write() as transaction:
        create_booking(transaction, volunteer, data, clock(), "ZA", TEST_RULES.buddy)
        change, errors = _in_thread(lambda: _change(db, coordinator, schedule, clock, cancelling))
        change.join(HOLD_SECONDS)
        assert change.is_alive(), "the change waits for the booking to commit"
    change.join(10)
    assert errors == []
    assert _state(db, schedule) == ("0 18 * * SAT", [])


def test_a_booking_waits_for_the_change_and_finds_no_such_shift(
    db: Database,
    schedule: Schedule,
    coordinator: Principal,
    volunteer: Principal,
    clock: FrozenClock,
) -> None:
    with db.write() as session:
        edit_schedule(
            session, coordinator.user_id, schedule.schedule_id, SATURDAYS, clock(), TEST_RULES.buddy
        )
        booking, errors = _in_thread(lambda: _book(db, volunteer, schedule, clock))
        booking.join(HOLD_SECONDS)
        assert booking.is_alive(), "the booking waits for the change to commit"
    booking.join(10)
    [error] = errors
    assert isinstance(error, AppError) and error.code == "not_an_occurrence", error
    assert _state(db, schedule) == ("0 18 * * SAT", [])
