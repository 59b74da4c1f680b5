"""What an edit of a schedule does to its booked upcoming shifts (issue #21 §1, §9).

No shift row exists: a booking names its schedule and start, and the roster and open shifts
match it against the schedule's occurrences. So an edit that stops a booked start being a
shift (cron, zone, season, holidays skipped) would leave the booking active but on no shift
anyone sees. Such an edit is refused (409 `bookings_affected`, naming the shifts) unless the
request says to cancel those bookings; bookings whose start stays a shift stay, and when what
a calendar shows of them changes (the end, the schedule's name or zone) they are updated.

Writing bookings (cancelling them with their notices, moving their end, raising their
calendar SEQUENCE) belongs to `bookings`, above this package: callers that may change them
hand in a `Carry` (`bookings.schedule_edit`); without one, an edit that must change a booking
is refused rather than done halfway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from watchroster.auth.models import User
from watchroster.core.errors import Conflict
from watchroster.core.timefmt import to_rfc3339
from watchroster.db.booking_table import Booking
from watchroster.schedules.booked import first_name
from watchroster.schedules.exclusions import holiday_rule
from watchroster.schedules.holidays import HolidayRule, holiday_at
from watchroster.schedules.models import Schedule
from watchroster.schedules.recurrence import ScheduleRule, is_occurrence

BOOKINGS_AFFECTED = "bookings_affected"
# Slots named in a 409 at most (the message says how many there are in all).
SLOTS_NAMED = 20


@dataclass(frozen=True)
class Before:
    """The schedule as it was before the edit: what its booked shifts were booked as (it shows
    a shift as `bookings.messages.label_of` does: name and zone)."""

    name: str
    rule: ScheduleRule
    holidays: HolidayRule | None

    @property
    def timezone(self) -> str:
        return self.rule.timezone

    @classmethod
    def of(cls, schedule: Schedule) -> Before:
        return cls(schedule.name, schedule.rule, holiday_rule(schedule))


@dataclass(frozen=True)
class BookedEdit:
    """The active bookings of upcoming shifts an edit concerns, as ORM rows of its session."""

    schedule: Schedule  # as edited
    before: Before
    now: datetime
    dropped: list[Booking]  # their start is no longer a shift of the schedule
    moved: list[Booking]  # still a shift, but its end, name or zone changed

    @property
    def touches_bookings(self) -> bool:
        return bool(self.dropped or self.moved)


# Carries an edit over to its bookings: cancels `dropped` (telling everyone on them), moves the
# end of `moved` and raises their calendar SEQUENCE. `bookings.schedule_edit.carry_bookings`.
Carry = Callable[[Session, BookedEdit], None]


def held(rule: ScheduleRule, holidays: HolidayRule | None, start: datetime) -> bool:
    """`start` is a shift the rule offers: an occurrence, not on a public holiday it skips."""
    zone = ZoneInfo(rule.timezone)
    return is_occurrence(rule, start) and holiday_at(holidays, zone, start) is None


def booked_edit(session: Session, schedule: Schedule, before: Before, now: datetime) -> BookedEdit:
    """Which active bookings of shifts after `now` the edit drops, and which it moves.

    The caller holds the schedule row locked (see `service.update_schedule`), so no booking of
    it commits meanwhile. The bookings are locked too (PostgreSQL): a volunteer cancelling one
    at this moment goes first, and the row is then read as cancelled."""
    after = Before.of(schedule)
    shifts_change = _which_starts(before) != _which_starts(after)
    calendar_changes = _calendar_changes(before, after)
    if not (shifts_change or calendar_changes):
        return BookedEdit(schedule, before, now, [], [])
    bookings = session.scalars(
        _upcoming(schedule.schedule_id, now).order_by(Booking.shift_start, Booking.seat)
    ).all()
    verdicts: dict[datetime, bool] = {}
    dropped: list[Booking] = []
    moved: list[Booking] = []
    for booking in bookings:
        start = booking.shift_start
        if start not in verdicts:
            verdicts[start] = not shifts_change or held(after.rule, after.holidays, start)
        if not verdicts[start]:
            dropped.append(booking)
        elif calendar_changes:
            moved.append(booking)
    return BookedEdit(schedule, before, now, dropped, moved)


def _which_starts(schedule: Before) -> tuple[object, ...]:
    """What decides which starts are shifts (the length does not)."""
    rule = schedule.rule
    return (rule.cron_expr, rule.timezone, rule.start_date, rule.end_date, schedule.holidays)


def _calendar_changes(before: Before, after: Before) -> bool:
    """What a calendar event of a booking shows changed: the summary (the schedule's name),
    the TZID, or the end (the length)."""
    return (before.name, before.timezone, before.rule.duration_minutes) != (
        after.name,
        after.timezone,
        after.rule.duration_minutes,
    )


def _upcoming(schedule_id: int, now: datetime) -> Select[Booking]:
    return (
        select(Booking)
        .where(
            Booking.schedule_id == schedule_id,
            Booking.canceled_at.is_(None),
            Booking.shift_start > now,
        )
        .with_for_update()
    )


def settle(session: Session, edit: BookedEdit, *, cancel: bool, carry: Carry | None) -> None:
    """Refuse the edit (409 `bookings_affected`) or carry it over to its bookings."""
    if edit.dropped and not cancel:
        starts = sorted({booking.shift_start for booking in edit.dropped})
        raise slots_conflict(
            "this change drops booked upcoming shifts (no longer shifts of this schedule)",
            'send "on_booked": "cancel" to cancel those bookings and tell everyone on them',
            code=BOOKINGS_AFFECTED,
            starts=starts,
            zone=ZoneInfo(edit.before.timezone),
            field="on_booked",
            why="booked, and no longer a shift of this schedule",
        )
    if not edit.touches_bookings:
        return
    if carry is None:  # this entry point cannot write bookings: refuse, never half the change
        starts = sorted({booking.shift_start for booking in edit.dropped + edit.moved})
        raise slots_conflict(
            "this change moves or cancels booked upcoming shifts",
            "make it in the console or through PATCH /schedules/{id}, which update them",
            code=BOOKINGS_AFFECTED,
            starts=starts,
            zone=ZoneInfo(edit.before.timezone),
            field="schedule_id",
            why="booked, and changed by this edit",
        )
    carry(session, edit)


def slots_conflict(
    problem: str,
    way_out: str,
    *,
    code: str,
    starts: list[datetime],
    zone: ZoneInfo,
    field: str,
    why: str,
) -> Conflict:
    """A 409 naming upcoming shifts (the first `SLOTS_NAMED`, local RFC 3339), in the message
    and as `details` of `{field, start_time, message}`: `seats_in_use` and `bookings_affected`."""
    named = [to_rfc3339(start, zone) for start in starts[:SLOTS_NAMED]]
    more = f" and {len(starts) - len(named)} more" if len(starts) > len(named) else ""
    way = f"; {way_out}" if way_out else ""
    return Conflict(
        f"{problem}: {', '.join(named)}{more}{way}",
        code=code,
        details=[{"field": field, "start_time": start, "message": why} for start in named],
    )


@dataclass(frozen=True)
class DroppedShift:
    """A booked upcoming shift a draft would drop, as the console's preview lists it."""

    start: datetime  # local, in the saved schedule's zone
    end: datetime
    first_names: list[str]


def dropped_shifts(
    session: Session,
    schedule: Schedule,
    rule: ScheduleRule,
    holidays: HolidayRule | None,
    now: datetime,
) -> list[DroppedShift]:
    """The booked upcoming shifts of a saved schedule that `rule` (with `holidays` skipped)
    would no longer hold, with the first names of the volunteers on them."""
    zone = ZoneInfo(schedule.timezone)
    rows = session.execute(
        select(Booking.shift_start, Booking.shift_end, User.name)
        .join(User, User.user_id == Booking.user_id)
        .where(
            Booking.schedule_id == schedule.schedule_id,
            Booking.canceled_at.is_(None),
            Booking.shift_start > now,
        )
        .order_by(Booking.shift_start, Booking.seat)
    ).all()
    verdicts: dict[datetime, bool] = {}
    found: dict[datetime, DroppedShift] = {}
    for start, end, name in rows:
        if start not in verdicts:
            verdicts[start] = held(rule, holidays, start)
        if verdicts[start]:
            continue
        local = DroppedShift(start.astimezone(zone), end.astimezone(zone), [])
        shift = found.setdefault(start, local)
        if first_name(name):
            shift.first_names.append(str(first_name(name)))
    return list(found.values())


def dropped_shifts_of(
    session: Session,
    schedule_id: int,
    rule: ScheduleRule,
    holidays: HolidayRule | None,
    now: datetime,
) -> list[DroppedShift]:
    """`dropped_shifts` of the saved schedule `schedule_id`, none when it is gone (the console's
    form asks this before saving, in a read of its own)."""
    schedule = session.get(Schedule, schedule_id)
    return [] if schedule is None else dropped_shifts(session, schedule, rule, holidays, now)
