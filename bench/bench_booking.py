"""Booking throughput through a real HTTP server, next to `GET /healthz` in the same run.

For each database (SQLite file, PostgreSQL): migrate a fresh database, add a schedule with a
slot every minute, 64 volunteers with session tokens and a year of their past bookings
(`--history`, one every 30 minutes; PostgreSQL then runs ANALYZE, as autovacuum keeps a live
server's statistics: on tables it last saw empty its cached plans scanned every booking), start
`watchroster serve --no-worker` as a separate process, then drive it with `wrk`:

1. `GET /healthz` (the ceiling of the HTTP stack on this machine),
2. `POST /bookings` on a one-seat schedule, every request a distinct future slot, tokens
   rotating over the 64 users;
3. the same on a three-seat schedule (issue #12 §1) with three times the clients per slot: each
   slot is asked for by three consecutive requests of different users, so bookings contend for
   a slot's seats and take seats 1, 2 and 3 (`--seats` chooses the variants).

Each of these runs against a server with one HTTP process (`--workers 1`) and against one with
serve's default (one per CPU), one after the other (issue #14 §1: `--workers` chooses); `--runs`
repeats the whole set and the report shows medians.

wrk is a C load generator, so the generator is not the bottleneck (its /healthz figure shows
what it can drive). After each booking run the database is checked: one booking row and one
confirmation per 201, no slot holding more bookings than seats. The figures that count are the
ratios booking/healthz throughput and default workers/one worker.

    uv run python -m bench.bench_booking [--duration 10] [--connections 64] [--seats 1,3] \
        [--workers 1,default] [--runs 3] [--history 17520]

Needs `wrk` (`apt-get install -y wrk`) and, for PostgreSQL, a server at --pg-url.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from bench.common import server_process, throwaway_database
from watchroster.auth.deps import TOKEN_PURPOSE
from watchroster.auth.models import AuthSession, User
from watchroster.bookings.models import Booking
from watchroster.core.security import keyed_hash, new_session_token
from watchroster.db.engine import Database
from watchroster.outbox.models import OutboxMessage
from watchroster.schedules.models import Schedule

SECRET_KEY = "bench-secret-key-" + "x" * 32
DEFAULT_PG_URL = os.environ.get(
    "WATCHROSTER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
USERS = 64
# Past bookings seeded before the run: a group's year of shifts, one every 30 minutes (`seed`).
HISTORY = 17_520

# wrk scripts. `done` prints one JSON line that this script parses; latencies are in µs.
DONE_LUA = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""

BOOKING_LUA = """
local tokens = {%(tokens)s}
local schedule_id = %(schedule_id)d
local seats = %(seats)d
local base, threads, counter = 0, %(threads)d, 0
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  base = tonumber(args[1])
end

function request()
  -- Request n of this thread: every thread walks its own residue class of requests, and
  -- `seats` consecutive requests (different users) ask for one slot.
  local n = counter * threads + id
  counter = counter + 1
  local start = os.date("!%%Y-%%m-%%dT%%H:%%M:00Z", base + math.floor(n / seats) * 60)
  local body = '{"schedule_id": ' .. schedule_id .. ', "start_time": "' .. start .. '"}'
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[(n %% #tokens) + 1],
  }
  return wrk.format("POST", "/bookings", headers, body)
end
"""


DEFAULT_WORKERS = "default"


@dataclass
class Result:
    database: str
    workers: str  # "1", or "default" (serve's own choice: one per CPU)
    endpoint: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def bench_phone(index: int) -> str:
    """The number of the `index`th volunteer `seed` adds."""
    return f"+2782{7000000 + index:07d}"


def seed(
    url: str, seat_counts: list[int], users: int = USERS, history: int = 0
) -> tuple[dict[int, int], list[str]]:
    """Add a one-minute-slot schedule per number of seats and `users` volunteers with tokens (to
    a migrated DB), and `history` past bookings: {seats: schedule id}, tokens."""
    db = Database(url)
    tokens = [new_session_token() for _ in range(users)]
    now = datetime.now(UTC)
    with db.write() as session:
        schedules = {
            seats: Schedule(
                name=f"Every minute, {seats} seat(s)",
                cron_expr="* * * * *",
                timezone="UTC",
                duration_minutes=1,
                seats=seats,
            )
            for seats in seat_counts
        }
        session.add_all(schedules.values())
        for index, token in enumerate(tokens):
            user = User(phone=bench_phone(index), name=f"Bench {index}")
            session.add(user)
            session.flush()
            token_hash = keyed_hash(SECRET_KEY, TOKEN_PURPOSE, token)
            expires = now + timedelta(days=1)
            session.add(
                AuthSession(user_id=user.user_id, token_hash=token_hash, expires_at=expires)
            )
        session.flush()
        schedule_ids = {seats: schedule.schedule_id for seats, schedule in schedules.items()}
        user_ids = list(session.scalars(select(User.user_id).order_by(User.user_id)))
        _add_history(session, history, min(schedule_ids.values()), user_ids, now)
    if not db.is_sqlite:
        # What autovacuum keeps up to date on a live server; a database seconds old has no
        # statistics, and PostgreSQL would cache plans made for empty tables (issue #14 note).
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    db.dispose()
    return schedule_ids, tokens


def _add_history(
    session: Session, count: int, schedule_id: int, user_ids: list[int], now: datetime
) -> None:
    """`count` attended bookings of the past, one every 30 minutes back from now, the users
    taking turns: a group's year of shifts (17,520 in a year), all before the bench's slots."""
    last = now.replace(second=0, microsecond=0)
    rows = []
    for index in range(count):
        start = last - timedelta(minutes=30 * (index + 1))
        rows.append(
            {
                "seat": 1,
                "user_id": user_ids[index % len(user_ids)],
                "schedule_id": schedule_id,
                "shift_start": start,
                "shift_end": start + timedelta(minutes=1),
                "attended": True,
                "created_at": start - timedelta(days=1),
            }
        )
    if rows:
        session.execute(insert(Booking), rows)


def run_wrk(args: argparse.Namespace, base_url: str, script: Path, *extra: str) -> dict[str, int]:
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base_url,
    ]
    if extra:
        command += ["--", *extra]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    parsed: dict[str, int] = json.loads(line.removeprefix("RESULT "))
    return parsed


def to_result(database: str, workers: str, endpoint: str, raw: dict[str, int]) -> Result:
    errors = sum(raw[key] for key in ("connect", "read", "write", "status", "timeout"))
    return Result(
        database=database,
        workers=workers,
        endpoint=endpoint,
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        errors=errors,
    )


def write_scripts(
    workdir: Path, schedule_ids: dict[int, int], tokens: list[str], threads: int
) -> None:
    (workdir / "healthz.lua").write_text(DONE_LUA)
    quoted = ", ".join(f'"{token}"' for token in tokens)
    for seats, schedule_id in schedule_ids.items():
        values = {"tokens": quoted, "schedule_id": schedule_id, "threads": threads, "seats": seats}
        (workdir / f"booking-{seats}.lua").write_text(BOOKING_LUA % values + DONE_LUA)


def check_database(url: str, created: int, in_flight: int, seats: int) -> str:
    """One booking row and one confirmation per 201, at most `seats` bookings per slot. Requests
    still in flight when wrk stopped (at most one per connection) may have committed without
    being counted as responses."""
    time.sleep(2)  # let those requests finish
    db = Database(url)
    with db.read() as session:
        future = Booking.shift_start > datetime.now(UTC)  # not the seeded history
        rows = session.scalar(select(func.count()).select_from(Booking).where(future)) or 0
        confirmations = session.scalar(
            select(func.count()).where(OutboxMessage.message_type == "booking_confirmed")
        )
        per_slot = (
            select(func.count().label("taken"))
            .select_from(Booking)
            .where(Booking.canceled_at.is_(None), future)
            .group_by(Booking.schedule_id, Booking.shift_start)
            .subquery()
        )
        fullest = session.scalar(select(func.max(per_slot.c.taken))) or 0
    db.dispose()
    consistent = (
        rows == confirmations and created <= rows <= created + in_flight and fullest <= seats
    )
    verdict = "ok" if consistent else "MISMATCH"
    return (
        f"{rows} booking rows, {confirmations} confirmations, {created} responses 201, "
        f"at most {fullest} per slot of {seats} seat(s): {verdict}"
    )


def clear_bookings(url: str) -> None:
    cleaner = Database(url)
    with cleaner.engine.begin() as connection:
        connection.execute(text("DELETE FROM outbox"))
        # The bench's own bookings: all in the future, unlike the seeded history.
        connection.execute(delete(Booking).where(Booking.shift_start > datetime.now(UTC)))
    cleaner.dispose()


def bench_database(args: argparse.Namespace, name: str, url: str) -> list[Result]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    schedule_ids, tokens = seed(url, args.seats, history=args.history)
    write_scripts(workdir, schedule_ids, tokens, args.threads)
    results = []
    for run in range(1, args.runs + 1):
        for workers in args.workers:
            print(f"  {name}, run {run}, workers {workers}:")
            results += bench_server(args, name, url, workers, workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    return results


def server_env(args: argparse.Namespace) -> dict[str, str]:
    """The bench server's settings: the seeded tokens' key, no messages sent."""
    return {
        "WATCHROSTER_SECRET_KEY": SECRET_KEY,
        "WATCHROSTER_LOG_LEVEL": args.log_level,
        "WATCHROSTER_MESSAGE_BACKEND": "console",
    }


def first_slot() -> int:
    """The first slot booked (epoch seconds): tomorrow, on the minute. The warm-up books the
    slots a year later (`WARM_UP_OFFSET`)."""
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    return int(tomorrow.timestamp())


WARM_UP_OFFSET = 366 * 86400


def warm_up_options(args: argparse.Namespace) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(args), "duration": 2})


def bench_server(
    args: argparse.Namespace, name: str, url: str, workers: str, workdir: Path
) -> list[Result]:
    """/healthz, then each booking variant, against one server started with `workers`."""
    base = first_slot()
    count = None if workers == DEFAULT_WORKERS else int(workers)
    with server_process(url, server_env(args), workers=count) as base_url:
        warm = warm_up_options(args)
        run_wrk(warm, f"{base_url}/healthz", workdir / "healthz.lua")
        for seats in args.seats:
            script = workdir / f"booking-{seats}.lua"
            run_wrk(warm, base_url, script, str(base + WARM_UP_OFFSET))
            time.sleep(2)  # the warm-up's last requests finish; only measured runs are counted
            clear_bookings(url)
        health = run_wrk(args, f"{base_url}/healthz", workdir / "healthz.lua")
        results = [to_result(name, workers, "GET /healthz", health)]
        for seats in args.seats:
            script = workdir / f"booking-{seats}.lua"
            raw = run_wrk(args, base_url, script, str(base))
            booking = to_result(name, workers, f"POST /bookings {seats}", raw)
            created = booking.requests - booking.errors
            print(f"    {check_database(url, created, args.connections, seats)}")
            clear_bookings(url)  # the next variant books the same minutes for the same users
            results.append(booking)
    for result in results:
        print(f"    {result.endpoint:<18} {result.rate:>7.0f} req/s, p99 {result.p99_ms:.1f} ms")
    return results


def median_of(results: list[Result]) -> Result:
    """The run with the median throughput (its own latencies and errors, not a mix of runs);
    the errors are those of every run, so none is hidden."""
    ordered = sorted(results, key=lambda result: result.rate)
    middle = ordered[(len(ordered) - 1) // 2]
    return replace(middle, errors=sum(result.errors for result in results))


def report(results: list[Result]) -> None:
    """Medians per (database, workers, endpoint), each booking figure against its server's
    /healthz, and the default workers against one (for /healthz too: the machine's ceiling)."""
    groups: dict[tuple[str, str, str], list[Result]] = {}
    for result in results:
        groups.setdefault((result.database, result.workers, result.endpoint), []).append(result)
    medians = {key: median_of(runs) for key, runs in groups.items()}
    print(
        f"{'database':<11} {'workers':<8} {'endpoint (seats)':<18} {'req/s':>9} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'errors':>7}  runs (req/s)"
    )
    for (database, workers, endpoint), result in medians.items():
        runs = ", ".join(f"{run.rate:.0f}" for run in groups[(database, workers, endpoint)])
        print(
            f"{database:<11} {workers:<8} {endpoint:<18} {result.rate:>9.0f} "
            f"{result.p50_ms:>8.1f} {result.p99_ms:>8.1f} {result.errors:>7}  {runs}"
        )
    for (database, workers, endpoint), result in medians.items():
        single = medians.get((database, "1", endpoint))
        if endpoint == "GET /healthz":
            # How far this machine lets even a trivial endpoint scale over the processes (the
            # load generator shares the cores): the ceiling for the booking ratio below.
            if workers != "1" and single is not None:
                ratio = result.rate / single.rate
                print(f"{database}, workers {workers}: GET /healthz against one {ratio:.2f}x")
            continue
        health = medians[(database, workers, "GET /healthz")]
        line = f"{database}, workers {workers}: {endpoint} seat(s)/healthz = "
        line += f"{result.rate / health.rate:.0%}"
        if workers != "1" and single is not None:
            line += f"; against one worker {result.rate / single.rate:.2f}x"
        print(line)


def seat_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or any(not 1 <= count <= 50 for count in counts):
        raise argparse.ArgumentTypeError("seats: numbers 1..50, comma-separated")
    return counts


def worker_choices(text: str) -> list[str]:
    choices = [part.strip() for part in text.split(",") if part.strip()]
    if not choices or any(not (c == DEFAULT_WORKERS or c.isdigit()) for c in choices):
        raise argparse.ArgumentTypeError("workers: numbers or 'default', comma-separated")
    return choices


def add_load_options(parser: argparse.ArgumentParser, *, databases: str) -> None:
    """The options this bench shares with `bench_booking_floor`."""
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--databases", default=databases)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--log-level", default="WARNING", help="server log level")
    parser.add_argument(
        "--history", type=int, default=HISTORY, help="past bookings in the database (0: none)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_options(parser, databases="sqlite,postgresql")
    parser.add_argument(
        "--seats",
        type=seat_counts,
        default=[1, 3],
        help="booking variants: seats per slot (and clients per slot), e.g. 1,3",
    )
    parser.add_argument(
        "--workers",
        type=worker_choices,
        default=["1", DEFAULT_WORKERS],
        help="servers to compare: HTTP processes, or 'default' (one per CPU), e.g. 1,default",
    )
    parser.add_argument("--runs", type=int, default=1, help="repeat the set; medians reported")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    results: list[Result] = []
    for name in args.databases.split(","):
        if name not in ("sqlite", "postgresql"):
            sys.exit(f"unknown database {name!r}")
        with throwaway_database(name, args.pg_url) as url:
            results += bench_database(args, name, url)
    report(results)


if __name__ == "__main__":
    main()
