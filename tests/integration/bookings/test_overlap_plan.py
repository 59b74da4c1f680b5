"""The overlap checks (`bookings.busy`) read only the person's own index entries, not every booking
of the day, however many others booked that day.

Written as `user_id = :u OR buddy_user_id = :u` with LIMIT 1, PostgreSQL walked the shift_start
index through the whole day's bookings (0.23-0.34 ms of the booking's ~1 ms of database time with
1,440 bookings that day, issue #14). A prepared statement ends up with the generic plan, made
without the parameters' values, so both plans are checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import insert, text

from tests.support.factories import add_schedule, add_user
from watchroster.bookings import busy
from watchroster.bookings.models import Booking
from watchroster.db.engine import Database
from watchroster.db.rawsql import Prepared

OWN_INDEXES = {"ix_bookings_user_shift", "ix_bookings_buddy_user_id"}
DAY = datetime(2031, 3, 4, tzinfo=UTC)
PEOPLE = 40
STATEMENTS = {
    "volunteer anywhere": busy._VOLUNTEER_ANYWHERE,
    "either side": busy._ON_ANY_SIDE,
    "as buddy": busy._AS_BUDDY,
}


@pytest.fixture
def busy_day(db: Database) -> Iterator[dict[str, Any]]:
    """2,880 one-minute bookings over two days, the people taking turns (a busy deployment), and
    the parameters of a check at noon on the first day for one of them."""
    schedule = add_schedule(db, cron_expr="* * * * *", timezone="UTC", duration_minutes=1)
    people = [add_user(db, f"+2782555{index:04d}").user_id for index in range(PEOPLE)]
    rows = [
        {
            "seat": 1,
            "user_id": people[minute % PEOPLE],
            "buddy_user_id": people[(minute + 1) % PEOPLE] if minute % 7 == 0 else None,
            "schedule_id": schedule.schedule_id,
            "shift_start": DAY + timedelta(minutes=minute),
            "shift_end": DAY + timedelta(minutes=minute + 1),
            "attended": False,
            "created_at": DAY - timedelta(days=30),
        }
        for minute in range(2 * 24 * 60)
    ]
    with db.write() as session:
        session.execute(insert(Booking), rows)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))  # autovacuum's work on a live server
    start = DAY + timedelta(hours=12, seconds=30)  # overlaps nobody's one-minute booking
    yield {
        "user_id": people[3],
        "this_booking": 0,
        "earliest": start - timedelta(days=1),
        "end": start + timedelta(minutes=1),
        "start": start,
    }


def _postgres_plans(db: Database, statement: Prepared, params: dict[str, Any]) -> list[Any]:
    """The custom and the generic plan of `statement`, as EXPLAIN's JSON."""
    sql, values = statement.bind(db.engine.dialect, params)
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", sql)))
    positional = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", sql)
    raw = db.engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert isinstance(driver, psycopg.Connection)
        cursor = psycopg.ClientCursor(driver)  # values inlined: EXECUTE takes no bound ones
        cursor.execute(f"PREPARE overlap AS {positional}")
        plans = []
        for mode in ("force_custom_plan", "force_generic_plan"):
            cursor.execute(f"SET plan_cache_mode = {mode}")
            placeholders = ", ".join(["%s"] * len(names))
            cursor.execute(
                f"EXPLAIN (FORMAT JSON) EXECUTE overlap({placeholders})", [values[n] for n in names]
            )
            row = cursor.fetchone()
            assert row is not None
            plans.append(row[0] if isinstance(row[0], list) else json.loads(row[0]))
        driver.rollback()
        return plans
    finally:
        raw.close()


def _scans(node: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    """Each plan node that reads a table or an index: its type, and the index (if any). A bitmap
    heap scan only fetches the rows its bitmap index scans found, so those are what count."""
    reads_table = "Relation Name" in node and node["Node Type"] != "Bitmap Heap Scan"
    if reads_table or "Index Name" in node:
        yield node["Node Type"], node.get("Index Name")
    for child in node.get("Plans", []):
        yield from _scans(child)


def _sqlite_plan(db: Database, statement: Prepared, params: dict[str, Any]) -> list[str]:
    sql, values = statement.bind(db.engine.dialect, params)
    with db.engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        return [row[3] for row in driver.execute(f"EXPLAIN QUERY PLAN {sql}", values)]


@pytest.mark.parametrize("label", STATEMENTS)
def test_the_check_reads_only_the_persons_own_index_entries(
    db: Database, busy_day: dict[str, Any], label: str
) -> None:
    statement = STATEMENTS[label]
    if db.is_sqlite:
        steps = [step for step in _sqlite_plan(db, statement, busy_day) if "bookings" in step]
        assert steps, "no step reads bookings"
        for step in steps:
            assert step.startswith("SEARCH bookings USING"), step
            assert any(index in step for index in OWN_INDEXES), step
        return
    for plan in _postgres_plans(db, statement, busy_day):
        scans = list(_scans(plan[0]["Plan"]))
        assert scans, plan
        for node_type, index in scans:
            assert node_type in {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}, scans
            assert index in OWN_INDEXES, scans


def _at(params: dict[str, Any], minute: int) -> dict[str, Any]:
    """A half-minute within the one-minute shift at `minute`, and no other."""
    start = DAY + timedelta(minutes=minute, seconds=15)
    return {**params, "start": start, "end": start + timedelta(seconds=30)}


def test_the_check_still_finds_a_clash_on_either_side(
    db: Database, busy_day: dict[str, Any]
) -> None:
    """Cheap and still right. people[3] holds the bookings at minutes m with m % 40 == 3, and is
    buddy on those with m % 40 == 2 and m % 7 == 0 (the first is minute 42)."""
    person = busy_day["user_id"]
    with db.raw_read() as transaction:
        own = transaction.first(busy._VOLUNTEER_ANYWHERE, _at(busy_day, 12 * 60 + 3))
        as_buddy = transaction.first(busy._VOLUNTEER_ANYWHERE, _at(busy_day, 42))
        either = transaction.first(busy._ON_ANY_SIDE, _at(busy_day, 42))
        free = transaction.first(busy._VOLUNTEER_ANYWHERE, _at(busy_day, 44))
    assert own is not None and own[1] == person
    assert as_buddy is not None and as_buddy[1] != person
    assert either is not None and either[0] == as_buddy[0]
    assert free is None
