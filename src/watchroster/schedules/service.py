"""Schedules: list, read, create, update, deactivate, delete. Callers own the transaction.

The coordinator's actions are one use case each (`add_schedule`, `change_schedule`,
`remove_schedule`), called by both `schedules.router` and the console (`web.admin`): session,
application context and caller first, then the input. The other functions are their parts.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import column, exists, func, select, table
from sqlalchemy.orm import Session

from watchroster.auth.deps import Principal
from watchroster.core.errors import Conflict, NotFound, ValidationFailed
from watchroster.db.booking_table import Booking
from watchroster.db.engine import utcnow
from watchroster.runtime.context import AppContext
from watchroster.schedules import edits
from watchroster.schedules.holidays import DEFAULT_HOLIDAY_COUNTRY, check_rule
from watchroster.schedules.models import Schedule
from watchroster.schedules.schemas import ScheduleCreate, ScheduleUpdate

log = logging.getLogger("watchroster.schedules")


def list_schedules(session: Session, *, include_inactive: bool = True) -> list[Schedule]:
    query = select(Schedule).order_by(Schedule.schedule_id)
    if not include_inactive:
        query = query.where(Schedule.active.is_(True))
    return list(session.scalars(query))


def schedule_names(session: Session) -> list[tuple[int, str]]:
    """Every schedule's id and name, by name: the choices of a "which schedule" filter."""
    query = select(Schedule.schedule_id, Schedule.name).order_by(Schedule.name)
    return [(schedule_id, name) for schedule_id, name in session.execute(query)]


def get_schedule(session: Session, schedule_id: int) -> Schedule:
    schedule = session.get(Schedule, schedule_id)
    if schedule is None:
        raise NotFound(f"schedule {schedule_id} not found", code="schedule_not_found")
    return schedule


def name_taken(session: Session, name: str, except_id: int | None = None) -> bool:
    """Another active schedule already has this name (compared without case or outer spaces)."""
    query = select(Schedule.schedule_id).where(
        Schedule.active.is_(True), func.lower(Schedule.name) == name.strip().lower()
    )
    if except_id is not None:
        query = query.where(Schedule.schedule_id != except_id)
    return session.scalars(query.limit(1)).first() is not None


def _ensure_name_free(session: Session, schedule: Schedule) -> None:
    # Two active "Friday patrol"s would make the roster, the open shifts and every message
    # ambiguous; an inactive one keeps its name for history and may share it.
    if schedule.active and name_taken(session, schedule.name, schedule.schedule_id):
        raise Conflict(
            f"another active schedule is already called {schedule.name!r}", code="name_taken"
        )


def create_schedule(
    session: Session,
    data: ScheduleCreate,
    default_timezone: str,
    *,
    unique_name: bool = False,
    default_holiday_country: str = DEFAULT_HOLIDAY_COUNTRY,
) -> Schedule:
    """`unique_name`: refuse (409 name_taken) a name another active schedule has; the API and the
    console ask for it (demo data and fixtures build schedules directly).
    `default_holiday_country`: WATCHROSTER_HOLIDAY_COUNTRY, when the data names none."""
    schedule = Schedule(**data.model_dump(exclude={"timezone", "holiday_country"}))
    schedule.timezone = data.timezone or default_timezone
    schedule.holiday_country = data.holiday_country or default_holiday_country
    _check_holidays(schedule)
    if unique_name:
        _ensure_name_free(session, schedule)
    session.add(schedule)
    session.flush()
    return schedule


def update_schedule(
    session: Session,
    schedule_id: int,
    data: ScheduleUpdate,
    *,
    unique_name: bool = False,
    now: datetime | None = None,
    carry: edits.Carry | None = None,
) -> Schedule:
    """Only the fields given change. A rename, or a reactivation, must not make two active
    schedules share a name (with `unique_name`, as `create_schedule`). Lowering `seats` below
    the seats a shift after `now` (default: the current time) has booked is refused (409).

    Bookings of shifts after `now` are never left behind (`edits`): a change that drops a
    booked shift is refused (409 bookings_affected) unless `data.on_booked` is "cancel"; the
    bookings it drops or moves are handed to `carry`, and without one such a change is refused.
    """
    now = now or utcnow()
    schedule = _locked(session, schedule_id)
    before = edits.Before.of(schedule)
    if data.seats is not None:
        _check_seats(session, schedule, data.seats, now)
    for field, value in data.model_dump(exclude_unset=True, exclude={"on_booked"}).items():
        setattr(schedule, field, value)
    _check_holidays(schedule)
    if schedule.start_date and schedule.end_date and schedule.start_date > schedule.end_date:
        raise ValidationFailed(
            "start_date must not be after end_date",
            details=[{"field": "start_date", "message": "after end_date"}],
        )
    if unique_name:  # after the checks above: its query flushes the changed row
        _ensure_name_free(session, schedule)
    edit = edits.booked_edit(session, schedule, before, now)
    edits.settle(session, edit, cancel=data.on_booked == "cancel", carry=carry)
    session.flush()
    return schedule


def _locked(session: Session, schedule_id: int) -> Schedule:
    """The schedule row, locked FOR UPDATE on PostgreSQL before anything is counted. A booking
    reads the row FOR KEY SHARE (see `bookings.create`), which this lock excludes: a booking
    either committed before (and is counted here) or waits, then reads the changed row (its
    new seats, times, season). SQLite writes one transaction at a time anyway."""
    schedule = session.get(Schedule, schedule_id, with_for_update=True, populate_existing=True)
    if schedule is None:
        raise NotFound(f"schedule {schedule_id} not found", code="schedule_not_found")
    return schedule


def _check_seats(session: Session, schedule: Schedule, seats: int, now: datetime) -> None:
    """Refuse (409 seats_in_use) fewer seats than an upcoming shift has booked: bookings are
    never dropped, and a booking on a seat above the new number would let the slot fill past it.
    The caller holds the row locked (`_locked`)."""
    starts = list(
        session.scalars(
            select(Booking.shift_start)
            .where(
                Booking.schedule_id == schedule.schedule_id,
                Booking.canceled_at.is_(None),
                Booking.shift_start > now,
                Booking.seat > seats,
            )
            .group_by(Booking.shift_start)
            .order_by(Booking.shift_start)
        )
    )
    if not starts:
        return
    raise edits.slots_conflict(
        f"cannot lower seats to {seats}: these upcoming shifts have bookings on higher seats",
        "",
        code="seats_in_use",
        starts=starts,
        zone=ZoneInfo(schedule.timezone),
        field="seats",
        why=f"booked beyond {seats} seats",
    )


def _check_holidays(schedule: Schedule) -> None:
    """The country and subdivision must be the `holidays` package's (400 naming the field);
    stored normalised, so equal rules share one cache entry."""
    country, subdivision = check_rule(schedule.holiday_country, schedule.holiday_subdivision)
    schedule.holiday_country, schedule.holiday_subdivision = country, subdivision


def deactivate_schedule(session: Session, schedule_id: int) -> Schedule:
    schedule = get_schedule(session, schedule_id)
    schedule.active = False
    session.flush()
    return schedule


# The tables that refer to a schedule (a foreign key to it), and what they hold in words. A
# schedule one of them refers to is kept for the records: it can be deactivated, not deleted.
# Named here, not imported: calls sit above this package. A test checks the list is complete.
REFERRERS = {
    "bookings": "bookings",
    "volunteer_calls": "calls for volunteers",
    "schedule_exceptions": "cancelled shifts",
}


def referred_by(session: Session, schedule_id: int) -> list[str]:
    """The tables of `REFERRERS` that hold a row of this schedule, in that order."""
    found = []
    for name in REFERRERS:
        rows = table(name, column("schedule_id"))
        if session.scalar(select(exists().where(rows.c.schedule_id == schedule_id))):
            found.append(name)
    return found


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
    """Delete a schedule nothing refers to (409 otherwise: deactivate it instead). Any booking
    counts, cancelled or past ones too (kept for history), and so do calls for volunteers and
    cancelled shifts. Locked first, so a booking or call in flight is either seen or waits and
    then finds no schedule."""
    schedule = _locked(session, schedule_id)
    found = referred_by(session, schedule_id)
    if found:
        words = [REFERRERS[name] for name in found]
        if has_future_bookings(session, schedule_id, now):
            words[0] = "bookings (upcoming ones too)"
        raise Conflict(
            f"schedule {schedule_id} has {', '.join(words)}, kept for the records; "
            "deactivate it instead",
            code="schedule_has_bookings" if "bookings" in found else "schedule_in_use",
            details=[{"field": "schedule_id", "message": REFERRERS[name]} for name in found],
        )
    session.delete(schedule)
    session.flush()


# --- the coordinator's use cases -------------------------------------------------------------


def add_schedule(
    session: Session, context: AppContext, caller: Principal, data: ScheduleCreate
) -> Schedule:
    """`POST /schedules` and the console's "New schedule": its name unique among active
    schedules, the group's zone and holiday country where the data names none."""
    settings = context.settings
    schedule = create_schedule(
        session,
        data,
        settings.timezone,
        unique_name=True,
        default_holiday_country=settings.holiday_country,
    )
    log.info("admin %s created schedule %s", caller.user_id, schedule.schedule_id)
    return schedule


def change_schedule(
    session: Session,
    context: AppContext,
    caller: Principal,
    schedule_id: int,
    data: ScheduleUpdate,
) -> Schedule:
    """`PATCH /schedules/{id}`, the console's form and its deactivate/reactivate button: the
    edit at the context's time, its bookings carried over by the bookings feature (the hook the
    entry point connected, with the context's buddy rules: those on dropped shifts are told)."""
    carry_for = context.hooks.carry_for
    carry = carry_for(caller.user_id, context.rules.buddy) if carry_for is not None else None
    return update_schedule(
        session, schedule_id, data, unique_name=True, now=context.clock(), carry=carry
    )


def remove_schedule(
    session: Session, context: AppContext, caller: Principal, schedule_id: int
) -> None:
    """`DELETE /schedules/{id}` and the console's "Delete": only a schedule nothing refers to."""
    delete_schedule(session, schedule_id, context.clock())
    log.info("admin %s deleted schedule %s", caller.user_id, schedule_id)
