"""A stateful property test over book / cancel / rebook / attend, against the real services.

Invariants: at most one active booking per slot, the database agrees with a simple model, and
attendance changes only when the booking's volunteer or an admin records it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, func, select

from tests.support.factories import TEST_RULES, add_schedule, add_user
from watchroster.auth.deps import Principal
from watchroster.bookings import create, service
from watchroster.bookings.models import Booking, Report
from watchroster.bookings.schemas import AttendanceUpdate, BookingCreate
from watchroster.core.errors import Conflict, Forbidden, ValidationFailed
from watchroster.db.engine import Database
from watchroster.outbox.models import OutboxMessage

START = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
DAYS = 3
# Two daily schedules: 18:00-21:00 and 19:00-20:00 local (UTC+2), so same-day slots overlap.
SCHEDULES = (("0 18 * * *", 180), ("0 19 * * *", 60))


@dataclass(frozen=True)
class Slot:
    schedule_id: int
    start: datetime
    end: datetime


@dataclass
class World:
    db: Database
    slots: list[Slot]
    callers: list[Principal]  # three volunteers and an admin


@dataclass
class Held:
    slot: Slot
    owner: int
    canceled: bool = False
    attendance: tuple[bool, datetime] | None = None


def build_world(db: Database) -> World:
    slots = []
    for cron_expr, minutes in SCHEDULES:
        schedule = add_schedule(db, name=cron_expr, cron_expr=cron_expr, duration_minutes=minutes)
        first = datetime(2025, 5, 1, int(cron_expr.split()[1]) - 2, 0, tzinfo=UTC)
        for day in range(DAYS):
            begin = first + timedelta(days=day)
            slots.append(Slot(schedule.schedule_id, begin, begin + timedelta(minutes=minutes)))
    callers = []
    for index, role in enumerate(("volunteer", "volunteer", "volunteer", "admin")):
        user = add_user(db, f"+2782123456{index}", f"Person {index}", role=role)
        callers.append(Principal(user.user_id, role, user.name, user.phone, session_id=0))
    return World(db, slots, callers)


class BookingMachine(RuleBasedStateMachine):
    bookings = Bundle("bookings")

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.now = START
        self.held: dict[int, Held] = {}
        with world.db.write() as session:
            for table in (Report, OutboxMessage, Booking):
                session.execute(delete(table))

    def _active_on(self, slot: Slot) -> list[int]:
        return [i for i, h in self.held.items() if not h.canceled and h.slot == slot]

    def _expected_booking_error(self, caller: Principal, slot: Slot) -> str | None:
        if slot.start <= self.now:
            return "slot_started"
        for held in self.held.values():
            mine = held.owner == caller.user_id and not held.canceled
            if mine and held.slot.start < slot.end and held.slot.end > slot.start:
                return "overlap"
        return "slot_taken" if self._active_on(slot) else None

    @rule(target=bookings, who=st.integers(0, 3), slot_index=st.integers(0, 2 * DAYS - 1))
    def book(self, who: int, slot_index: int) -> object:
        caller, slot = self.world.callers[who], self.world.slots[slot_index]
        expected = self._expected_booking_error(caller, slot)
        data = BookingCreate(schedule_id=slot.schedule_id, start_time=slot.start.isoformat())
        try:
            with self.world.db.raw_write() as transaction:
                booking, _ = create.create_booking(
                    transaction, caller, data, self.now, "ZA", TEST_RULES.buddy
                )
                booking_id = booking.booking_id
        except (Conflict, ValidationFailed) as error:
            assert error.code == expected
            return multiple()
        assert expected is None
        self.held[booking_id] = Held(slot, caller.user_id)
        return booking_id

    def _allowed(self, caller: Principal, held: Held) -> bool:
        return caller.is_admin or caller.user_id == held.owner

    @rule(booking_id=bookings, who=st.integers(0, 3))
    def cancel(self, booking_id: int, who: int) -> None:
        caller, held = self.world.callers[who], self.held[booking_id]
        try:
            with self.world.db.write() as session:
                service.cancel_booking(session, caller, booking_id, self.now, TEST_RULES.buddy)
        except Forbidden:
            assert not self._allowed(caller, held)
            return
        except Conflict as error:
            assert error.code == "shift_started" and held.slot.start <= self.now
            return
        assert self._allowed(caller, held)
        assert held.canceled or held.slot.start > self.now
        held.canceled = True

    @rule(booking_id=bookings, who=st.integers(0, 3), attended=st.booleans())
    def attend(self, booking_id: int, who: int, attended: bool) -> None:
        caller, held = self.world.callers[who], self.held[booking_id]
        try:
            with self.world.db.write() as session:
                data = AttendanceUpdate(attended=attended)
                service.record_attendance(session, caller, booking_id, data, self.now)
        except Forbidden:
            assert not self._allowed(caller, held)
            return
        except Conflict as error:
            expected = "booking_canceled" if held.canceled else "shift_not_started"
            assert error.code == expected
            return
        assert self._allowed(caller, held) and not held.canceled
        assert held.slot.start <= self.now
        held.attendance = (attended, self.now)

    @rule(hours=st.integers(1, 30))
    def advance_clock(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @invariant()
    def at_most_one_active_booking_per_slot(self) -> None:
        with self.world.db.read() as session:
            doubled = session.execute(
                select(Booking.schedule_id, Booking.shift_start)
                .where(Booking.canceled_at.is_(None))
                .group_by(Booking.schedule_id, Booking.shift_start)
                .having(func.count() > 1)
            ).all()
        assert doubled == []

    @invariant()
    def database_matches_the_model(self) -> None:
        with self.world.db.read() as session:
            rows = {b.booking_id: b for b in session.scalars(select(Booking))}
        assert set(rows) == set(self.held)
        for booking_id, held in self.held.items():
            row = rows[booking_id]
            assert (row.canceled_at is not None) == held.canceled
            assert row.user_id == held.owner
            recorded = (
                (row.attended, row.attendance_recorded_at) if row.attendance_recorded_at else None
            )
            assert recorded == held.attendance
            assert row.attended is (held.attendance[0] if held.attendance else False)


def test_book_cancel_rebook_attend(db: Database) -> None:
    world = build_world(db)

    class Machine(BookingMachine):
        def __init__(self) -> None:
            super().__init__(world)

    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
