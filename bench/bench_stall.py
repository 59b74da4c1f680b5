"""No request can stall the server: year-long availability queries next to bookings and /healthz.

    uv run python -m bench.bench_stall [--db sqlite|postgresql] [--seconds 15] [--runs 1]

Builds a throwaway database with 300 schedules (every-minute ones, 29-February-only ones, weekly,
daily evenings, weekend half-hours, nightly ones on DST edges) and 64 volunteers with tokens,
starts a real server process, then runs three wrk processes at once:

* 4 connections asking for 366-day windows in a loop: all schedules (limit 100 and 1000), one
  29-February schedule, one every-minute schedule, one weekly one, from dates spread over the
  year (so the slot cache keeps meeting days it has not rendered);
* 1 connection booking distinct future slots (the "fifth client");
* 1 connection probing /healthz every 20 ms.

Targets (issue #9): /healthz p99 ≤ 50 ms, booking p99 ≤ 200 ms, every availability request
≤ 1 s, server RSS ≤ 200 MB (the peak, VmHWM, is reported).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import median

from sqlalchemy import func, insert, select

from bench.bench_booking import BOOKING_LUA, SECRET_KEY
from bench.bench_booking import seed as seed_booking
from bench.common import free_port, require_wrk, throwaway_database, wait_until_up
from watchroster.db.engine import Database
from watchroster.schedules.models import Schedule

# (count, cron, zone); with bench_booking's every-minute UTC schedule, 300 in all.
MIX = (
    (19, "* * * * *", "Africa/Johannesburg"),
    (20, "0 18 29 2 *", "Europe/London"),
    (100, "0 18 * * {weekday}", "America/New_York"),
    (60, "0 18-23 * * *", "Africa/Johannesburg"),
    (50, "*/30 8-17 * * SAT,SUN", "Africa/Johannesburg"),
    (50, "30 1 * * *", "Europe/London"),
)
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")

RESULT_LUA = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"errors": %d}\\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), latency.max, e.connect + e.read + e.write + e.status + e.timeout))
end
"""
PATHS_LUA = """
local paths = {%(paths)s}
local counter = 0
function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""
PROBE_LUA = "function delay() return 20 end\n"


def seed(url: str) -> tuple[int, list[str], dict[str, int]]:
    """The schedules and volunteers; returns the booking schedule, tokens and sample ids."""
    by_seats, tokens = seed_booking(url, [1])
    booking_schedule = by_seats[1]
    now = datetime.now(UTC)
    rows = []
    for count, cron, zone in MIX:
        for index in range(count):
            rows.append(
                {
                    "name": f"{cron} #{index}",
                    "cron_expr": cron.format(weekday=WEEKDAYS[index % 7]),
                    "timezone": zone,
                    "duration_minutes": 60,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    db = Database(url)
    with db.write() as session:
        session.execute(insert(Schedule), rows)
        lowest = select(Schedule.cron_expr, func.min(Schedule.schedule_id))
        first = {row[0]: row[1] for row in session.execute(lowest.group_by(Schedule.cron_expr))}
    db.dispose()
    samples = {
        "leap_day": first["0 18 29 2 *"],
        "every_minute": first["* * * * *"],
        "weekly": first["0 18 * * MON"],
    }
    return booking_schedule, tokens, samples


def availability_paths(samples: dict[str, int], today: date, count: int = 400) -> list[str]:
    """366-day windows from dates spread over the coming year, over a mix of filters."""
    rng = random.Random(9)
    filters = [
        "limit=100",
        "limit=1000",
        f"schedule_id={samples['leap_day']}&limit=1000",
        f"schedule_id={samples['every_minute']}&limit=1000",
        f"schedule_id={samples['weekly']}&limit=1000",
    ]
    paths = []
    for index in range(count):
        start = today + timedelta(days=rng.randrange(0, 365))
        window = f"from={start}&to={start + timedelta(days=365)}"
        paths.append(f"/shifts/available?{window}&{filters[index % len(filters)]}")
    return paths


@contextmanager
def server(url: str) -> Iterator[tuple[str, int]]:
    """`watchroster serve --no-worker` (as bench.common starts it); yields its URL and pid."""
    port = free_port()
    env = {
        **os.environ,
        "WATCHROSTER_DATABASE_URL": url,
        "WATCHROSTER_LOG_LEVEL": "WARNING",
        "WATCHROSTER_SECRET_KEY": SECRET_KEY,
    }
    command = [sys.executable, "-m", "watchroster", "serve", "--no-worker", "--port", str(port)]
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def wrk(base: str, script: Path, connections: int, seconds: int, *args: str) -> dict[str, int]:
    command = [require_wrk(), "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    command += ["-s", str(script), base, *(["--", *args] if args else [])]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    parsed: dict[str, int] = json.loads(line.removeprefix("RESULT "))
    return parsed


def one_run(kind: str, seconds: int) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-stall-"))
    with throwaway_database(kind) as url:
        booking_schedule, tokens, samples = seed(url)
        today = datetime.now(UTC).date()
        quoted = ", ".join(f'"{path}"' for path in availability_paths(samples, today))
        (workdir / "available.lua").write_text(PATHS_LUA % {"paths": quoted} + RESULT_LUA)
        (workdir / "probe.lua").write_text(PROBE_LUA + RESULT_LUA)
        booking = BOOKING_LUA % {
            "tokens": ", ".join(f'"{t}"' for t in tokens),
            "schedule_id": booking_schedule,
            "threads": 1,
        }
        (workdir / "booking.lua").write_text(booking + RESULT_LUA)
        start = int((datetime.now(UTC) + timedelta(days=1)).replace(second=0).timestamp())
        with server(url) as (base, pid):
            results: dict[str, dict[str, int]] = {}

            def run(name: str, target: str, connections: int, *args: str) -> None:
                script = workdir / f"{name}.lua"
                results[name] = wrk(target, script, connections, seconds, *args)

            threads = [
                threading.Thread(target=run, args=("available", base, 4)),
                threading.Thread(target=run, args=("booking", base, 1, str(start))),
                threading.Thread(target=run, args=("probe", f"{base}/healthz", 1)),
            ]
            for thread in threads:
                thread.start()
            peak = 0.0
            while any(thread.is_alive() for thread in threads):
                peak = max(peak, rss_mb(pid))
                time.sleep(0.2)
            high_water = rss_mb(pid, "VmHWM")
    available, booked, probe = results["available"], results["booking"], results["probe"]
    return {
        "healthz_p99_ms": probe["p99_us"] / 1000,
        "booking_p99_ms": booked["p99_us"] / 1000,
        "bookings_per_s": booked["requests"] / (booked["duration_us"] / 1e6),
        "available_max_ms": available["max_us"] / 1000,
        "available_p50_ms": available["p50_us"] / 1000,
        "available_per_s": available["requests"] / (available["duration_us"] / 1e6),
        "errors": available["errors"] + booked["errors"] + probe["errors"],
        "rss_peak_mb": max(peak, high_water),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--runs", type=int, default=1, help="report the median of this many")
    args = parser.parse_args()
    runs = [one_run(args.db, args.seconds) for _ in range(args.runs)]
    for run in runs:
        print("  " + "  ".join(f"{key} {value:.1f}" for key, value in run.items()))
    print(f"{args.db}, median of {len(runs)}:")
    for key in runs[0]:
        print(f"  {key:<18} {median(run[key] for run in runs):>9.1f}")


if __name__ == "__main__":
    main()
