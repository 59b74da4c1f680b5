"""A per-process cache of schedule occurrences, a chunk of time at a time, rendered for the API.

Expanding schedules and rendering each slot as RFC 3339 and JSON costs microseconds per slot; the
answer only changes when a schedule does. The cache key is the schedule's whole definition (name,
cron, zone, season, length) as read from the database on every request, so an edited schedule,
from this process or any other, simply misses the cache: it can never serve a stale slot.
Bookings are never cached; they are read fresh for every request.

Each schedule's time is cut into chunks aligned to UTC midnight: a whole day for most schedules,
down to 15 minutes for dense ones, so that no chunk holds more than a few dozen slots and a
request that needs the first minutes of an every-minute schedule renders minutes, not a day. A
chunk also records where the schedule's next non-empty chunk starts (found by
`next_occurrence`, which jumps over months), so a walk never visits an empty day and a schedule
that fires on 29 February costs one lookup per request, not 366.

Memory is bounded by a budget of slots: the least recently used chunks are dropped first, so a
year-long query over hundreds of schedules (a few thousand slots at most, see `availability`)
neither thrashes the cache nor lets every-minute schedules fill memory.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from watchroster.core.timefmt import to_rfc3339
from watchroster.schedules.cron import parse_cron
from watchroster.schedules.holidays import HolidayRule, holiday_at, rule_of
from watchroster.schedules.models import Schedule
from watchroster.schedules.recurrence import ScheduleRule, next_occurrence, occurrences

ONE_DAY = timedelta(days=1)
# Chunk lengths in minutes, each dividing the one before, so every grid refines the coarser ones.
CHUNK_MINUTES = (1440, 720, 360, 180, 60, 15)
MAX_CHUNK_SLOTS = 32
# How far ahead a chunk looks for the schedule's next slot: beyond any window a request may
# ask for (366 days), so a walk that finds nothing before this point is finished.
LOOKAHEAD = timedelta(days=400)
DEFAULT_MAX_SLOTS = 100_000  # about 50 MB of rendered slots


# The columns a `ScheduleView` is read from, in the order `ScheduleView.of_row` expects.
VIEW_COLUMNS = (
    Schedule.schedule_id,
    Schedule.name,
    Schedule.cron_expr,
    Schedule.timezone,
    Schedule.start_date,
    Schedule.end_date,
    Schedule.duration_minutes,
    Schedule.seats,
    Schedule.skip_holidays,
    Schedule.holiday_country,
    Schedule.holiday_subdivision,
)


@dataclass(frozen=True)
class ScheduleView:
    """What the slot list (and a booking) needs of a schedule row; hashable, so it can be part of a
    cache key."""

    schedule_id: int
    name: str
    rule: ScheduleRule
    seats: int = 1  # volunteers per shift: part of the key, as the rendered JSON shows it
    # Public holidays skipped (`schedules.holidays`): part of the key, chunks leave them out.
    holidays: HolidayRule | None = None

    @property
    def timezone(self) -> str:
        return self.rule.timezone

    @classmethod
    def of_row(
        cls, row: Sequence[Any], read_date: Callable[[Any], date | None] = lambda d: d
    ) -> ScheduleView:
        """From a row of `VIEW_COLUMNS`; `read_date` decodes dates the driver left as text."""
        schedule_id, name, cron_expr, timezone, start, end, duration, seats = row[:8]
        return cls(
            schedule_id,
            name,
            _rule(cron_expr, timezone, read_date(start), read_date(end), duration),
            seats,
            rule_of(*row[8:11]),
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
    available_json: str  # the slot's JSON object as served when no seat is taken
    seats: int

    def partly_open_json(self, taken: int) -> str:
        """The JSON served when `taken` of its seats (fewer than all) are booked: the same
        object with another `seats_left`, the last member (so the cached text is reused)."""
        head, _, _ = self.available_json.rpartition(" ")
        return f"{head} {self.seats - taken}}}"


class Chunk(NamedTuple):
    slots: tuple[CachedSlot, ...]  # in start order
    # Start of the schedule's next chunk that holds a slot, or a point beyond any window a walk
    # from here may cover (see LOOKAHEAD) when there is none before it.
    following: datetime


def utc_day_start(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@functools.lru_cache(maxsize=1024)
def chunk_length(cron_expr: str) -> timedelta:
    """The longest chunk in which the expression fires at most MAX_CHUNK_SLOTS times."""
    minutes = parse_cron(cron_expr).minutes_of_day
    for length in CHUNK_MINUTES[:-1]:
        if _densest(minutes, length) <= MAX_CHUNK_SLOTS:
            return timedelta(minutes=length)
    return timedelta(minutes=CHUNK_MINUTES[-1])  # at most 15 slots, one a minute


def _densest(minutes: tuple[int, ...], length: int) -> int:
    """The most firing times (minutes of the day, ascending) in any `length` minutes, wrapping
    past midnight (a UTC chunk is a local window at any offset)."""
    wrapped = minutes + tuple(m + 1440 for m in minutes)
    most, low = 0, 0
    for high, minute in enumerate(wrapped):
        while wrapped[low] <= minute - length:
            low += 1
        most = max(most, high - low + 1)
    return most


class ScheduleSlots:
    """One schedule's chunks in a `SlotCache`; a request looks its schedules up once each."""

    __slots__ = ("_cache", "chunks", "length", "used", "view")

    def __init__(self, view: ScheduleView, cache: SlotCache) -> None:
        self.view = view
        self.length = chunk_length(view.rule.cron_expr)
        self.chunks: dict[datetime, Chunk] = {}
        self.used: set[datetime] = set()  # chunks used since the cache last looked at them
        self._cache = cache

    def chunk_start(self, instant: datetime) -> datetime:
        """Start of the chunk holding `instant`."""
        return chunk_start(instant, self.length)

    def chunk(self, start: datetime) -> Chunk:
        """The chunk starting at `start` (a chunk boundary)."""
        # The hot path of every request, so a hit takes no lock and one set insertion: each
        # operation is atomic, and a chunk dropped by another thread meanwhile is still right.
        found = self.chunks.get(start)
        if found is None:
            return self._cache.add(self, start)
        self.used.add(start)
        return found


def chunk_start(instant: datetime, length: timedelta) -> datetime:
    """Start of the chunk of `length` holding `instant` (chunks are aligned to UTC midnight)."""
    day = utc_day_start(instant)
    return day + (instant - day) // length * length


class SlotCache:
    """Rendered chunks of schedules, at most `max_slots` slots in all (an empty chunk counts as
    one). Safe to share between threads.

    Eviction is least recently used, approximated the way CLOCK does it: chunks queue in the
    order they were rendered, and the oldest goes first unless it was used since it was last
    looked at, in which case it goes to the back. A hit then costs one set insertion.
    """

    def __init__(self, max_slots: int = DEFAULT_MAX_SLOTS) -> None:
        self._max_slots = max_slots
        self._schedules: dict[ScheduleView, ScheduleSlots] = {}
        self._queue: deque[tuple[ScheduleSlots, datetime]] = deque()
        self._weight = 0
        self._lock = threading.Lock()
        self.renders = 0  # chunks rendered so far (a walk pauses after each)

    @property
    def weight(self) -> int:
        """Slots held now (empty chunks count one each)."""
        return self._weight

    def schedule(self, view: ScheduleView) -> ScheduleSlots:
        found = self._schedules.get(view)
        if found is None:
            with self._lock:
                found = self._schedules.setdefault(view, ScheduleSlots(view, self))
        return found

    def add(self, schedule: ScheduleSlots, start: datetime) -> Chunk:
        """Render a chunk that `schedule` misses, keep it, and make room for it."""
        # Rendered outside the lock: two threads may render the same chunk; the first one kept.
        rendered = render_chunk(schedule.view, start, start + schedule.length)
        with self._lock:
            self.renders += 1
            found = schedule.chunks.setdefault(start, rendered)
            if found is rendered:
                self._queue.append((schedule, start))
                self._weight += _weight(rendered)
                self._evict()
        return found

    def _evict(self) -> None:
        second_chances = len(self._queue)  # each used chunk is spared once, then it can go
        while self._weight > self._max_slots and len(self._queue) > 1:
            schedule, start = self._queue.popleft()
            if start in schedule.used and second_chances > 0:
                schedule.used.discard(start)
                self._queue.append((schedule, start))
                second_chances -= 1
                continue
            schedule.used.discard(start)
            self._weight -= _weight(schedule.chunks.pop(start))
            if not schedule.chunks and self._schedules.get(schedule.view) is schedule:
                del self._schedules[schedule.view]  # also bounds the map of schedules

    def clear(self) -> None:
        with self._lock:
            for schedule in self._schedules.values():
                schedule.chunks.clear()
                schedule.used.clear()
            self._schedules.clear()
            self._queue.clear()
            self._weight = 0


def _weight(chunk: Chunk) -> int:
    return len(chunk.slots) or 1


def render_chunk(view: ScheduleView, start: datetime, end: datetime) -> Chunk:
    """`view`'s slots in [start, end), rendered, and where its next slot's chunk starts."""
    rule = view.rule
    zone = ZoneInfo(rule.timezone)
    # The slot's JSON, as json.dumps writes it, from a prefix encoded once per chunk.
    prefix = json.dumps({"schedule_id": view.schedule_id, "schedule_name": view.name})[:-1]
    seats = view.seats
    slots = []
    upcoming = None
    # One expansion for the chunk and, unless the schedule is sparse, its next slot (a chunk
    # length further on at most); a sparse schedule's next slot is found by a jump.
    for occ in occurrences(rule, start, end + (end - start)):
        if occ.start >= end:
            upcoming = occ
            break
        if view.holidays is not None and holiday_at(view.holidays, zone, occ.start):
            continue  # not offered; the chunk after it is found as usual
        start_time, end_time = to_rfc3339(occ.start, zone), to_rfc3339(occ.end, zone)
        body = (
            f'{prefix}, "start_time": "{start_time}", "end_time": "{end_time}", "available": true,'
            f' "seats": {seats}, "seats_left": {seats}}}'
        )
        slots.append(CachedSlot(occ.start, view.schedule_id, start_time, end_time, body, seats))
    horizon = end + LOOKAHEAD
    if upcoming is None:
        upcoming = next_occurrence(rule, end + (end - start), horizon)
    following = horizon if upcoming is None else chunk_start(upcoming.start, end - start)
    return Chunk(tuple(slots), following)
