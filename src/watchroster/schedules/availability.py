"""Open shifts: schedule occurrences computed on the fly, minus the slots somebody booked.

No shift row exists until someone books it. A request merges its schedules' slots lazily in
(start, schedule_id) order, a chunk of each schedule at a time from `SlotCache` (chunks record
where the schedule's next slot is, so empty stretches cost nothing), and stops as soon as `limit`
slots are found. Bookings are read a stretch at a time just ahead of the walk, never for the
whole window up front. So a request costs about what it returns (`limit`, plus the booked slots
it steps over) plus a small constant per schedule, whatever the window and the history.

The work is cut into steps (a generator that pauses between bounded pieces), so that the caller
can run a request inline for a few milliseconds and hand what remains to a worker thread (see
`BoundedWork` and `schedules.router.available_shifts`).
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from heapq import heapify, heappop, heappush
from operator import itemgetter
from time import perf_counter
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy import bindparam, null, select
from sqlalchemy.orm import Session

from watchroster.auth.models import User
from watchroster.bookings.models import Booking
from watchroster.errors import ValidationFailed
from watchroster.rawsql import Prepared, decode_instant, encode_instant
from watchroster.schedules.models import Schedule
from watchroster.schedules.service import get_schedule
from watchroster.schedules.slot_cache import (
    VIEW_COLUMNS,
    CachedSlot,
    ScheduleSlots,
    ScheduleView,
    SlotCache,
    chunk_start,
)

MAX_WINDOW = timedelta(days=366)
DEFAULT_WINDOW = timedelta(days=14)
# The first stretch of bookings read; each next one is twice as long, so a walk of d days makes
# about log2(d) queries and reads at most twice the stretch it walked.
FIRST_BOOKING_STRETCH = timedelta(days=1)
BOOKING_ROWS_PER_STEP = 500
# A walk pauses after each chunk it renders (~20-150 µs) and after this many cached ones.
CHUNKS_PER_STEP = 64

T = TypeVar("T")
Steps = Generator[None, None, T]  # work that pauses (yields None) between bounded pieces


@dataclass(frozen=True)
class SlotQuery:
    window_start: datetime
    window_end: datetime
    limit: int
    schedule_id: int | None = None
    include_booked: bool = False


def check_window(window_start: datetime, window_end: datetime) -> None:
    if window_start > window_end:
        raise ValidationFailed(
            "from must not be after to", details=[{"field": "from", "message": "after to"}]
        )
    if window_end - window_start > MAX_WINDOW:
        raise ValidationFailed(
            "the window from..to may span at most 366 days",
            details=[{"field": "to", "message": "window longer than 366 days"}],
        )


# Built once and run on the Core connection: these reads are most of a request's database
# cost, and the ORM result machinery (which `session.execute` adds) doubled it.
_ACTIVE_SCHEDULES = select(*VIEW_COLUMNS).where(Schedule.active.is_(True))
_ONE_ACTIVE_SCHEDULE = _ACTIVE_SCHEDULES.where(Schedule.schedule_id == bindparam("schedule_id"))
_IN_STRETCH = (
    Booking.canceled_at.is_(None),
    Booking.shift_start >= bindparam("start"),
    Booking.shift_start < bindparam("end"),
)
# Bookings of schedules that are not listed simply match no slot, so no schedule filter. Read
# on the driver's cursor (see `rawsql`): per row, SQLAlchemy's result and type processing cost
# more than the rest of the request's handling of a booking.
_BOOKED = Prepared(
    lambda _dialect: select(Booking.schedule_id, Booking.shift_start, null()).where(*_IN_STRETCH)
)
_BOOKED_WITH_NAMES = Prepared(
    lambda _dialect: (
        select(Booking.schedule_id, Booking.shift_start, User.name)
        .join(User, User.user_id == Booking.user_id)
        .where(*_IN_STRETCH)
    )
)


def _schedule_views(session: Session, schedule_id: int | None) -> list[ScheduleView]:
    connection = session.connection()
    if schedule_id is None:
        rows = connection.execute(_ACTIVE_SCHEDULES)
    else:
        get_schedule(session, schedule_id)  # unknown → 404
        rows = connection.execute(_ONE_ACTIVE_SCHEDULE, {"schedule_id": schedule_id})
    return [ScheduleView.of_row(row) for row in rows]


class _Bookings:
    """The window's active bookings, read a stretch at a time just ahead of the walk:
    (schedule_id, start) → the booker's name (roster view only). The index on shift_start keeps
    each read independent of the booking history."""

    def __init__(self, session: Session, start: datetime, end: datetime, names: bool) -> None:
        self.booked: dict[tuple[int, datetime], str | None] = {}
        self._session = session
        self._statement = _BOOKED_WITH_NAMES if names else _BOOKED
        self._read_until = start
        self._end = end
        self._stretch = FIRST_BOOKING_STRETCH

    def through(self, instant: datetime) -> Steps[dict[tuple[int, datetime], str | None]]:
        """All bookings that start at or before `instant` (pausing every few hundred rows)."""
        while self._read_until <= instant and self._read_until < self._end:
            until = min(self._end, max(instant, self._read_until + self._stretch))
            if until == instant:
                until += timedelta(microseconds=1)
            for rows in self.read(self._read_until, until):
                self.booked.update(((row[0], _instant(row[1])), row[2]) for row in rows)
                yield
            self._read_until = until
            self._stretch *= 2
        return self.booked

    def read(self, start: datetime, end: datetime) -> Iterator[list[tuple[Any, ...]]]:
        """Rows (schedule_id, stored start, name or None) starting in [start, end), in batches,
        on the driver's cursor inside the session's own transaction."""
        connection = self._session.connection()
        driver = connection.connection.driver_connection
        assert driver is not None
        sql, _fixed = self._statement.compiled(connection.dialect)
        sqlite = connection.dialect.name == "sqlite"
        params = {
            "start": encode_instant(start, sqlite=sqlite),
            "end": encode_instant(end, sqlite=sqlite),
        }
        cursor = driver.cursor()
        try:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(BOOKING_ROWS_PER_STEP):
                yield rows
        finally:
            cursor.close()


def _instant(stored: Any) -> datetime:
    decoded = decode_instant(stored)
    assert decoded is not None  # shift_start is NOT NULL
    return decoded


_START = itemgetter(0)


def _batches(
    views: list[ScheduleView], start: datetime, end: datetime, cache: SlotCache
) -> Iterator[list[CachedSlot]]:
    """The slots in [start, end) in (start, schedule_id) order, as consecutive sorted lists; an
    empty list is only a pause.

    Each schedule waits in the bucket of its next unread chunk's start (a heap orders the
    buckets; many schedules share one). Each round reads the chunks that start within the
    shortest chunk length of the earliest one; every slot before the earliest chunk still unread
    is then final. A schedule with nothing more before `end` drops out.
    """
    schedules = [cache.schedule(view) for view in views]
    firsts = {length: chunk_start(start, length) for length in {s.length for s in schedules}}
    buckets: dict[datetime, list[ScheduleSlots]] = {}
    for slots in schedules:
        buckets.setdefault(firsts[slots.length], []).append(slots)
    starts = list(buckets)
    heapify(starts)
    step = min(firsts)  # the shortest chunk length
    pending: list[CachedSlot] = []
    looked_up, renders = 0, cache.renders
    yield []  # a pause after the per-schedule set-up (a few µs a schedule)
    while starts and starts[0] < end:
        round_end = starts[0] + step
        while starts and starts[0] < round_end:
            begin = heappop(starts)
            for slots in buckets.pop(begin):
                chunk = slots.chunk(begin)
                pending += chunk.slots
                following = chunk.following  # never inside this round: chunks are >= step long
                if following < end:
                    if (bucket := buckets.get(following)) is None:
                        buckets[following] = [slots]
                        heappush(starts, following)
                    else:
                        bucket.append(slots)
                looked_up += 1
                if looked_up == CHUNKS_PER_STEP or cache.renders != renders:
                    looked_up, renders = 0, cache.renders
                    yield []
        final = starts[0] if starts and starts[0] < end else end
        pending.sort()
        cut = bisect_left(pending, final, key=_START)
        ready, pending = pending[:cut], pending[cut:]
        if ready and ready[0].start < start:  # the first chunks began before the window
            ready = ready[bisect_left(ready, start, key=_START) :]
        yield ready


class FoundSlot(NamedTuple):
    # A NamedTuple, not a dataclass: up to 1,000 are made per request and this is the hot path.
    slot: CachedSlot
    booked: bool
    booked_by: str | None


@dataclass(frozen=True)
class _Window:
    views: list[ScheduleView]
    start: datetime
    end: datetime
    bookings: _Bookings

    def batches(self, cache: SlotCache | None) -> Iterator[list[CachedSlot]]:
        return _batches(self.views, self.start, self.end, cache or DEFAULT_CACHE)

    def names(self) -> dict[int, str]:
        return {view.schedule_id: view.name for view in self.views}


def _window(session: Session, query: SlotQuery, now: datetime) -> _Window | None:
    """The request's schedules, and a reader of its bookings. None when nothing can be offered."""
    check_window(query.window_start, query.window_end)
    views = _schedule_views(session, query.schedule_id)
    # A slot that has started can no longer be taken, so it is not shown.
    start = max(query.window_start, now + timedelta(microseconds=1))
    if not views or start >= query.window_end:
        return None
    bookings = _Bookings(session, start, query.window_end, names=query.include_booked)
    return _Window(views, start, query.window_end, bookings)


def find_slots_steps(
    session: Session, query: SlotQuery, now: datetime, cache: SlotCache | None = None
) -> Steps[tuple[list[FoundSlot], dict[int, str]]]:
    """`find_slots`, pausing between bounded pieces of work."""
    window = _window(session, query, now)
    if window is None:
        return [], {}
    yield  # after reading the schedules
    found: list[FoundSlot] = []
    roster = query.include_booked
    for batch in window.batches(cache):
        if batch:
            booked = yield from window.bookings.through(batch[-1].start)
            for slot in batch:
                key = (slot.schedule_id, slot.start)
                if key not in booked:
                    found.append(FoundSlot(slot, False, None))
                elif roster:
                    found.append(FoundSlot(slot, True, _first_name(booked[key])))
            if len(found) >= query.limit:
                break
        yield
    return found[: query.limit], window.names()


def _first_name(name: str | None) -> str | None:
    return name.split()[0] if name and name.strip() else None


def slot_dict(found: FoundSlot, names: dict[int, str], roster: bool) -> dict[str, object]:
    slot = found.slot
    body: dict[str, object] = {
        "schedule_id": slot.schedule_id,
        "schedule_name": names[slot.schedule_id],
        "start_time": slot.start_time,
        "end_time": slot.end_time,
        "available": not found.booked,
    }
    if roster:
        body["booked_by"] = found.booked_by
    return body


def open_slots_json_steps(
    session: Session, query: SlotQuery, now: datetime, cache: SlotCache | None = None
) -> Steps[str]:
    """The response body of GET /shifts/available, pausing between bounded pieces of work.

    The common case, open slots only, joins their pre-rendered JSON a batch at a time with no
    object made per slot (this loop was most of the request's cost); the roster view renders
    on the fly.
    """
    if query.include_booked:
        found, names = yield from find_slots_steps(session, query, now, cache)
        return json.dumps([slot_dict(f, names, roster=True) for f in found])
    window = _window(session, query, now)
    if window is None:
        return "[]"
    yield  # after reading the schedules
    parts: list[str] = []
    for batch in window.batches(cache):
        if batch:
            booked = yield from window.bookings.through(batch[-1].start)
            if booked:
                parts += [s.available_json for s in batch if (s.schedule_id, s.start) not in booked]
            else:
                parts += [s.available_json for s in batch]
            if len(parts) >= query.limit:
                break
        yield
    return "[" + ",".join(parts[: query.limit]) + "]"


@dataclass
class BoundedWork(Generic[T]):
    """Steps run in bounded bursts, possibly from different threads (never two at once)."""

    steps: Steps[T]
    done: bool = False
    _result: list[T] = field(default_factory=list)

    def run(self, seconds: float | None = None) -> bool:
        """Run until done (True), or until about `seconds` have passed (False)."""
        deadline = None if seconds is None else perf_counter() + seconds
        try:
            while True:
                next(self.steps)
                if deadline is not None and perf_counter() >= deadline:
                    return False
        except StopIteration as stop:
            self._result.append(stop.value)
            self.done = True
            return True

    @property
    def result(self) -> T:
        if not self.done:
            raise RuntimeError("the work is not finished")
        return self._result[0]


def run_steps(steps: Steps[T]) -> T:
    work = BoundedWork(steps)
    work.run()
    return work.result


def find_slots(
    session: Session, query: SlotQuery, now: datetime, cache: SlotCache | None = None
) -> tuple[list[FoundSlot], dict[int, str]]:
    """Slots in [window_start, window_end) that have not started, in (start, schedule) order
    (booked ones only with `include_booked`), and the schedules' names."""
    return run_steps(find_slots_steps(session, query, now, cache))


def open_slots(
    session: Session, query: SlotQuery, now: datetime, cache: SlotCache | None = None
) -> list[dict[str, object]]:
    """The slots as JSON-ready dicts (for jobs and tests)."""
    found, names = find_slots(session, query, now, cache)
    return [slot_dict(f, names, query.include_booked) for f in found]


def open_slots_json(
    session: Session, query: SlotQuery, now: datetime, cache: SlotCache | None = None
) -> str:
    """The response body of GET /shifts/available, in one go."""
    return run_steps(open_slots_json_steps(session, query, now, cache))


DEFAULT_CACHE = SlotCache()
