"""A coordinator lowering `seats` and a volunteer booking the last seat, in both orders, with the
first transaction held open while the second one runs (SQLite and PostgreSQL).

PostgreSQL: the change locks the schedule row FOR UPDATE before it counts; a booking reads the
row FOR KEY SHARE before it reads `seats`. SQLite: one writer at a time. Either way the second
transaction waits for the first, then sees what it did: the slot never ends up with more
bookings than seats.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from tests.support.factories import TEST_RULES, add_booking, add_schedule, add_user
from watchroster.auth.deps import Principal
from watchroster.bookings.create import create_booking
from watchroster.bookings.schemas import BookingCreate
from watchroster.core.clock import FrozenClock
from watchroster.core.errors import AppError, Conflict
from watchroster.db.engine import Database
from watchroster.schedules.models import Schedule
from watchroster.schedules.schemas import ScheduleUpdate
from watchroster.schedules.service import update_schedule

FRIDAY = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)
# Long enough for the second transaction to reach its lock wait; it must still be waiting then.
HOLD_SECONDS = 0.5


@pytest.fixture
def two_of_three(db: Database) -> Schedule:
    """A three-seat schedule whose Friday has seats 1 and 2 booked."""
    schedule = add_schedule(db, seats=3)
    for seat in (1, 2):
        holder = add_user(db, f"+2782000020{seat}", f"Holder {seat}")
        add_booking(db, schedule, holder, FRIDAY, seat=seat)
    return schedule


def _booker(db: Database) -> Principal:
    user = add_user(db, "+27820000299", "Late Volunteer")
    return Principal(user.user_id, "volunteer", user.name, user.phone, session_id=0)


def _book(db: Database, caller: Principal, schedule: Schedule, clock: FrozenClock) -> None:
    data = BookingCreate(schedule_id=schedule.schedule_id, start_time=FRIDAY.isoformat())
    with db.raw_write() as transaction:
        create_booking(transaction, caller, data, clock(), "ZA", TEST_RULES.buddy)


def _lower(db: Database, schedule: Schedule, clock: FrozenClock) -> None:
    with db.write() as session:
        update_schedule(session, schedule.schedule_id, ScheduleUpdate(seats=2), now=clock())


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


def _seats(db: Database, schedule: Schedule) -> int:
    with db.read() as session:
        found = session.get(Schedule, schedule.schedule_id)
        assert found is not None
        return found.seats


def test_a_booking_waits_for_the_lowering_and_finds_the_shift_full(
    db: Database, two_of_three: Schedule, clock: FrozenClock
) -> None:
    caller = _booker(db)
    with db.write() as session:
        update_schedule(session, two_of_three.schedule_id, ScheduleUpdate(seats=2), now=clock())
        booking, errors = _in_thread(lambda: _book(db, caller, two_of_three, clock))
        booking.join(HOLD_SECONDS)
        assert booking.is_alive(), "the booking waits for the change to commit"
    booking.join(10)
    [error] = errors
    assert isinstance(error, Conflict) and error.code == "slot_taken"
    assert _seats(db, two_of_three) == 2


def test_the_lowering_waits_for_the_booking_and_is_refused(
    db: Database, two_of_three: Schedule, clock: FrozenClock
) -> None:
    caller = _booker(db)
    data = BookingCreate(schedule_id=two_of_three.schedule_id, start_time=FRIDAY.isoformat())
    with db.raw_write() as transaction:
        booked, _schedule = create_booking(
            transaction, caller, data, clock(), "ZA", TEST_RULES.buddy
        )
        assert booked.seat == 3
        lowering, errors = _in_thread(lambda: _lower(db, two_of_three, clock))
        lowering.join(HOLD_SECONDS)
        assert lowering.is_alive(), "the change waits for the booking to commit"
    lowering.join(10)
    [error] = errors
    assert isinstance(error, AppError) and error.code == "seats_in_use"
    assert _seats(db, two_of_three) == 3
