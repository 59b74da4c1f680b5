"""Schedule use cases: list, read, create, update, deactivate. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from watchroster.bookings.models import Booking
from watchroster.errors import Conflict, NotFound, ValidationFailed
from watchroster.schedules.models import Schedule
from watchroster.schedules.schemas import ScheduleCreate, ScheduleUpdate


def list_schedules(session: Session, *, include_inactive: bool = True) -> list[Schedule]:
    query = select(Schedule).order_by(Schedule.schedule_id)
    if not include_inactive:
        query = query.where(Schedule.active.is_(True))
    return list(session.scalars(query))


def get_schedule(session: Session, schedule_id: int) -> Schedule:
    schedule = session.get(Schedule, schedule_id)
    if schedule is None:
        raise NotFound(f"schedule {schedule_id} not found", code="schedule_not_found")
    return schedule


def create_schedule(session: Session, data: ScheduleCreate, default_timezone: str) -> Schedule:
    schedule = Schedule(**data.model_dump(exclude={"timezone"}))
    schedule.timezone = data.timezone or default_timezone
    session.add(schedule)
    session.flush()
    return schedule


def update_schedule(session: Session, schedule_id: int, data: ScheduleUpdate) -> Schedule:
    schedule = get_schedule(session, schedule_id)
    for field, value in data.model_dump(exclude_unset=True).items():
        setattr(schedule, field, value)
    if schedule.start_date and schedule.end_date and schedule.start_date > schedule.end_date:
        raise ValidationFailed(
            "start_date must not be after end_date",
            details=[{"field": "start_date", "message": "after end_date"}],
        )
    session.flush()
    return schedule


def deactivate_schedule(session: Session, schedule_id: int) -> Schedule:
    schedule = get_schedule(session, schedule_id)
    schedule.active = False
    session.flush()
    return schedule


def has_future_bookings(session: Session, schedule_id: int, now: datetime) -> bool:
    query = select(
        exists().where(
            Booking.schedule_id == schedule_id,
            Booking.canceled_at.is_(None),
            Booking.shift_start > now,
        )
    )
    return bool(session.scalar(query))


def delete_schedule(session: Session, schedule_id: int, now: datetime) -> None:
    """Delete a schedule nobody is booked on; one with future bookings must be deactivated."""
    schedule = get_schedule(session, schedule_id)
    if has_future_bookings(session, schedule_id, now):
        raise Conflict(
            "schedule has future bookings; deactivate it instead",
            code="schedule_has_bookings",
        )
    if session.scalar(select(exists().where(Booking.schedule_id == schedule_id))):
        raise Conflict(
            "schedule has past bookings kept for history; deactivate it instead",
            code="schedule_has_bookings",
        )
    session.delete(schedule)
    session.flush()
