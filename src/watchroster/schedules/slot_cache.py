"""A per-process cache of schedule occurrences, one UTC day at a time, rendered for the API.

Expanding 50 schedules over weeks and rendering each slot as RFC 3339 costs milliseconds per
request; the answer only changes when a schedule does. The cache key is the schedule's whole
definition (name, cron, zone, season, length) as read from the database on every request, so an
edited schedule, from this process or any other, simply misses the cache: it can never serve a
stale slot. Bookings are never cached; they are read fresh for every request.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from watchroster.schedules.models import Schedule
from watchroster.schedules.recurrence import ScheduleRule, occurrences
from watchroster.timefmt import to_rfc3339

ONE_DAY = timedelta(days=1)


# The columns a `ScheduleView` is read from, in the order `ScheduleView.of_row` expects.
VIEW_COLUMNS = (
    Schedule.schedule_id,
    Schedule.name,
    Schedule.cron_expr,
    Schedule.timezone,
    Schedule.start_date,
    Schedule.end_date,
    Schedule.duration_minutes,
)


@dataclass(frozen=True)
class ScheduleView:
    """What the slot list (and a booking) needs of a schedule row; hashable, so it can be part of a
    cache key."""

    schedule_id: int
    name: str
    rule: ScheduleRule

    @property
    def timezone(self) -> str:
        return self.rule.timezone

    @classmethod
    def of_row(
        cls, row: Sequence[Any], read_date: Callable[[Any], date | None] = lambda d: d
    ) -> ScheduleView:
        """From a row of `VIEW_COLUMNS`; `read_date` decodes dates the driver left as text."""
        schedule_id, name, cron_expr, timezone, start, end, duration = row
        return cls(
            schedule_id,
            name,
            _rule(cron_expr, timezone, read_date(start), read_date(end), duration),
        )


@functools.lru_cache(maxsize=1024)
def _rule(
    cron_expr: str, timezone: str, start: date | None, end: date | None, duration: int
) -> ScheduleRule:
    # Building a rule validates its cron expression and zone; schedules rarely change.
    return ScheduleRule(cron_expr, timezone, start, end, duration)


class CachedSlot(NamedTuple):
    # A tuple whose first fields are (start, schedule_id): lists of them sort in C, in the
    # order the API promises, with no key function.
    start: datetime  # UTC
    schedule_id: int
    start_time: str  # RFC 3339 in the schedule's zone
    end_time: str
    available_json: str  # the slot's JSON object as served when it is open


DayMap = dict[datetime, tuple[CachedSlot, ...]]


def utc_day_start(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


class SlotCache:
    """Bounded: when full it starts again empty (simple, and a refill costs one request's work).

    Two levels, so a request hashes each schedule once, not once per schedule and day.
    """

    def __init__(self, max_days: int = 100_000) -> None:
        self._max_days = max_days
        self._size = 0
        self._schedules: dict[ScheduleView, DayMap] = {}
        self._lock = threading.Lock()

    def days_of(self, view: ScheduleView) -> DayMap:
        days = self._schedules.get(view)
        if days is None:
            with self._lock:
                days = self._schedules.setdefault(view, {})
        return days

    def day(self, view: ScheduleView, days: DayMap, day_start: datetime) -> tuple[CachedSlot, ...]:
        """`view`'s slots on the UTC day starting at `day_start`; `days` is `days_of(view)`."""
        slots = days.get(day_start)
        if slots is None:
            slots = _render_day(view, day_start)
            with self._lock:
                if self._size >= self._max_days:
                    self._schedules.clear()
                    self._size = 0
                days[day_start] = slots
                self._size += 1
        return slots

    def clear(self) -> None:
        with self._lock:
            self._schedules.clear()
            self._size = 0


def _render_day(view: ScheduleView, day_start: datetime) -> tuple[CachedSlot, ...]:
    zone = ZoneInfo(view.rule.timezone)
    rendered = []
    for occ in occurrences(view.rule, day_start, day_start + ONE_DAY):
        start_time, end_time = to_rfc3339(occ.start, zone), to_rfc3339(occ.end, zone)
        body = {
            "schedule_id": view.schedule_id,
            "schedule_name": view.name,
            "start_time": start_time,
            "end_time": end_time,
            "available": True,
        }
        rendered.append(
            CachedSlot(occ.start, view.schedule_id, start_time, end_time, json.dumps(body))
        )
    return tuple(rendered)
