"""The roster: who is on which shift over some days, and where the gaps are.

Slots are the schedules' occurrences (`recurrence.occurrences`, the code availability and
booking use), minus public holidays a schedule skips; shifts a coordinator cancelled are kept
and marked, so the noticeboard says why nobody patrols. Unlike the open-shifts list, a slot that
has started still shows (today's roster is read during the evening too), and every place of a
slot (`Schedule.seats`) counts: a slot with 2 places and 1 volunteer is "1 of 2 filled", a gap.

Cost: one read of the active schedules, one of the window's bookings and one of its
cancellations (each an index range on shift_start), so it follows the window, never the history.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from watchroster.auth.models import User
from watchroster.bookings.models import Booking
from watchroster.core.errors import ValidationFailed
from watchroster.schedules.exclusions import cancelled_in, holiday_of
from watchroster.schedules.models import Schedule
from watchroster.schedules.recurrence import occurrences

DEFAULT_DAYS = 14
MAX_DAYS = 31


@dataclass(frozen=True)
class Place:
    """A taken place: the volunteer's and the buddy's first names (None: an erased account)."""

    seat: int
    volunteer: str | None
    buddy: str | None


@dataclass
class Slot:
    schedule_id: int
    schedule_name: str
    start: datetime  # local, in the schedule's zone
    end: datetime
    seats: int
    places: list[Place] = field(default_factory=list)
    cancelled: str | None = None  # the coordinator's reason

    @property
    def filled(self) -> int:
        return len(self.places)

    @property
    def open_seats(self) -> int:
        return 0 if self.cancelled else max(self.seats - self.filled, 0)

    @property
    def gap(self) -> bool:
        return self.open_seats > 0


@dataclass
class Count:
    """ "N of M filled" for one schedule (on a day, or over the whole roster)."""

    schedule_id: int
    schedule_name: str
    filled: int = 0
    places: int = 0

    def add(self, slot: Slot) -> None:
        if slot.cancelled is None:  # a cancelled shift needs nobody
            self.filled += min(slot.filled, slot.seats)
            self.places += slot.seats


@dataclass
class Day:
    day: date
    slots: list[Slot] = field(default_factory=list)
    counts: list[Count] = field(default_factory=list)

    @property
    def filled(self) -> int:
        return sum(count.filled for count in self.counts)

    @property
    def places(self) -> int:
        return sum(count.places for count in self.counts)

    @property
    def gaps(self) -> int:
        return sum(1 for slot in self.slots if slot.gap)


@dataclass
class Roster:
    first: date
    last: date  # inclusive
    days: list[Day]
    totals: list[Count]


def check_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(
            f"days must be 1..{MAX_DAYS}",
            details=[{"field": "days", "message": f"between 1 and {MAX_DAYS}"}],
        )
    return days


def week_of(day: date) -> date:
    """The Monday of the week `day` falls in (a printed roster is Monday to Sunday)."""
    return day - timedelta(days=day.weekday())


def _bookings(
    session: Session, start: datetime, end: datetime
) -> dict[tuple[int, datetime], list[Place]]:
    buddy = aliased(User)
    rows = session.execute(
        select(
            Booking.schedule_id,
            Booking.shift_start,
            Booking.seat,
            User.name,
            buddy.name,
            Booking.buddy_name,
        )
        .join(User, User.user_id == Booking.user_id)
        .outerjoin(buddy, buddy.user_id == Booking.buddy_user_id)
        .where(
            Booking.canceled_at.is_(None),
            Booking.shift_start >= start,
            Booking.shift_start < end,
        )
        .order_by(Booking.seat)
    )
    found: dict[tuple[int, datetime], list[Place]] = defaultdict(list)
    for schedule_id, shift_start, seat, name, buddy_user, buddy_name in rows:
        place = Place(seat, first_name(name), first_name(buddy_user or buddy_name))
        found[(schedule_id, shift_start)].append(place)
    return found


def first_name(name: str | None) -> str | None:
    """Other people appear by first name only, on the console as on the volunteer pages."""
    return name.split()[0] if name and name.strip() else None


def _slots(session: Session, start: datetime, end: datetime) -> list[Slot]:
    booked = _bookings(session, start, end)
    cancelled = cancelled_in(session, start, end)
    slots: list[Slot] = []
    schedules = session.scalars(select(Schedule).where(Schedule.active.is_(True)))
    for schedule in schedules:
        zone = ZoneInfo(schedule.timezone)
        for occurrence in occurrences(schedule.rule, start, end):
            if holiday_of(schedule, occurrence.start) is not None:
                continue  # not a shift at all this year: nothing to fill
            key = (schedule.schedule_id, occurrence.start)
            slots.append(
                Slot(
                    schedule.schedule_id,
                    schedule.name,
                    occurrence.start.astimezone(zone),
                    occurrence.end.astimezone(zone),
                    schedule.seats,
                    booked.get(key, []),
                    cancelled.get(key),
                )
            )
    slots.sort(key=lambda slot: (slot.start, slot.schedule_name, slot.schedule_id))
    return slots


def roster(session: Session, first: date, days: int, zone: ZoneInfo) -> Roster:
    """The roster of local dates first..first+days-1 in the group's zone, day by day."""
    check_days(days)
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(first + timedelta(days=days), time(), zone)
    by_day = {first + timedelta(days=n): Day(first + timedelta(days=n)) for n in range(days)}
    totals: dict[int, Count] = {}
    for slot in _slots(session, start, end):
        day = by_day[slot.start.astimezone(zone).date()]
        day.slots.append(slot)
        counts = {count.schedule_id: count for count in day.counts}
        if slot.schedule_id not in counts:
            day.counts.append(Count(slot.schedule_id, slot.schedule_name))
            counts[slot.schedule_id] = day.counts[-1]
        counts[slot.schedule_id].add(slot)
        totals.setdefault(slot.schedule_id, Count(slot.schedule_id, slot.schedule_name)).add(slot)
    ordered = sorted(totals.values(), key=lambda count: (count.schedule_name, count.schedule_id))
    return Roster(first, first + timedelta(days=days - 1), list(by_day.values()), ordered)


# A day of the 14-day roster shows at most this many slots (issue #22 §7): an every-minute
# schedule would otherwise put 1,440 rows a day on the page. The chosen week (the print view)
# and the CSV stay complete; the rest of a day is one link away, `DETAIL_PAGE` slots a page.
DAY_ROWS = 48
DETAIL_PAGE = 240


@dataclass(frozen=True)
class More:
    """Slots of one schedule a bounded day leaves out: "N more", linking to that day in full."""

    schedule_id: int
    schedule_name: str
    hidden: int


def _shares(counts: dict[int, int], budget: int) -> dict[int, int]:
    """How many slots each schedule shows: the highest level every schedule can reach within
    the budget, then one more each for the first that have more, so a dense schedule never
    crowds out the evening patrol (ids in the order given, the day's order)."""
    level = 0
    while level < budget and sum(min(n, level + 1) for n in counts.values()) <= budget:
        level += 1
    shares = {key: min(n, level) for key, n in counts.items()}
    left = budget - sum(shares.values())
    for key, n in counts.items():
        if left > 0 and n > shares[key]:
            shares[key] += 1
            left -= 1
    return shares


def bounded(day: Day, budget: int = DAY_ROWS) -> tuple[list[Slot], list[More]]:
    """The slots of `day` to show (time order kept) and, per schedule, how many are left out."""
    counts: dict[int, int] = {}
    for slot in day.slots:
        counts[slot.schedule_id] = counts.get(slot.schedule_id, 0) + 1
    shares = _shares(counts, budget)
    shown: list[Slot] = []
    taken: dict[int, int] = {}
    for slot in day.slots:
        if taken.get(slot.schedule_id, 0) < shares[slot.schedule_id]:
            taken[slot.schedule_id] = taken.get(slot.schedule_id, 0) + 1
            shown.append(slot)
    more = [
        More(count.schedule_id, count.schedule_name, counts[count.schedule_id] - shares[key])
        for count in day.counts
        if counts[(key := count.schedule_id)] > shares[key]
    ]
    return shown, more
