"""Booking throughput through a real HTTP server, next to `GET /healthz` in the same run.

For each database (SQLite file, PostgreSQL): migrate a fresh database, add a schedule with a
slot every minute and 64 volunteers with session tokens, start `watchroster serve --no-worker`
(uvicorn, one process, no dispatcher) as a separate process, then drive it with `wrk`:

1. `GET /healthz` (the ceiling of the HTTP stack on this machine),
2. `POST /bookings`, every request a distinct future slot, tokens rotating over the 64 users.

wrk is a C load generator, so the generator is not the bottleneck (its /healthz figure shows
what it can drive). Afterwards the database is checked: one booking row and one confirmation
per 201. The figure that counts is the ratio booking/healthz throughput.

    uv run python -m bench.bench_booking [--duration 10] [--connections 64]

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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from bench.common import server_process, throwaway_database
from watchroster.auth.deps import TOKEN_PURPOSE
from watchroster.auth.models import AuthSession, User
from watchroster.bookings.models import Booking
from watchroster.db import Database
from watchroster.outbox.models import OutboxMessage
from watchroster.schedules.models import Schedule
from watchroster.security import keyed_hash, new_session_token

SECRET_KEY = "bench-secret-key-" + "x" * 32
DEFAULT_PG_URL = os.environ.get(
    "WATCHROSTER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
USERS = 64

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
  -- Slot n of this thread: every thread walks its own residue class of minutes.
  local n = counter * threads + id
  counter = counter + 1
  local start = os.date("!%%Y-%%m-%%dT%%H:%%M:00Z", base + n * 60)
  local body = '{"schedule_id": ' .. schedule_id .. ', "start_time": "' .. start .. '"}'
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[(n %% #tokens) + 1],
  }
  return wrk.format("POST", "/bookings", headers, body)
end
"""


@dataclass
class Result:
    database: str
    endpoint: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def seed(url: str) -> tuple[int, list[str]]:
    """Add a one-minute-slot schedule and USERS volunteers with tokens (to a migrated DB)."""
    db = Database(url)
    tokens = [new_session_token() for _ in range(USERS)]
    now = datetime.now(UTC)
    with db.write() as session:
        schedule = Schedule(
            name="Every minute", cron_expr="* * * * *", timezone="UTC", duration_minutes=1
        )
        session.add(schedule)
        for index, token in enumerate(tokens):
            user = User(phone=f"+2782{7000000 + index:07d}", name=f"Bench {index}")
            session.add(user)
            session.flush()
            token_hash = keyed_hash(SECRET_KEY, TOKEN_PURPOSE, token)
            expires = now + timedelta(days=1)
            session.add(
                AuthSession(user_id=user.user_id, token_hash=token_hash, expires_at=expires)
            )
        session.flush()
        schedule_id = schedule.schedule_id
    db.dispose()
    return schedule_id, tokens


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


def to_result(database: str, endpoint: str, raw: dict[str, int]) -> Result:
    errors = sum(raw[key] for key in ("connect", "read", "write", "status", "timeout"))
    return Result(
        database=database,
        endpoint=endpoint,
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        errors=errors,
    )


def write_scripts(workdir: Path, schedule_id: int, tokens: list[str], threads: int) -> None:
    (workdir / "healthz.lua").write_text(DONE_LUA)
    quoted = ", ".join(f'"{token}"' for token in tokens)
    booking = BOOKING_LUA % {"tokens": quoted, "schedule_id": schedule_id, "threads": threads}
    (workdir / "booking.lua").write_text(booking + DONE_LUA)


def check_database(url: str, created: int, in_flight: int) -> str:
    """One booking row and one confirmation per 201. Requests still in flight when wrk stopped
    (at most one per connection) may have committed without being counted as responses."""
    time.sleep(2)  # let those requests finish
    db = Database(url)
    with db.read() as session:
        rows = session.scalar(select(func.count()).select_from(Booking)) or 0
        confirmations = session.scalar(
            select(func.count()).where(OutboxMessage.message_type == "booking_confirmed")
        )
    db.dispose()
    consistent = rows == confirmations and created <= rows <= created + in_flight
    verdict = "ok" if consistent else "MISMATCH"
    return f"{rows} booking rows, {confirmations} confirmations, {created} responses 201: {verdict}"


def bench_database(args: argparse.Namespace, name: str, url: str) -> list[Result]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    schedule_id, tokens = seed(url)
    write_scripts(workdir, schedule_id, tokens, args.threads)
    server_env = {
        "WATCHROSTER_SECRET_KEY": SECRET_KEY,
        "WATCHROSTER_LOG_LEVEL": args.log_level,
        "WATCHROSTER_MESSAGE_BACKEND": "console",
    }
    # Slots start tomorrow, aligned to the minute; the warm-up takes the slots a year later.
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    base = int(tomorrow.timestamp())
    with server_process(url, server_env) as base_url:
        warm = argparse.Namespace(**{**vars(args), "duration": 2})
        run_wrk(warm, f"{base_url}/healthz", workdir / "healthz.lua")
        run_wrk(warm, base_url, workdir / "booking.lua", str(base + 366 * 86400))
        time.sleep(2)  # let the warm-up's last requests finish, then count only the measured run
        cleaner = Database(url)
        with cleaner.engine.begin() as connection:
            connection.execute(text("DELETE FROM outbox"))
            connection.execute(text("DELETE FROM bookings"))
        cleaner.dispose()
        health = to_result(
            name, "GET /healthz", run_wrk(args, f"{base_url}/healthz", workdir / "healthz.lua")
        )
        booking = to_result(
            name, "POST /bookings", run_wrk(args, base_url, workdir / "booking.lua", str(base))
        )
    verdict = check_database(url, booking.requests - booking.errors, args.connections)
    print(f"  {name}: {verdict}")
    shutil.rmtree(workdir, ignore_errors=True)
    return [health, booking]


def report(results: list[Result]) -> None:
    print(
        f"{'database':<11} {'endpoint':<15} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
    )
    for result in results:
        print(
            f"{result.database:<11} {result.endpoint:<15} {result.rate:>9.0f} "
            f"{result.p50_ms:>8.1f} {result.p99_ms:>8.1f} {result.errors:>7}"
        )
    for index in range(0, len(results), 2):
        health, booking = results[index], results[index + 1]
        print(f"{health.database}: booking/healthz throughput = {booking.rate / health.rate:.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--log-level", default="WARNING", help="server log level")
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
