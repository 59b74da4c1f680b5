"""GET /shifts/available under load: 50 schedules with 1,000 and with 100,000 past bookings, and
500 schedules with 0 and with 5,000 bookings inside the window.

    uv run python -m bench.bench_availability [--db sqlite|postgresql] [--seconds 10]
                                              [--case history|wide|all]

Builds a throwaway database with a realistic mix of 50 schedules (evening patrols on various
weekdays, hourly slots 18:00-23:00, half-hourly weekend slots in a seasonal window), fills it with
bookings, starts a real server process and drives
`/shifts/available?from=<tomorrow>&to=<+29 days>&limit=1000` with wrk at 16 connections.

* history (issue #9): 50 schedules, 1,000 and 100,000 past bookings (300 in the window).
  Targets: ≥ 250 req/s, p50 ≤ 25 ms, and the 100k-booking figure within 20 % of the 1k one.
* wide (issue #14): the same mix ten times over (500 schedules), 0 and 5,000 bookings inside
  the window. Target: the 5,000-booking figure within 20 % of the 0-booking one (bookings are
  read only for the stretch the walk covers before reaching the limit).
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from bench.common import run_wrk, server_process, throwaway_database
from watchroster.auth.models import User
from watchroster.bookings.models import Booking
from watchroster.db.engine import Database
from watchroster.schedules.models import Schedule
from watchroster.schedules.recurrence import occurrences

ZONE = "Africa/Johannesburg"
EVENING = ["0 18 * * 1-5", "30 18 * * 1,3,5", "0 19 * * 2,4", "0 20 * * 5,6", "0 18 * * 0"]


def schedule_rows(today: date, copies: int = 1) -> list[dict[str, object]]:
    """The 50-schedule mix, `copies` times."""
    rows: list[dict[str, object]] = []
    season = (today - timedelta(days=60), today + timedelta(days=120))
    for copy in range(copies):
        for i in range(20):
            rows.append(_row(f"Evening patrol {copy}.{i}", EVENING[i % len(EVENING)], 180))
        for i in range(15):
            rows.append(_row(f"Hourly watch {copy}.{i}", "0 18-23 * * *", 60))
        for i in range(15):
            name = f"Weekend half-hours {copy}.{i}"
            rows.append(_row(name, "*/30 8-17 * * SAT,SUN", 30, season))
    return rows


def _row(
    name: str, cron: str, minutes: int, season: tuple[date, date] | None = None
) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "name": name,
        "cron_expr": cron,
        "timezone": ZONE,
        "start_date": season[0] if season else None,
        "end_date": season[1] if season else None,
        "duration_minutes": minutes,
        "active": True,
        "created_at": now,
        "updated_at": now,
    }


def fill(url: str, past_bookings: int, in_window: int = 300, copies: int = 1) -> None:
    """50 × `copies` schedules, 200 users, `past_bookings` bookings in the past and `in_window`
    in the window."""
    db = Database(url)
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(ZONE)).date()
    with db.write() as session:
        session.execute(insert(Schedule), schedule_rows(today, copies))
        session.execute(
            insert(User), [{"phone": f"+2782{i:07d}", "name": f"Volunteer {i}"} for i in range(200)]
        )
        schedules = list(session.query(Schedule))
        past = _slots(schedules, now - timedelta(days=3 * 365), now, past_bookings)
        future = _slots(schedules, now + timedelta(days=1), now + timedelta(days=29), in_window)
        rows = [_booking(schedule, start, i) for i, (schedule, start) in enumerate(past + future)]
        for first in range(0, len(rows), 5000):
            session.execute(insert(Booking), rows[first : first + 5000])
        if not db.is_sqlite:
            # As autovacuum would within a minute. Without statistics PostgreSQL reads a stretch
            # of bookings by scanning the whole partial index uq_bookings_active_slot (shift_start
            # is not its first column): 0.6-1.8 ms per query with 100,000 past bookings, against
            # 0.03 ms on ix_bookings_shift_start (EXPLAIN ANALYZE, issue #14 §2).
            session.execute(text("ANALYZE"))
    db.dispose()


def _slots(
    schedules: list[Schedule], start: datetime, end: datetime, count: int
) -> list[tuple[Schedule, datetime]]:
    """`count` distinct occurrences spread over [start, end), round-robin over schedules."""
    if count == 0:
        return []
    per_schedule = -(-count // len(schedules))
    picked: list[tuple[Schedule, datetime]] = []
    rng = random.Random(7)
    for schedule in schedules:
        starts = [o.start for o in occurrences(schedule.rule, start, end)]
        rng.shuffle(starts)
        picked += [(schedule, s) for s in starts[:per_schedule]]
    return picked[:count]


def _booking(schedule: Schedule, start: datetime, i: int) -> dict[str, object]:
    return {
        "user_id": 1 + i % 200,
        "schedule_id": schedule.schedule_id,
        "shift_start": start,
        "shift_end": start + timedelta(minutes=schedule.duration_minutes),
        "attended": i % 3 != 0,
        "created_at": start - timedelta(days=3),
    }


def measure(kind: str, seconds: int, past: int, in_window: int = 300, copies: int = 1) -> None:
    with throwaway_database(kind) as url:
        fill(url, past, in_window, copies)
        today = datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date()
        window = f"from={today + timedelta(days=1)}&to={today + timedelta(days=29)}&limit=1000"
        with server_process(url) as base:
            target = f"{base}/shifts/available?{window}"
            run_wrk(target, connections=16, seconds=2)  # warm-up
            result = run_wrk(target, connections=16, seconds=seconds)
            health = run_wrk(f"{base}/healthz", connections=16, seconds=seconds)
    label = f"{50 * copies} schedules, {past:,} past, {in_window:,} in window"
    print(result.line(f"{kind}: {label}"))
    print(health.line(f"{kind}: /healthz (same server)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--case", choices=["history", "wide", "all"], default="all")
    args = parser.parse_args()
    if args.case in ("history", "all"):
        for past_bookings in (1_000, 100_000):
            measure(args.db, args.seconds, past_bookings)
    if args.case in ("wide", "all"):
        for in_window in (0, 5_000):
            measure(args.db, args.seconds, 0, in_window, copies=10)


if __name__ == "__main__":
    main()
