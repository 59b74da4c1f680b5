"""Small builders for rows the tests need, written through the services where one exists, and
readers of what the code under test wrote."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from watchroster.auth.models import User
from watchroster.bookings.models import Booking
from watchroster.core.config import Settings
from watchroster.core.rules import Rules
from watchroster.db.engine import Database
from watchroster.schedules.models import Schedule
from watchroster.schedules.schemas import ScheduleCreate
from watchroster.schedules.service import create_schedule

# The rules a server started with the default settings runs with (`AppContext.rules`), for tests
# that call a use case directly.
TEST_RULES = Rules.of(Settings(_env_file=None))


def add_schedule(
    db: Database,
    *,
    name: str = "Friday patrol",
    cron_expr: str = "0 18 * * FRI",
    timezone: str = "Africa/Johannesburg",
    start_date: date | None = None,
    end_date: date | None = None,
    duration_minutes: int = 180,
    active: bool = True,
    seats: int = 1,
) -> Schedule:
    data = ScheduleCreate(
        name=name,
        cron_expr=cron_expr,
        timezone=timezone,
        start_date=start_date,
        end_date=end_date,
        duration_minutes=duration_minutes,
        active=active,
        seats=seats,
    )
    with db.write() as session:
        return create_schedule(session, data, timezone)


def add_user(db: Database, phone: str, name: str | None = None, role: str = "volunteer") -> User:
    with db.write() as session:
        user = User(phone=phone, name=name, role=role)
        session.add(user)
        session.flush()
        return user


def add_booking(
    db: Database, schedule: Schedule, user: User, start: datetime, seat: int = 1, **fields: Any
) -> Booking:
    """A booking of the shift at `start`, written directly (the past and clashes included);
    `fields` sets other columns, such as created_at, canceled_at or the attendance."""
    with db.write() as session:
        booking = Booking(
            user_id=user.user_id,
            schedule_id=schedule.schedule_id,
            shift_start=start,
            shift_end=start + timedelta(minutes=schedule.duration_minutes),
            seat=seat,
            **fields,
        )
        session.add(booking)
        session.flush()
        return booking


def read_booking(db: Database, booking_id: int) -> Booking:
    """The booking row as the database holds it now (it must exist)."""
    with db.read() as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None
        return booking
