"""Attendance figures over a period: per volunteer, per schedule, and the fill rate per week.

The one place these rules live; the JSON API, the CSV exports and the console page call it.

* A period is a range of local dates in the group's zone (WATCHROSTER_TIMEZONE), both ends
  inclusive; by default the 12 weeks that end today. A booking belongs to it by its shift start.
* Per volunteer (the one who booked): **booked** counts bookings still standing; of those,
  **attended** and **absent** were recorded, **not recorded** have started without a record
  (upcoming shifts of the period are booked and nothing else yet); **cancelled late** counts
  bookings cancelled less than 24 hours before the shift's start.
* Per schedule: **fill rate** = booked places / offered places. Offered places are the
  schedule's occurrences in the period (the recurrence code availability uses) times its seats;
  a slot counts at most its seats however many rows name it, so a rate never passes 100 %.
  Shifts the coordinators cancelled and public holidays a schedule skips are not offered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from watchroster.auth.models import User
from watchroster.bookings.models import Booking
from watchroster.core.errors import ValidationFailed
from watchroster.core.timefmt import parse_day
from watchroster.schedules import exclusions
from watchroster.schedules.holidays import holiday_at
from watchroster.schedules.models import Schedule
from watchroster.schedules.recurrence import occurrences

DEFAULT_WEEKS = 12
# A year and a day: enough for "this season" or "last year", and it bounds the work (the
# occurrences of every schedule over the period are generated on each request).
MAX_DAYS = 366
LATE_CANCEL = timedelta(hours=24)
SORT_KEYS = ("name", "booked", "attended", "absent", "not_recorded", "canceled_late")
DEFAULT_SORT = "name"
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Period:
    first: date  # local date, inclusive
    last: date  # local date, inclusive
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        """The first day's local midnight, as a UTC instant."""
        return _midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The local midnight after the last day (exclusive), as a UTC instant."""
        return _midnight(self.last + timedelta(days=1), self.zone)

    def weeks(self) -> list[tuple[date, date]]:
        """Seven-day spans counted back from the last day (so the latest week is whole); the
        first span is shorter when the period is not a number of weeks."""
        spans: list[tuple[date, date]] = []
        last = self.last
        while last >= self.first:
            first = max(self.first, last - timedelta(days=6))
            spans.append((first, last))
            last = first - timedelta(days=1)
        return spans[::-1]

    def week_index(self, day: date) -> int:
        weeks = ((self.last - self.first).days + 7) // 7
        return weeks - 1 - (self.last - day).days // 7


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def period_of(first: date | None, last: date | None, today: date, zone: ZoneInfo) -> Period:
    """The period the caller asked for; either end may be left out (default: 12 weeks to
    today, or 12 weeks from/to the one given)."""
    span = timedelta(days=7 * DEFAULT_WEEKS - 1)
    if last is None:
        last = today if first is None else max(first, min(today, first + span))
    if first is None:
        first = last - span
    if first > last:
        raise ValidationFailed(
            "from must not be after to", details=[{"field": "from", "message": "after to"}]
        )
    if (last - first).days >= MAX_DAYS:
        raise ValidationFailed(
            f"the period may be at most {MAX_DAYS} days",
            details=[{"field": "from", "message": f"more than {MAX_DAYS} days before to"}],
        )
    return Period(first, last, zone)


def parse_sort(text: str | None) -> tuple[str, bool]:
    """`"-absent"` → ("absent", descending); 400 for a column that does not exist."""
    value = (text or DEFAULT_SORT).strip()
    descending = value.startswith("-")
    key = value.removeprefix("-")
    if key not in SORT_KEYS:
        choices = ", ".join(SORT_KEYS)
        raise ValidationFailed(
            f"sort: one of {choices}, optionally with a leading '-' for descending",
            details=[{"field": "sort", "message": "unknown column"}],
        )
    return key, descending


@dataclass
class VolunteerFigures:
    user_id: int
    name: str | None  # None once the account is erased
    booked: int = 0
    attended: int = 0
    absent: int = 0
    not_recorded: int = 0
    canceled_late: int = 0


@dataclass(frozen=True)
class FillRate:
    offered: int  # places offered (occurrences × seats)
    booked: int  # of those, places taken

    @property
    def rate(self) -> float | None:
        """0..1, or None when nothing was offered (no rate rather than a misleading 0 %)."""
        return self.booked / self.offered if self.offered else None


@dataclass(frozen=True)
class ScheduleFigures:
    schedule_id: int
    name: str
    fill: FillRate


@dataclass(frozen=True)
class WeekFigures:
    first: date
    last: date
    fill: FillRate


@dataclass(frozen=True)
class Figures:
    period: Period
    sort: str  # as given to `parse_sort`, normalised: "name", "-absent"
    volunteers: list[VolunteerFigures]
    schedules: list[ScheduleFigures]
    weeks: list[WeekFigures]


@dataclass(frozen=True)
class _Row:
    user_id: int
    name: str | None
    schedule_id: int
    shift_start: datetime
    canceled_at: datetime | None
    canceled_by: int | None  # a coordinator who cancelled the whole shift
    recorded_at: datetime | None
    attended: bool


def attendance_figures(
    session: Session, period: Period, now: datetime, sort: str | None = None
) -> Figures:
    """Everything the page, the API and the CSV show for `period` (`sort`: see `parse_sort`)."""
    key, descending = parse_sort(sort)
    rows = _bookings(session, period)
    volunteers = sort_volunteers(tally_volunteers(rows, now), key, descending)
    schedules, weeks = _fill_rates(session, period, rows)
    normalised = f"-{key}" if descending else key
    return Figures(period, normalised, volunteers, schedules, weeks)


def _bookings(session: Session, period: Period) -> list[_Row]:
    """Every booking (cancelled ones too) whose shift starts in the period: one indexed range
    read on `bookings.shift_start`, whatever the length of the history."""
    query = (
        select(
            Booking.user_id,
            User.name,
            Booking.schedule_id,
            Booking.shift_start,
            Booking.canceled_at,
            Booking.canceled_by_user_id,
            Booking.attendance_recorded_at,
            Booking.attended,
        )
        .join(User, User.user_id == Booking.user_id)
        .where(Booking.shift_start >= period.start, Booking.shift_start < period.end)
    )
    return [_Row(*row) for row in session.execute(query)]


def is_late_cancel(shift_start: datetime, canceled_at: datetime) -> bool:
    """Cancelled less than 24 hours before the start (23 h before: late; 25 h: not)."""
    return timedelta(0) <= shift_start - canceled_at < LATE_CANCEL


def tally_volunteers(rows: Iterable[_Row], now: datetime) -> list[VolunteerFigures]:
    found: dict[int, VolunteerFigures] = {}
    for row in rows:
        figures = found.setdefault(row.user_id, VolunteerFigures(row.user_id, row.name))
        if row.canceled_at is not None:
            # A shift the coordinators called off (a storm) is nobody's late cancellation.
            if row.canceled_by is None:
                figures.canceled_late += is_late_cancel(row.shift_start, row.canceled_at)
            continue
        figures.booked += 1
        if row.recorded_at is not None:
            figures.attended += row.attended
            figures.absent += not row.attended
        elif row.shift_start <= now:
            figures.not_recorded += 1
    return list(found.values())


def sort_volunteers(
    volunteers: Sequence[VolunteerFigures], key: str, descending: bool
) -> list[VolunteerFigures]:
    """By the column, ties (and the name column) by name then id, so the order is stable."""
    by_name = sorted(volunteers, key=lambda v: ((v.name or "").casefold(), v.user_id))
    if key == "name":
        return by_name[::-1] if descending else by_name
    column: str = key
    return sorted(by_name, key=lambda v: int(getattr(v, column)), reverse=descending)


def _schedules(session: Session, rows: Sequence[_Row]) -> list[Schedule]:
    """Active schedules, and inactive ones that still have bookings in the period."""
    booked_ids = {row.schedule_id for row in rows}
    query = select(Schedule).where(
        or_(Schedule.active.is_(True), Schedule.schedule_id.in_(booked_ids))
    )
    return list(session.scalars(query.order_by(Schedule.name, Schedule.schedule_id)))


def _fill_rates(
    session: Session, period: Period, rows: Sequence[_Row]
) -> tuple[list[ScheduleFigures], list[WeekFigures]]:
    taken = Counter((row.schedule_id, row.shift_start) for row in rows if row.canceled_at is None)
    called_off = exclusions.cancelled_in(session, period.start, period.end)
    spans = period.weeks()
    week_offered, week_booked = [0] * len(spans), [0] * len(spans)
    schedules: list[ScheduleFigures] = []
    for schedule in _schedules(session, rows):
        seats, offered, booked = schedule.seats, 0, 0
        holidays, zone = exclusions.holiday_rule(schedule), ZoneInfo(schedule.timezone)
        for occurrence in occurrences(schedule.rule, period.start, period.end):
            # Not offered: a shift the coordinators cancelled, a public holiday it skips.
            if (schedule.schedule_id, occurrence.start) in called_off:
                continue
            if holiday_at(holidays, zone, occurrence.start) is not None:
                continue
            filled = min(seats, taken[(schedule.schedule_id, occurrence.start)])
            offered, booked = offered + seats, booked + filled
            # The group's calendar, as the period's: a week is the same days for every schedule.
            week = period.week_index(occurrence.start.astimezone(period.zone).date())
            week_offered[week] += seats
            week_booked[week] += filled
        schedules.append(
            ScheduleFigures(schedule.schedule_id, schedule.name, FillRate(offered, booked))
        )
    weeks = [
        WeekFigures(first, last, FillRate(offered, booked))
        for (first, last), offered, booked in zip(spans, week_offered, week_booked, strict=True)
    ]
    return schedules, weeks


def requested_period(
    from_text: str | None, to_text: str | None, now: datetime, zone: ZoneInfo
) -> Period:
    """The period of `from`/`to` query values (YYYY-MM-DD, either may be absent), 400 if bad."""
    first = parse_day(from_text, "from") if from_text is not None else None
    last = parse_day(to_text, "to") if to_text is not None else None
    return period_of(first, last, now.astimezone(zone).date(), zone)
