"""Booking a shift: the one write every volunteer makes, so it runs on the driver's cursor.

Measured, the ORM version of this transaction cost 1.3-1.8 ms of CPU and held the SQLite write
lock all that time; here it is ~0.15 ms (see `rawsql`). The rules are the same as everywhere
else in `bookings`: errors carry their HTTP status, and the booking and its notices are written
in the caller's one transaction, so they commit together or not at all.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select

from watchroster.auth.deps import Principal, principal_in
from watchroster.auth.models import User
from watchroster.bookings import buddies, busy, idempotency, messages, seats
from watchroster.bookings.idempotency import Reply, RequestKey
from watchroster.bookings.schemas import BookingCreate, BookingCreated, first_name
from watchroster.core.errors import Forbidden, NotFound, ValidationFailed
from watchroster.core.phones import normalise_phone
from watchroster.core.rules import BuddyRules
from watchroster.core.timefmt import parse_instant
from watchroster.db.rawsql import Prepared, RawTransaction
from watchroster.http import metrics
from watchroster.schedules import exclusions
from watchroster.schedules.models import Schedule
from watchroster.schedules.recurrence import is_occurrence
from watchroster.schedules.slot_cache import VIEW_COLUMNS, ScheduleView

ACTIVE_SLOT_INDEX = "uq_bookings_active_slot"


# Schedules allow shifts of at most a day, so an overlapping booking started less than a day
# earlier: this bound lets the overlap query use the (user_id, shift_start) index.
@dataclass(frozen=True, slots=True)
class Member:
    """A user row as the booking needs it (satisfies `messages.Contact`)."""

    user_id: int
    phone: str | None
    name: str | None
    channel: str
    active: bool
    language: str | None

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> Member:
        user_id, phone, name, channel, active, erased_at, language = row
        return cls(user_id, phone, name, channel, bool(active) and erased_at is None, language)


@dataclass(frozen=True, slots=True)
class NewBooking:
    """The row just inserted (satisfies `models.BookingFields`)."""

    booking_id: int
    user_id: int
    schedule_id: int
    shift_start: datetime
    shift_end: datetime
    buddy_user_id: int | None
    buddy_name: str | None
    buddy_phone: str | None
    created_at: datetime
    attended: bool = False
    buddy_attended: bool | None = None
    attendance_recorded_at: datetime | None = None
    canceled_at: datetime | None = None
    canceled_by_user_id: int | None = None
    cancel_reason: str | None = None
    seat: int = 1
    safe_at: datetime | None = None  # "home safe" comes after the shift (`home_safe`)
    safe_by: int | None = None
    # Only when a buddy was named: whether they were told (see `BookingCreated`).
    buddy_notified: bool | None = None


@dataclass(frozen=True, slots=True)
class _Buddy:
    member: Member | None  # a registered, active member: the only kind of buddy ever told
    name: str | None
    phone: str | None  # kept only for a buddy who is not a linked member, never messaged
    used: buddies.Usage | None = None  # the caller's daily allowance, read once

    @property
    def named(self) -> bool:
        return self.member is not None or self.name is not None or self.phone is not None


@dataclass(frozen=True, slots=True)
class _BuddyContext:
    default_region: str
    rules: BuddyRules
    now: datetime


def _member_columns() -> tuple[Any, ...]:
    return (
        User.user_id,
        User.phone,
        User.name,
        User.channel,
        User.active,
        User.erased_at,
        User.language,
    )


_SCHEDULE = Prepared(
    lambda dialect: _schedule_query(locked=dialect == "postgresql"),
)
# Locks the caller's row on PostgreSQL, so one user's bookings are checked one at a time (two
# parallel overlapping bookings cannot both pass the overlap check).
_LOCK_CALLER = Prepared(
    lambda _dialect: (
        select(*_member_columns()).where(User.user_id == bindparam("user_id")).with_for_update()
    )
)
_MEMBER_BY_ID = Prepared(
    lambda _dialect: select(*_member_columns()).where(User.user_id == bindparam("user_id"))
)
_MEMBER_BY_PHONE = Prepared(
    lambda _dialect: select(*_member_columns()).where(User.phone == bindparam("phone"))
)
_BOOKING_COLUMNS = (
    "seat",
    "user_id",
    "schedule_id",
    "shift_start",
    "shift_end",
    "buddy_user_id",
    "buddy_name",
    "buddy_phone",
    "attended",
    "created_at",
)
_INSERT = Prepared(lambda dialect: seats.insert_statement(dialect, _BOOKING_COLUMNS))


def _schedule_query(*, locked: bool) -> Any:
    query = select(*VIEW_COLUMNS).where(
        Schedule.active.is_(True), Schedule.schedule_id == bindparam("schedule_id")
    )
    # PostgreSQL: FOR KEY SHARE, the lock the foreign key check takes anyway, taken before
    # `seats` is read. A coordinator lowering `seats` locks the row FOR UPDATE before counting
    # (`schedules.service`), so either this booking is counted or it sees the new seats.
    return query.with_for_update(read=True, key_share=True) if locked else query


def is_active_slot_violation(error: BaseException | None) -> bool:
    """True only for a unique violation of the one-active-booking-per-slot index.

    Any other integrity error (a foreign key, another unique key) is a bug and must surface.
    """
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate is not None:  # psycopg
        constraint = getattr(getattr(error, "diag", None), "constraint_name", None)
        return bool(sqlstate == "23505" and constraint == ACTIVE_SLOT_INDEX)
    if isinstance(error, sqlite3.IntegrityError):
        text = str(error)
        return getattr(error, "sqlite_errorname", "") == "SQLITE_CONSTRAINT_UNIQUE" and (
            "bookings.schedule_id, bookings.shift_start" in text or ACTIVE_SLOT_INDEX in text
        )
    return False


# What `create_booking` returns: the new booking and the schedule it was made in.
Booked = tuple[NewBooking, ScheduleView]


def create_booking(
    transaction: RawTransaction,
    caller: Principal,
    data: BookingCreate,
    now: datetime,
    default_region: str,
    rules: BuddyRules,
) -> Booked:
    """Book one occurrence for the caller. Raises 400/404/409 errors as the API documents.

    `rules` (the context's `rules.buddy`): the limits on buddies. The booking's
    `buddy_notified` says whether a named buddy was told."""
    start = parse_instant(data.start_time, "start_time")
    schedule = _bookable_schedule(transaction, data.schedule_id)
    _check_slot(schedule, start, now)
    exclusions.refuse_holiday(schedule, start)  # 400 public_holiday, naming it
    if not transaction.is_sqlite:
        # SQLite runs one write transaction at a time already; PostgreSQL needs the row lock.
        _lock_caller(transaction, caller.user_id)
    buddy = _resolve_buddy(transaction, caller, data, _BuddyContext(default_region, rules, now))
    end = start + timedelta(minutes=schedule.rule.duration_minutes)
    # Nobody on two overlapping shifts, on either side of a booking (issue #12 §3).
    busy.check_volunteer_free(transaction, caller.user_id, start, end)  # 409 overlap
    if buddy.member is not None:
        busy.check_buddy_free(transaction, buddy.member.user_id, start, end)  # 409 buddy_busy
    booking = _insert(
        transaction,
        schedule.seats,
        user_id=caller.user_id,
        schedule_id=schedule.schedule_id,
        shift_start=start,
        shift_end=end,
        buddy_user_id=buddy.member.user_id if buddy.member is not None else None,
        buddy_name=buddy.name,
        buddy_phone=buddy.phone,
        created_at=now,
    )
    # After the insert, not before: see `refuse_cancelled_raw` (a concurrent cancellation).
    exclusions.refuse_cancelled_raw(transaction, schedule.schedule_id, start)
    notified = messages.notify_booked(
        transaction,
        booking,
        schedule,
        caller,
        buddy.member,
        actor_id=caller.user_id,
        rules=rules,
        used=buddy.used,
    )
    metrics.BOOKINGS_CREATED.inc()
    return replace(booking, buddy_notified=notified if buddy.named else None), schedule


@dataclass(frozen=True, slots=True)
class Asked:
    """A booking as `usecases.book` asks for it: whose session, what, and the context's time
    and rules (read before the group commit runs it)."""

    token_hash: str
    data: BookingCreate
    now: datetime
    default_region: str
    rules: BuddyRules


def book_as(transaction: RawTransaction, asked: Asked) -> Booked:
    """`create_booking` for the holder of the session, checked in the booking's transaction."""
    caller = principal_in(transaction, asked.token_hash, asked.now, lock_caller=True)
    data, now = asked.data, asked.now
    return create_booking(transaction, caller, data, now, asked.default_region, asked.rules)


def reply_of(booking: NewBooking, schedule: ScheduleView) -> Reply:
    """The 201 answer of a booking, as sent and as stored for a replay."""
    created = BookingCreated.of_new(booking, schedule, booking.buddy_notified)
    return Reply(201, created.model_dump_json())


def book_once(transaction: RawTransaction, asked: Asked, key: RequestKey) -> Reply:
    """`book_as` once per key: a repeat gets the first reply, in the same transaction."""
    caller = principal_in(transaction, asked.token_hash, asked.now, lock_caller=True)
    data, now, region, rules = asked.data, asked.now, asked.default_region, asked.rules
    return idempotency.once(
        transaction,
        caller.user_id,
        key,
        now,
        lambda: reply_of(*create_booking(transaction, caller, data, now, region, rules)),
    )


def _bookable_schedule(transaction: RawTransaction, schedule_id: int) -> ScheduleView:
    row = transaction.first(_SCHEDULE, {"schedule_id": schedule_id})
    if row is None:  # unknown or inactive
        raise NotFound(f"schedule {schedule_id} not found", code="schedule_not_found")
    return ScheduleView.of_row(row, transaction.read_date)


def _check_slot(schedule: ScheduleView, start: datetime, now: datetime) -> None:
    if not is_occurrence(schedule.rule, start):
        raise ValidationFailed(
            "start_time is not a shift of this schedule (or lies outside its season)",
            code="not_an_occurrence",
            details=[{"field": "start_time", "message": "not an occurrence"}],
        )
    if start <= now:
        raise ValidationFailed(
            "this shift has already started",
            code="slot_started",
            details=[{"field": "start_time", "message": "already started"}],
        )


def _lock_caller(transaction: RawTransaction, user_id: int) -> None:
    if transaction.holds_lock(User.__tablename__, user_id):
        return  # locked by the session lookup (`principal_in(..., lock_caller=True)`), as active
    row = transaction.first(_LOCK_CALLER, {"user_id": user_id})
    if row is None or not Member.of(row).active:
        raise Forbidden("this account is not active", code="account_inactive")


def _invalid_buddy(message: str, field: str, code: str = "invalid_buddy") -> ValidationFailed:
    return ValidationFailed(message, code=code, details=[{"field": field, "message": message}])


def _member_by_id(transaction: RawTransaction, user_id: int) -> Member:
    """The active member with this id. Unknown, deactivated and erased ids get one and the
    same 400, so trying ids tells nothing but who is an active member (issue #9)."""
    row = transaction.first(_MEMBER_BY_ID, {"user_id": user_id})
    member = None if row is None else Member.of(row)
    if member is None or not member.active:
        raise _invalid_buddy("buddy_user_id: no active member with this id", "buddy_user_id")
    return member


def _member_by_phone(
    transaction: RawTransaction,
    caller_id: int,
    phone: str,
    used: buddies.Usage,
    context: _BuddyContext,
) -> Member | None:
    """The active member with this number, while the caller's day has lookups left; None
    otherwise. A deactivated member's number is treated exactly like an unregistered one."""
    if not used.may_look_up(context.rules):
        return None  # stored unlinked: numbers cannot be tried against the members in bulk
    if not used.looked_up_before:
        buddies.record(transaction, buddies.KIND_LOOKUP, caller_id, phone, context.now)
    row = transaction.first(_MEMBER_BY_PHONE, {"phone": phone})
    member = None if row is None else Member.of(row)
    return member if member is not None and member.active else None


def _buddy_phone(data: BookingCreate, default_region: str) -> str | None:
    if data.buddy_phone is None:
        return None
    phone = normalise_phone(data.buddy_phone, default_region, "buddy_phone")
    if data.buddy_user_id is not None:
        # Accepting both only when they match would tell whose number a phone is.
        message = "name the buddy by buddy_user_id or by buddy_phone, not both"
        raise _invalid_buddy(message, "buddy_phone")
    return phone


def _resolve_buddy(
    transaction: RawTransaction, caller: Principal, data: BookingCreate, context: _BuddyContext
) -> _Buddy:
    phone = _buddy_phone(data, context.default_region)
    if data.buddy_user_id == caller.user_id or (phone is not None and phone == caller.phone):
        field = "buddy_user_id" if data.buddy_user_id is not None else "buddy_phone"
        raise _invalid_buddy("you cannot be your own buddy", field, code="buddy_is_self")
    if data.buddy_user_id is None and phone is None:
        return _Buddy(member=None, name=data.buddy_name, phone=None)
    used = buddies.usage(transaction, caller.user_id, context.now, phone)
    if data.buddy_user_id is not None:
        member: Member | None = _member_by_id(transaction, data.buddy_user_id)
    else:
        assert phone is not None
        member = _member_by_phone(transaction, caller.user_id, phone, used, context)
    if member is not None:
        # Stored: what the caller typed, else the member's first name only (never the full).
        name = data.buddy_name or first_name(member.name)
        return _Buddy(member=member, name=name, phone=None, used=used)
    return _Buddy(member=None, name=data.buddy_name, phone=phone, used=used)


def _insert(transaction: RawTransaction, places: int, **fields: Any) -> NewBooking:
    """INSERT the booking into the lowest free seat; the partial unique index over (schedule,
    start, seat) decides who gets a contested one, never a count read before the write.

    A seat taken meanwhile (the INSERT did nothing) moves on to the next; none left is 409.
    PostgreSQL makes an insert of a seat another transaction is inserting wait for it, and do
    nothing only if that one commits. Any other error rolls the whole transaction back.
    """
    draft = NewBooking(booking_id=0, **fields)
    values = {name: getattr(draft, name) for name in _BOOKING_COLUMNS}
    free = seats.free_seats(transaction, draft.schedule_id, draft.shift_start, places)
    for seat in free:
        try:
            row = transaction.first(_INSERT, {**values, "seat": seat})
        except Exception as exc:
            if is_active_slot_violation(exc):  # cannot happen with ON CONFLICT; never a 500
                raise seats.full() from None
            raise
        if row is not None:
            return replace(draft, booking_id=row[0], seat=seat)
    raise seats.full()
