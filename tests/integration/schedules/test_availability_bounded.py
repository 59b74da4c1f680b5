"""GET /shifts/available costs what it returns: the slot list against a plain expansion, bookings
read only ahead of the walk, a bounded cache, and long requests off the event loop."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert

from tests.support.factories import add_booking, add_schedule, add_user
from tests.support.server import running_server
from watchroster.db.engine import Database
from watchroster.schedules import availability, booked, router, slot_cache
from watchroster.schedules.availability import SlotQuery, find_slots, open_slots_json
from watchroster.schedules.models import Schedule
from watchroster.schedules.recurrence import occurrences
from watchroster.schedules.slot_cache import MAX_CHUNK_SLOTS, Chunk, ScheduleView, SlotCache

NOW = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)  # the `clock` fixture's time
YEAR = (datetime(2025, 5, 1, tzinfo=UTC), datetime(2026, 5, 2, tzinfo=UTC))
MIX = (  # (cron, zone): every minute, 29 February, weekly, DST edges, evenings, a season
    ("* * * * *", "UTC"),
    ("0 18 29 2 *", "Europe/London"),
    ("0 18 * * FRI", "America/New_York"),
    ("30 1 * * *", "Europe/London"),
    ("*/30 * * * SUN", "America/New_York"),
    ("0 18-23 * * *", "Africa/Johannesburg"),
)


def schedule_rows(crons: list[tuple[str, str]]) -> list[dict[str, object]]:
    return [
        {
            "name": f"Schedule {index}",
            "cron_expr": cron_expr,
            "timezone": zone,
            "duration_minutes": 30,
            "active": True,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for index, (cron_expr, zone) in enumerate(crons)
    ]


def add_schedules(db: Database, crons: list[tuple[str, str]]) -> None:
    with db.write() as session:
        session.execute(insert(Schedule), schedule_rows(crons))


def expected_slots(db: Database, query: SlotQuery, booked: set[tuple[int, datetime]]) -> list[Any]:
    """What the answer must be, from a plain expansion of every schedule over the whole window."""
    with db.read() as session:
        views = availability._schedule_views(session, query.schedule_id)
    start = max(query.window_start, NOW + timedelta(microseconds=1))
    every = sorted(
        (occ.start, view.schedule_id)
        for view in views
        for occ in occurrences(view.rule, start, query.window_end)
    )
    if not query.include_booked:
        every = [slot for slot in every if (slot[1], slot[0]) not in booked]
    return [(s, i, (i, s) not in booked) for s, i in every[: query.limit]]


def found_slots(db: Database, query: SlotQuery, cache: SlotCache) -> list[Any]:
    with db.read() as session:
        found, _names = find_slots(session, query, NOW, cache)
    return [(f.slot.start, f.slot.schedule_id, not f.booked) for f in found]


def test_the_lazy_merge_matches_a_plain_expansion(db: Database) -> None:
    add_schedules(db, list(MIX))
    user = add_user(db, "+27821234567", "Thandi")
    with db.read() as session:
        views = availability._schedule_views(session, None)
    booked: set[tuple[int, datetime]] = set()
    for view in views:  # book every third of each schedule's first slots
        for occ in list(occurrences(view.rule, NOW, NOW + timedelta(days=40)))[:9:3]:
            schedule = Schedule(schedule_id=view.schedule_id, duration_minutes=30)
            add_booking(db, schedule, user, occ.start)
            booked.add((view.schedule_id, occ.start))
    tiny = SlotCache(max_slots=64)  # evicts all the time, mid-walk too
    for window_start, days, limit, roster in [
        (YEAR[0], 366, 1000, False),
        (YEAR[0], 366, 1000, True),
        (datetime(2025, 10, 25, 22, tzinfo=UTC), 2, 200, False),  # London's fall-back night
        (datetime(2028, 2, 28, 12, tzinfo=UTC), 3, 1000, False),  # a 29 February
        (datetime(2025, 5, 1, 8, 0, 30, tzinfo=UTC), 1, 7, False),  # mid-minute start
    ]:
        query = SlotQuery(window_start, window_start + timedelta(days=days), limit, None, roster)
        expected = expected_slots(db, query, booked)
        assert found_slots(db, query, tiny) == expected, (window_start, roster)
        assert found_slots(db, query, SlotCache()) == expected
    assert tiny.weight <= 64


def test_a_schedule_filter_and_a_rare_schedule(db: Database) -> None:
    add_schedules(db, list(MIX))
    with db.read() as session:
        leap_day = availability._schedule_views(session, None)[1].schedule_id  # 29 February
    window = (datetime(2027, 6, 1, tzinfo=UTC), datetime(2028, 6, 1, tzinfo=UTC))
    query = SlotQuery(*window, 10, leap_day)
    slots = found_slots(db, query, SlotCache())
    assert slots == [(datetime(2028, 2, 29, 18, tzinfo=UTC), leap_day, True)]


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[Chunk]:
    """Every chunk rendered while the test runs."""
    rendered: list[Chunk] = []
    real = slot_cache.render_chunk

    def spy(view: ScheduleView, start: datetime, end: datetime) -> Chunk:
        rendered.append(real(view, start, end))
        return rendered[-1]

    monkeypatch.setattr(slot_cache, "render_chunk", spy)
    return rendered


def test_a_rare_schedule_over_a_year_renders_one_chunk_not_366_days(
    db: Database, renders: list[Chunk]
) -> None:
    add_schedules(db, [("0 18 29 2 *", "Europe/London")])
    query = SlotQuery(*YEAR, 1000)
    assert found_slots(db, query, SlotCache()) == []
    assert len(renders) == 1  # its first chunk, which says nothing follows within the window


def test_work_follows_the_limit_not_the_window(db: Database, renders: list[Chunk]) -> None:
    add_schedules(db, [("* * * * *", "UTC")] * 50 + [("0 18 * * *", "Europe/London")] * 50)
    slots = found_slots(db, SlotQuery(*YEAR, 10), SlotCache())
    assert len(slots) == 10
    # One chunk per schedule (a quarter of an hour of the every-minute ones), not a year.
    assert len(renders) == 100
    assert sum(len(chunk.slots) for chunk in renders) <= 100 * MAX_CHUNK_SLOTS


def test_a_second_full_year_query_is_served_from_the_cache(
    db: Database, renders: list[Chunk]
) -> None:
    add_schedules(db, [MIX[i % len(MIX)] for i in range(300)])
    cache = SlotCache()
    query = SlotQuery(*YEAR, 1000)
    first = found_slots(db, query, cache)
    rendered = len(renders)
    assert found_slots(db, query, cache) == first
    assert len(renders) == rendered  # nothing evicted and rendered again


def test_the_cache_holds_at_most_its_budget_and_drops_the_least_recently_used(
    db: Database,
) -> None:
    add_schedules(db, [("* * * * *", "UTC"), ("0 18 * * *", "UTC")])
    with db.read() as session:
        every_minute, daily = availability._schedule_views(session, None)
    cache = SlotCache(max_slots=100)
    minutes = cache.schedule(every_minute)
    start = datetime(2025, 6, 1, tzinfo=UTC)
    kept = cache.schedule(daily).chunk(start)
    for quarter in range(40):  # 600 slots go through a cache of 100
        minutes.chunk(start + quarter * minutes.length)
        assert cache.weight <= 100
        assert cache.schedule(daily).chunk(start) is kept  # used each time: never dropped
    assert len(minutes.chunks) < 100 // 15 + 1
    assert start not in minutes.chunks  # the oldest went first


@pytest.fixture
def bookings_read(monkeypatch: pytest.MonkeyPatch) -> list[tuple[datetime, datetime]]:
    """The [start, end) of every stretch of bookings read."""
    stretches: list[tuple[datetime, datetime]] = []
    real = booked.BookedSeats.read

    def spy(
        self: booked.BookedSeats, start: datetime, end: datetime
    ) -> Iterator[list[tuple[Any, ...]]]:
        stretches.append((start, end))
        return real(self, start, end)

    monkeypatch.setattr(booked.BookedSeats, "read", spy)
    return stretches


def test_bookings_are_read_just_ahead_of_the_walk(
    db: Database, bookings_read: list[tuple[datetime, datetime]]
) -> None:
    schedule = add_schedule(db, cron_expr="0 18 * * *", timezone="UTC")
    user = add_user(db, "+27821234567", "Thandi")
    for day in (0, 1, 300):  # 1 and 2 May, and one far away in the window
        add_booking(db, schedule, user, datetime(2025, 5, 1, 18, tzinfo=UTC) + day * timedelta(1))
    query = SlotQuery(*YEAR, 3)
    starts = [slot[0].day for slot in found_slots(db, query, SlotCache())]
    assert starts == [3, 4, 5]  # 1 and 2 May are taken
    walked_to = datetime(2025, 5, 5, 18, tzinfo=UTC)
    assert bookings_read[0][0] == NOW + timedelta(microseconds=1)
    assert all(end > start for start, end in bookings_read)
    assert all(b[0] == a[1] for a, b in itertools.pairwise(bookings_read))
    # Never the whole window: at most twice the stretch walked.
    assert walked_to < bookings_read[-1][1] <= NOW + 2 * (walked_to - NOW) + timedelta(days=1)


def test_the_json_body_and_the_roster_view_follow_the_same_walk(db: Database) -> None:
    add_schedules(db, list(MIX))
    query = SlotQuery(*YEAR, 50)
    cache = SlotCache()
    with db.read() as session:
        body = open_slots_json(session, query, NOW, cache)
    expected = expected_slots(db, query, set())
    assert body.count('"available": true') == len(expected) == 50
    assert f'"schedule_id": {expected[-1][1]}' in body.rsplit("{", 1)[1]


def test_a_long_request_finishes_in_a_thread_off_the_event_loop(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_schedules(db, list(MIX))
    inline = client.get("/shifts/available", params={"limit": 1000}).json()
    threads: list[str] = []
    real = availability.open_slots_json_steps

    def recording(*args: Any) -> availability.Steps[str]:
        steps = real(*args)
        while True:
            threads.append(threading.current_thread().name)
            try:
                next(steps)
            except StopIteration as stop:
                return str(stop.value)
            yield

    monkeypatch.setattr(availability, "open_slots_json_steps", recording)
    monkeypatch.setattr(router, "INLINE_SECONDS", 0.0)
    handed_over = client.get("/shifts/available", params={"limit": 1000}).json()
    assert handed_over == inline
    # One step where the request started (then the 0 s budget ran out), the rest in a thread.
    assert not threads[0].startswith("availability")
    assert len(threads) > 2 and all(name.startswith("availability_") for name in threads[1:])


def _slow_render(real: Any) -> Any:
    def render(view: ScheduleView, start: datetime, end: datetime) -> Chunk:
        busy_until = time.perf_counter() + 0.02  # CPU work, holding the GIL as rendering does
        while time.perf_counter() < busy_until:
            pass
        chunk: Chunk = real(view, start, end)
        return chunk

    return render


def test_a_heavy_request_does_not_stall_other_requests(
    app: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_schedules(db, [MIX[i % len(MIX)] for i in range(30)])
    monkeypatch.setattr(availability, "DEFAULT_CACHE", SlotCache())  # cold: 20 ms a render
    monkeypatch.setattr(slot_cache, "render_chunk", _slow_render(slot_cache.render_chunk))
    waits: list[float] = []
    with running_server(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        http.get("/healthz")
        heavy = threading.Thread(target=http.get, args=("/shifts/available?limit=100",))
        began = time.perf_counter()
        heavy.start()
        while heavy.is_alive():
            sent = time.perf_counter()
            assert http.get("/healthz").status_code == 200
            waits.append(time.perf_counter() - sent)
        took = time.perf_counter() - began
    assert took > 0.5
    assert len(waits) > 5 and max(waits) < took / 3, (max(waits), took)


def test_bounded_work_stops_after_its_time_and_resumes_elsewhere() -> None:
    def steps() -> availability.Steps[str]:
        for _ in range(3):
            time.sleep(0.002)
            yield
        return "done"

    work = availability.BoundedWork(steps())
    assert not work.run(seconds=0.0)  # one step, then out of time
    assert not work.done
    with pytest.raises(RuntimeError):
        _ = work.result
    other = threading.Thread(target=work.run)
    other.start()
    other.join()
    assert work.done and work.result == "done"
