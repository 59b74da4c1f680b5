"""Asking for volunteers on a gap. Callers own the transaction; these add and flush.

One call per slot: `volunteer_calls` has a unique key on (schedule_id, shift_start), and the call
row is inserted first with ON CONFLICT DO NOTHING, so of two coordinators pressing the button at
once exactly one queues messages and the other gets 409. The per-volunteer daily cap is a
conditional upsert of `volunteer_call_counts` (add one only while below the cap, RETURNING the
rows that changed): on PostgreSQL a second transaction waits on the row and re-checks the
condition against the committed count; SQLite runs one write transaction at a time. Never a count
read before the write.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from watchroster.auth.deps import Principal
from watchroster.auth.models import User
from watchroster.bookings.models import Booking
from watchroster.calls import messages
from watchroster.calls.models import CallCount, VolunteerCall
from watchroster.core import i18n
from watchroster.core.errors import BadRequest, Conflict
from watchroster.core.phones import may_receive_messages
from watchroster.core.rules import CallRules
from watchroster.outbox.service import queue_message
from watchroster.runtime.context import AppContext
from watchroster.schedules import availability
from watchroster.schedules.models import Schedule
from watchroster.schedules.slot_cache import CachedSlot

log = logging.getLogger("watchroster.calls")

_ONE_MICROSECOND = timedelta(microseconds=1)
_UPSERT_ROWS = 500  # per statement: well under either database's limit on bound parameters


# --- asking ---------------------------------------------------------------------------------------


def call_for_volunteers(
    session: Session, context: AppContext, caller: Principal, schedule_id: int, start: datetime
) -> VolunteerCall:
    """The use case "ask for volunteers" (`POST /roster/calls` and the roster's button): the
    coordinator `caller` asks, at the context's time, with its call rules (the daily cap, the
    allowed regions, the default language)."""
    return ask_for_volunteers(
        session,
        context.rules.calls,
        schedule_id=schedule_id,
        start=start,
        actor_id=caller.user_id,
        now=context.clock(),
    )


def ask_for_volunteers(
    session: Session,
    rules: CallRules,
    *,
    schedule_id: int,
    start: datetime,
    actor_id: int,
    now: datetime,
) -> VolunteerCall:
    """Queue one message to every volunteer who may be asked about this open slot.

    404 for an unknown schedule, 400 when `start` is not an open, not yet started slot of an
    active schedule, 409 when the slot already had a call. Asked: active members with a phone
    who have not opted out, whose number may receive messages, who are not on a shift (or the
    buddy of one) at that time, and who are not the coordinator asking; those who reached the
    day's cap are skipped and counted.
    """
    slot = open_slot(session, schedule_id, start, now)
    schedule = session.get_one(Schedule, schedule_id)
    end = datetime.fromisoformat(slot.end_time)
    call = _claim_slot(session, slot, end, actor_id, now)
    candidates = _candidates(session, rules, slot.start, end, actor_id)
    granted = take_allowance(
        session, [user.user_id for user in candidates], _day(now, rules), rules
    )
    for user in candidates:
        if user.user_id in granted:
            _queue_call(session, rules, call, schedule, slot, user, now)
    call.recipients = len(granted)
    call.skipped_capped = len(candidates) - len(granted)
    session.flush()
    log.info(
        "admin %s asked %d volunteers for schedule %s at %s (%d over the daily cap)",
        actor_id,
        call.recipients,
        schedule_id,
        slot.start_time,
        call.skipped_capped,
    )
    return call


def open_slot(session: Session, schedule_id: int, start: datetime, now: datetime) -> CachedSlot:
    """The open slot of `schedule_id` starting at `start` (any offset), or 400 / 404.

    The same search the open-shifts list uses, so whatever it leaves out (a booked or started
    slot, an inactive schedule, a skipped occurrence) cannot be asked about either."""
    query = availability.SlotQuery(start, start + _ONE_MICROSECOND, 1, schedule_id)
    found, _names = availability.find_slots(session, query, now)
    if not found:
        raise BadRequest(
            "this is not an open shift of that schedule (not an occurrence, already taken, "
            "started, or the schedule is inactive)",
            code="not_an_open_slot",
            details=[{"field": "start", "message": "not an open slot"}],
        )
    return found[0].slot


def _day(now: datetime, rules: CallRules) -> date:
    return now.astimezone(rules.zone).date()


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _claim_slot(
    session: Session, slot: CachedSlot, end: datetime, actor_id: int, now: datetime
) -> VolunteerCall:
    """The new call row, or 409 when the slot already has one (a concurrent insert of the same
    key waits for the other transaction, then finds the conflict)."""
    statement = (
        _insert(session)(VolunteerCall)
        .values(
            schedule_id=slot.schedule_id,
            shift_start=slot.start,
            shift_end=end,
            asked_by=actor_id,
            asked_at=now,
            recipients=0,
            skipped_capped=0,
        )
        .on_conflict_do_nothing(index_elements=["schedule_id", "shift_start"])
        .returning(VolunteerCall.call_id)
    )
    call_id = session.connection().execute(statement).scalar_one_or_none()
    if call_id is None:
        raise Conflict("volunteers were already asked for this shift", code="already_asked")
    return session.get_one(VolunteerCall, call_id)


def _candidates(
    session: Session, rules: CallRules, start: datetime, end: datetime, actor_id: int
) -> list[User]:
    """Who may be asked, by user id (the order the allowance rows are locked in, so two calls
    over the same people cannot deadlock on PostgreSQL)."""
    overlapping = (
        Booking.canceled_at.is_(None),
        Booking.shift_start < end,
        Booking.shift_end > start,
    )
    owners = select(Booking.user_id).where(*overlapping)
    buddies = select(Booking.buddy_user_id).where(*overlapping, Booking.buddy_user_id.is_not(None))
    query = (
        select(User)
        .where(
            User.active.is_(True),
            User.erased_at.is_(None),
            User.phone.is_not(None),
            User.volunteer_calls.is_(True),
            User.user_id != actor_id,
            User.user_id.not_in(owners),
            User.user_id.not_in(buddies),
        )
        .order_by(User.user_id)
    )
    users = session.scalars(query).all()
    return [u for u in users if u.phone and may_receive_messages(u.phone, rules.allowed_regions)]


def take_allowance(
    session: Session, user_ids: Sequence[int], day: date, rules: CallRules
) -> set[int]:
    """Count one call for each of `user_ids` on `day` where they are below the cap; returns
    those counted (the others have had their share of calls today)."""
    if rules.per_day <= 0:
        return set()
    granted: set[int] = set()
    ordered = sorted(user_ids)
    for first in range(0, len(ordered), _UPSERT_ROWS):
        rows = [
            {"user_id": u, "day": day, "calls": 1} for u in ordered[first : first + _UPSERT_ROWS]
        ]
        statement = (
            _insert(session)(CallCount)
            .values(rows)
            .on_conflict_do_update(
                index_elements=["user_id", "day"],
                set_={"calls": CallCount.calls + 1},
                where=CallCount.calls < rules.per_day,
            )
            .returning(CallCount.user_id)
        )
        granted.update(session.connection().execute(statement).scalars())
    return granted


def _queue_call(
    session: Session,
    rules: CallRules,
    call: VolunteerCall,
    schedule: Schedule,
    slot: CachedSlot,
    user: User,
    now: datetime,
) -> None:
    lang = i18n.message_language(user.language, rules.default_language)
    link = messages.book_link(rules.public_url, slot.schedule_id, slot.start_time)
    zone = ZoneInfo(schedule.timezone)
    body = messages.call_text(schedule.name, call.shift_start, call.shift_end, zone, link, lang)
    queue_message(
        session,
        message_type=messages.VOLUNTEER_CALL,
        recipient=user.phone or "",
        body=body,
        now=now,
        channel=user.channel,
        dedupe_key=f"call:{call.call_id}:{user.user_id}",
        # Of no use once the shift has started: the dispatcher expires it instead of sending.
        expires_at=call.shift_start,
    )


# --- listing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallView:
    """A call as the roster and the API show it."""

    call: VolunteerCall
    schedule_name: str
    timezone: str
    asked_by_name: str | None
    filled: bool  # every place of the slot has since been booked


def list_calls(
    session: Session, start: datetime, end: datetime, limit: int = 500
) -> list[CallView]:
    """Calls for slots starting in [start, end), in slot order."""
    rows = session.execute(
        select(VolunteerCall, Schedule, User.name)
        .join(Schedule, Schedule.schedule_id == VolunteerCall.schedule_id)
        .outerjoin(User, User.user_id == VolunteerCall.asked_by)
        .where(VolunteerCall.shift_start >= start, VolunteerCall.shift_start < end)
        .order_by(VolunteerCall.shift_start, VolunteerCall.schedule_id)
        .limit(limit)
    ).all()
    booked = _booked_places(session, start, end)
    return [
        CallView(
            call=call,
            schedule_name=schedule.name,
            timezone=schedule.timezone,
            asked_by_name=name,
            filled=booked.get((call.schedule_id, call.shift_start), 0) >= places(schedule),
        )
        for call, schedule, name in rows
    ]


def places(schedule: Schedule) -> int:
    """How many people a slot of the schedule takes (`seats`, issue #12)."""
    return schedule.seats


def _booked_places(
    session: Session, start: datetime, end: datetime
) -> dict[tuple[int, datetime], int]:
    """Active bookings per slot starting in [start, end) (the shift_start index)."""
    rows = session.execute(
        select(Booking.schedule_id, Booking.shift_start, func.count())
        .where(
            Booking.canceled_at.is_(None),
            Booking.shift_start >= start,
            Booking.shift_start < end,
        )
        .group_by(Booking.schedule_id, Booking.shift_start)
    ).all()
    return {(int(s), t): int(n) for s, t, n in rows}


def view_of(session: Session, call: VolunteerCall) -> CallView:
    """One call as `list_calls` shows it (the answer to a new call)."""
    schedule = session.get_one(Schedule, call.schedule_id)
    asker = session.get(User, call.asked_by) if call.asked_by is not None else None
    booked = _booked_places(session, call.shift_start, call.shift_start + _ONE_MICROSECOND)
    filled = booked.get((call.schedule_id, call.shift_start), 0) >= places(schedule)
    name = asker.name if asker is not None else None
    return CallView(call, schedule.name, schedule.timezone, name, filled)


def calls_by_slot(
    session: Session, start: datetime, end: datetime
) -> dict[tuple[int, datetime], CallView]:
    """The calls of slots starting in [start, end), by (schedule_id, UTC start): for the roster."""
    views = list_calls(session, start, end, limit=10_000)
    return {(view.call.schedule_id, view.call.shift_start): view for view in views}


def prune_counts(session: Session, today: date) -> int:
    """Delete the per-day call counts of days before `today` (the group's local date): the cap
    only ever reads today's row."""
    result = session.execute(delete(CallCount).where(CallCount.day < today))
    return int(getattr(result, "rowcount", 0) or 0)
