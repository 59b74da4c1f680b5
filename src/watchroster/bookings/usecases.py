"""The volunteer's actions, one function each (issue #22 §1): book, cancel, change the buddy,
decline as the buddy, record attendance, file a report, home safe.

`bookings.router` (JSON) and the pages (`web.routes_book`, `routes_booking`, `routes_buddy`)
both call these and only translate HTTP to the call and the result (or the `AppError`) back.
Each takes the caller, the input and the application context, and reads the time and the rules
from the context only: a handler cannot pass other rules, so both ways in apply the
deployment's limits, regions and language.

All but `book` take the open session as their first argument, so a page runs them with
`context.db.run_write(usecase, context, caller, ...)` and a sync endpoint in its own
`with context.db.write()`. `book` is the hot path: it runs on a `RawTransaction` through the
group commit (`context.writes`), with the session checked inside the booking's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from watchroster.auth.deps import Principal
from watchroster.auth.models import User
from watchroster.bookings import create, home_safe, idempotency, participants, service
from watchroster.bookings.idempotency import Reply, RequestKey
from watchroster.bookings.models import Booking, Report
from watchroster.bookings.schemas import (
    AttendanceUpdate,
    BookingCreate,
    BuddyChange,
    ReportCreate,
    ReportOut,
)
from watchroster.runtime.context import AppContext
from watchroster.schedules.models import Schedule

Changed = tuple[Booking, Schedule]


@dataclass(frozen=True)
class BookingView:
    """One booking as its pages show it, read in one transaction (the rows stay readable
    after it: sessions do not expire them on commit)."""

    caller: Principal
    booking: Booking
    schedule: Schedule
    reports: list[Report]
    booker_name: str | None  # who booked, when the caller is not them (the registered buddy)
    now: datetime


def view_booking(
    session: Session, context: AppContext, caller: Principal, booking_id: int
) -> BookingView:
    """The booking with its reports, for its volunteer, its registered buddy or an admin."""
    booking, schedule, reports = service.get_booking(session, caller, booking_id)
    booker = None if booking.user_id == caller.user_id else session.get(User, booking.user_id)
    name = booker.name if booker is not None else None
    return BookingView(caller, booking, schedule, reports, name, context.clock())


Named = tuple[Booking, Schedule, str | None]  # with the booker's name


@dataclass(frozen=True)
class MyShifts:
    """The caller's shifts as My shifts lists them, read in one transaction."""

    coming: list[Changed]  # soonest first
    past: list[Changed]  # started, latest first
    as_buddy: list[Named]  # coming, where the caller is the registered buddy
    past_as_buddy: list[Named]  # started, where the caller is the buddy: theirs to record too
    now: datetime


def my_shifts(
    session: Session, context: AppContext, caller: Principal, coming: int, past: int
) -> MyShifts:
    """Up to `coming` shifts to come and `past` started ones, of each kind (own, as buddy)."""
    now = context.clock()
    # Coordinators see the same page as volunteers: their own bookings, not everybody's (the
    # service lists everybody's for an admin unless told whose; a volunteer may not say).
    own = caller.user_id if caller.is_admin else None
    ahead, _ = service.list_bookings(
        session, caller, service.BookingFilter(user_id=own, start=now), service.Page(coming, 0)
    )
    behind, _ = service.list_bookings(
        session, caller, service.BookingFilter(user_id=own, end=now), service.Page(past, 0)
    )
    as_buddy = service.bookings_as_buddy(session, caller.user_id, now, coming)
    where = service.BookingFilter(end=now, role=service.ROLE_BUDDY)
    rows, _ = service.list_bookings(session, caller, where, service.Page(past, 0))
    past_as_buddy = [(b, s, _name_of(session, b.user_id)) for b, s in rows]
    return MyShifts(list(reversed(ahead)), behind, as_buddy, past_as_buddy, now)


def _name_of(session: Session, user_id: int) -> str | None:
    user = session.get(User, user_id)
    return user.name if user is not None else None


async def book(
    context: AppContext, token_hash: str, data: BookingCreate, key: RequestKey | None
) -> Reply:
    """Book one shift for the holder of `token_hash` (a bearer token or a page session),
    once per `key` when there is one; the reply is the 201 body of `POST /bookings`."""
    settings, rules = context.settings, context.rules.buddy
    asked = create.Asked(token_hash, data, context.clock(), settings.default_region, rules)
    if key is None:  # no extra statement on the common path
        # The reply is built after the commit, outside SQLite's write lock: every microsecond
        # inside it is one no other booking can use (issue #14).
        new = await context.writes.run(lambda transaction: create.book_as(transaction, asked))
        return create.reply_of(*new)
    return await context.writes.run(lambda transaction: create.book_once(transaction, asked, key))


def cancel(session: Session, context: AppContext, caller: Principal, booking_id: int) -> None:
    """Cancel before the shift starts (again: nothing changes); the buddy is told within the
    notice limits."""
    service.cancel_booking(session, caller, booking_id, context.clock(), context.rules.buddy)


def change_buddy(
    session: Session, context: AppContext, caller: Principal, booking_id: int, change: BuddyChange
) -> tuple[Booking, Schedule, bool | None]:
    """Name another buddy (or none) before the shift starts; the last value: whether the new
    buddy was told (None: no buddy named)."""
    rules = context.rules.buddy
    return participants.change_buddy(
        session,
        caller,
        booking_id,
        change,
        context.clock(),
        default_region=rules.default_region,
        rules=rules,
    )


def decline(session: Session, context: AppContext, caller: Principal, booking_id: int) -> Changed:
    """The registered buddy's "I can't come": the link goes and the volunteer is told."""
    return participants.decline(session, caller, booking_id, context.clock(), context.rules.buddy)


def record_attendance(
    session: Session,
    context: AppContext,
    caller: Principal,
    booking_id: int,
    data: AttendanceUpdate,
) -> Changed:
    """Who turned up, once the shift has started (the buddy: only their own)."""
    return service.record_attendance(session, caller, booking_id, data, context.clock())


def file_report(
    session: Session,
    context: AppContext,
    caller: Principal,
    booking_id: int,
    data: ReportCreate,
    key: RequestKey | None,
) -> Reply:
    """File an incident report once per `key` (when there is one); severity 2 alerts the
    coordinators within the alert caps. The reply is the 201 body of the API (a replay: the
    first one's, so the page can tell whether the coordinators' phones rang)."""
    now = context.clock()

    def filed() -> Reply:
        report = service.file_report(session, caller, booking_id, data, now, context.rules.alerts)
        return Reply(201, ReportOut.of(report).model_dump_json())

    return idempotency.once_in_session(session, caller.user_id, key, now, filed)


def mark_safe(session: Session, context: AppContext, caller: Principal, booking_id: int) -> Changed:
    """Home safe, once the shift has ended; saying it again changes nothing."""
    return home_safe.mark_safe(session, caller, booking_id, context.clock())
