"""Open shifts: schedule occurrences computed on the fly, minus the slots whose seats are all
booked (a slot with seats left shows how many).

No shift row exists until someone books it. A request merges its schedules' slots lazily in
(start, schedule_id) order, a chunk of each schedule at a time from `SlotCache` (chunks record
where the schedule's next slot is, so empty stretches cost nothing), and stops as soon as `limit`
slots are found. A round of the merge (with hundreds of schedules, a whole day of slots) is
checked a piece at a time, each no longer than the slots still missing, and bookings are read a
stretch at a time just ahead of the piece, never for the whole window up front. So a request
costs about what it returns (`limit`, plus the booked slots it steps over) plus a small constant
per schedule, whatever the window and the history.

Measured in-process on SQLite (CPU per request, as `bench/bench_availability_cpu.py` does; 500
schedules, 30 days, limit 1000): 0 bookings 3.0 ms, 5,000 bookings in the window 3.8 ms before the
pieces, the row-sized stretches and the schedule read on the driver's cursor; 2.2 and 2.6 ms after.

The work is cut into steps (a generator that pauses between bounded pieces), so that the caller
can run a request inline for a few milliseconds and hand what remains to a worker thread (see
`BoundedWork` and `schedules.router.available_shifts`).
"""

from __future__ import annotations

import functools
import json
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from heapq import heapify, heappop, heappush
from operator import itemgetter
from time import perf_counter
from typing import Annotated, Any, Generic, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from watchroster.core.errors import ValidationFailed
from watchroster.core.fields import bound_query
from watchroster.core.timefmt import parse_bound
from watchroster.db.rawsql import Prepared, RawTransaction
from watchroster.schedules.booked import BookedSeats, Holder, Key
from watchroster.schedules.exclusions import cancelled_in, without_cancelled
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
# A walk checks a batch (a round of the merge: up to a whole day of hundreds of schedules) a
# piece at a time, each as long as the slots still missing (at least this many), and reads
# bookings only through the piece's last slot: it stops about where the answer does.
SHORTEST_PIECE = 64
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


# The `to` of a window (the `from` differs in what it selects, so in its description).
WindowEnd = Annotated[
    str | None,
    bound_query("Date (inclusive) or RFC 3339 (exclusive); default from + 14 days."),
]


def requested_window(
    from_: str | None, to: str | None, zone: ZoneInfo, now: datetime
) -> tuple[datetime, datetime]:
    """The from..to of a request (a date in `zone` or RFC 3339 each): from now, for 14 days,
    unless given. `is not None`: an empty `from=` or `to=` is a malformed bound (400), not a
    missing one."""
    start = parse_bound(from_, "from", zone, end_of_day=False) if from_ is not None else now
    end = parse_bound(to, "to", zone, end_of_day=True) if to is not None else start + DEFAULT_WINDOW
    return start, end


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


# Read on the driver's cursor: with 500 schedules, SQLAlchemy Core's row handling and a view
# built per row were a third of a request (measured in-process, see `_view`).
_ACTIVE_SCHEDULES = Prepared(
    lambda _dialect: select(*VIEW_COLUMNS).where(Schedule.active.is_(True))
)
_ONE_ACTIVE_SCHEDULE = Prepared(
    lambda _dialect: select(*VIEW_COLUMNS).where(
        Schedule.active.is_(True), Schedule.schedule_id == bindparam("schedule_id")
    )
)


def _schedule_views(session: Session, schedule_id: int | None) -> list[ScheduleView]:
    if schedule_id is None:
        rows = _driver_rows(session, _ACTIVE_SCHEDULES, {})
    else:
        get_schedule(session, schedule_id)  # unknown → 404
        rows = _driver_rows(session, _ONE_ACTIVE_SCHEDULE, {"schedule_id": schedule_id})
    return [_view(row) for row in rows]


@functools.lru_cache(maxsize=4096)
def _view(row: tuple[Any, ...]) -> ScheduleView:
    """The view of a schedule row, one per distinct row: the row is the schedule's whole
    definition as stored, so an edited schedule is a new key and never gets a stale view. Reused
    views also find their cached slots by identity (500 schedules, with the read: 1.6 → 0.8 ms)."""
    return ScheduleView.of_row(row, RawTransaction.read_date)


def _driver_rows(
    session: Session, statement: Prepared, params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """Every row of `statement`, as the driver's tuples, inside the session's transaction."""
    connection = session.connection()
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.execute(*statement.bind(connection.dialect, params))
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows
    finally:
        cursor.close()


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
    booked: bool  # every seat is taken
    booked_by: str | None  # roster view: the first name on the lowest taken seat
    seats_left: int
    holders: tuple[Holder, ...] = ()  # roster view: (seat, first name), by seat


@dataclass(frozen=True)
class _Window:
    views: list[ScheduleView]
    start: datetime
    end: datetime
    bookings: BookedSeats
    # Shifts a coordinator cancelled in the window (`schedules.exclusions`); usually none.
    cancelled: dict[tuple[int, datetime], str] = field(default_factory=dict)

    def batches(self, cache: SlotCache | None) -> Iterator[list[CachedSlot]]:
        batches = _batches(self.views, self.start, self.end, cache or DEFAULT_CACHE)
        if not self.cancelled:
            return batches
        return (without_cancelled(batch, self.cancelled) for batch in batches)

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
    bookings = BookedSeats(session, start, query.window_end, names=query.include_booked)
    cancelled = cancelled_in(session, start, query.window_end)
    return _Window(views, start, query.window_end, bookings, cancelled)


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

    def take(piece: list[CachedSlot], booked: Counter[Key]) -> int:
        for slot in piece:
            taken = booked.get((slot.schedule_id, slot.start))
            if taken is None:
                found.append(FoundSlot(slot, False, None, slot.seats))
            elif roster or taken < slot.seats:
                found.append(_taken_slot(slot, taken, window.bookings.holders))
        return len(found)

    yield from _walk(window, cache, query.limit, take)
    return found[: query.limit], window.names()


def _walk(
    window: _Window,
    cache: SlotCache | None,
    limit: int,
    take: Callable[[list[CachedSlot], Counter[Key]], int],
) -> Steps[None]:
    """Hand `take` the window's slots in order, a piece at a time with the bookings read through
    the piece's last slot, until it says it holds `limit` slots."""
    held = 0
    for batch in window.batches(cache):
        first = 0
        while first < len(batch):
            piece = batch[first : first + max(limit - held, SHORTEST_PIECE)]
            first += len(piece)
            booked = yield from window.bookings.through(piece[-1].start)
            held = take(piece, booked)
            if held >= limit:
                return
        yield


def _taken_slot(slot: CachedSlot, taken: int, holders: dict[Key, list[Holder]]) -> FoundSlot:
    """A slot with `taken` seats booked (all of them only in the roster view)."""
    # max(): a coordinator may not lower seats below an upcoming slot's bookings, but a slot
    # that has started (or lies in the past) keeps whatever it had.
    left = max(0, slot.seats - taken)
    held = tuple(sorted(holders.get((slot.schedule_id, slot.start), ())))
    return FoundSlot(slot, left == 0, held[0][1] if held else None, left, held)


def slot_dict(found: FoundSlot, names: dict[int, str], roster: bool) -> dict[str, object]:
    slot = found.slot
    body: dict[str, object] = {
        "schedule_id": slot.schedule_id,
        "schedule_name": names[slot.schedule_id],
        "start_time": slot.start_time,
        "end_time": slot.end_time,
        "available": not found.booked,
        "seats": slot.seats,
        "seats_left": found.seats_left,
    }
    if roster:
        body["booked_by"] = found.booked_by
        body["holders"] = [{"seat": seat, "first_name": name} for seat, name in found.holders]
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

    def take(piece: list[CachedSlot], booked: Counter[Key]) -> int:
        if booked:
            # A slot nobody booked costs one dict lookup, as before seats existed.
            taken_of = booked.get
            parts.extend(
                [
                    s.available_json if taken is None else s.partly_open_json(taken)
                    for s in piece
                    if (taken := taken_of((s.schedule_id, s.start))) is None or taken < s.seats
                ]
            )
        else:
            parts.extend([s.available_json for s in piece])
        return len(parts)

    yield from _walk(window, cache, query.limit, take)
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
