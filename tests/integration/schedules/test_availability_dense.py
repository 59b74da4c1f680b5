"""A listing through many schedules and dense bookings checks slots and reads bookings about as far
as its answer reaches (issue #14 §2): a batch of the merge (a whole day of every schedule) is
walked a piece at a time, and a stretch of bookings that held many rows is not doubled."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text

from tests.support.factories import add_user
from watchroster.bookings.models import Booking
from watchroster.db.engine import Database
from watchroster.schedules import booked
from watchroster.schedules.availability import SlotQuery, find_slots, open_slots_json
from watchroster.schedules.models import Schedule
from watchroster.schedules.slot_cache import SlotCache

NOW = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
WINDOW = (NOW, NOW + timedelta(days=30))
HOURLY = 20  # schedules firing every hour: a day's batch holds 480 slots


def add_hourly_schedules(db: Database) -> list[int]:
    rows = [
        {
            "name": f"Hourly {index}",
            "cron_expr": "0 * * * *",
            "timezone": "UTC",
            "duration_minutes": 60,
            "active": True,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for index in range(HOURLY)
    ]
    with db.write() as session:
        session.execute(insert(Schedule), rows)
        return list(session.scalars(select(Schedule.schedule_id).order_by(Schedule.schedule_id)))


def book_every_fourth_slot(
    db: Database, schedule_ids: list[int], days: int
) -> set[tuple[int, datetime]]:
    """120 bookings a day (more than FEW_BOOKING_ROWS), from the first full hour after NOW."""
    user = add_user(db, "+27821234567", "Thandi")
    first = NOW.replace(minute=0) + timedelta(hours=1)
    slots = [
        (schedule_id, first + timedelta(hours=hour))
        for hour in range(24 * days)
        for schedule_id in schedule_ids
    ]
    booked = set(slots[::4])
    rows = [
        {
            "user_id": user.user_id,
            "schedule_id": schedule_id,
            "shift_start": start,
            "shift_end": start + timedelta(hours=1),
        }
        for schedule_id, start in sorted(booked)
    ]
    with db.write() as session:
        session.execute(insert(Booking), rows)
    return booked


@pytest.fixture
def walked_to(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """Every instant the walk asked bookings for (the last slot of each piece it checks)."""
    instants: list[datetime] = []
    real = booked.BookedSeats.through

    def spy(self: booked.BookedSeats, instant: datetime) -> Any:
        instants.append(instant)
        return real(self, instant)

    monkeypatch.setattr(booked.BookedSeats, "through", spy)
    return instants


@pytest.fixture
def bookings_read(monkeypatch: pytest.MonkeyPatch) -> list[tuple[datetime, datetime]]:
    stretches: list[tuple[datetime, datetime]] = []
    real = booked.BookedSeats.read

    def spy(self: booked.BookedSeats, start: datetime, end: datetime) -> Iterator[Any]:
        stretches.append((start, end))
        return real(self, start, end)

    monkeypatch.setattr(booked.BookedSeats, "read", spy)
    return stretches


def test_the_walk_stops_inside_a_batch_where_its_answer_does(
    db: Database, walked_to: list[datetime]
) -> None:
    add_hourly_schedules(db)
    query = SlotQuery(*WINDOW, 600)  # day one's 480 slots (from 09:00: 300), then part of day two
    with db.read() as session:
        found, _names = find_slots(session, query, NOW, SlotCache())
    assert len(found) == 600
    last = found[-1].slot.start
    # Before, the whole second day's batch (to 23:00) was checked against bookings read to there.
    assert max(walked_to) == last
    walked_to.clear()
    with db.read() as session:
        body = open_slots_json(session, query, NOW, SlotCache())
    assert body.count('"available": true') == 600
    assert max(walked_to) == last


def test_dense_bookings_are_read_a_day_at_a_time_not_doubling_past_the_walk(
    db: Database, bookings_read: list[tuple[datetime, datetime]]
) -> None:
    schedule_ids = add_hourly_schedules(db)
    booked = book_every_fourth_slot(db, schedule_ids, days=8)
    query = SlotQuery(*WINDOW, 1200)  # 360 open slots a day: into the fourth day
    with db.read() as session:
        if db.engine.dialect.name == "postgresql":
            # Instants come back in the session's zone; they must still match the slots' UTC keys.
            session.execute(text("SET LOCAL TIME ZONE 'America/New_York'"))
        found, _names = find_slots(session, query, NOW, SlotCache())
        reads = list(bookings_read)
        body = open_slots_json(session, query, NOW, SlotCache())
    assert bookings_read[len(reads) :] == reads  # the JSON body walks the same way
    slots = [(f.slot.schedule_id, f.slot.start) for f in found]
    assert len(slots) == 1200 and not booked & set(slots)
    assert body.count('"available": true') == 1200
    walked = slots[-1][1]
    assert walked - NOW > timedelta(days=3)
    # Doubling (1, 2, 4 days) would have read to NOW + 7 days; each dense day stays one day long.
    assert walked < reads[-1][1] <= walked + timedelta(days=1)
    assert [end - start for start, end in reads[:3]] == [timedelta(days=1)] * 3


def test_the_next_stretch_follows_the_rows_the_last_one_held() -> None:
    day = timedelta(days=1)
    few, many = booked.FEW_BOOKING_ROWS - 1, 4 * booked.FEW_BOOKING_ROWS + 1
    assert booked._next_stretch(day, few) == 2 * day  # sparse: fewer queries
    assert booked._next_stretch(day, booked.FEW_BOOKING_ROWS) == day
    assert booked._next_stretch(day, many) == day / 2  # very dense: read closer
    shortest = booked.SHORTEST_BOOKING_STRETCH
    assert booked._next_stretch(shortest, many) == shortest
