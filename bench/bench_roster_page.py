"""The coordinator's roster page with many schedules (issue #22 §7): its weight and its speed.

    uv run python -m bench.bench_roster_page [--loads 15] [--src /path/to/other/src]

One throwaway SQLite database with 50 schedules (evening, hourly and weekend half-hourly shifts,
one booked place in ten), one coordinator with a session, one `watchroster serve --no-worker
--workers 1` process; then `--loads` sequential GETs of `/admin/roster` (the next 14 days), the
first few dropped as warm-up. Prints the HTML's size (as sent without and with gzip) and the
median time of a load. Targets: ≤ 300 KB and ≤ 150 ms.

`--src` runs the server from another checkout's `src/` (with this checkout's environment), so
"before" and "after" are measured on the same machine in the same hour:
`git -C /work/main worktree add /tmp/roster-before HEAD` then `--src /tmp/roster-before/src`.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.common import server_process, throwaway_database
from watchroster.auth.models import User
from watchroster.auth.service import open_session
from watchroster.bookings.models import Booking
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.schedules.recurrence import occurrences
from watchroster.schedules.schemas import ScheduleCreate
from watchroster.schedules.service import create_schedule

ZONE = "Africa/Johannesburg"
WEIGHT_BUDGET = 300 * 1024
TIME_BUDGET_MS = 150.0
WARM_UP = 3
# (name, cron, minutes, how many): 50 schedules, mostly one evening shift a day.
KINDS = [
    ("Evening patrol", "0 18 * * *", 180, 42),
    ("Hourly watch", "0 * * * *", 60, 4),
    ("Weekend half-hourly", "0,30 * * * SAT,SUN", 30, 4),
]
SCHEDULES = sum(kind[3] for kind in KINDS)
BOOKED_EVERY = 10  # one slot in ten has a volunteer, so the page shows names as well as gaps


def prepare(url: str) -> str:
    """The schedules, some bookings over the next 14 days and a coordinator; the session token."""
    settings = Settings(_env_file=None, database_url=url)
    db = Database(url)
    now = datetime.now(UTC)
    with db.write() as session:
        volunteer = User(phone="+27820000998", name="Thandi Mokoena", created_at=now)
        admin = User(phone="+27820000999", name="Anna Admin", role="admin", created_at=now)
        session.add_all([volunteer, admin])
        session.flush()
        kinds = [kind[:3] for kind in KINDS for _ in range(kind[3])]
        for n, (name, cron, minutes) in enumerate(kinds):
            data = ScheduleCreate(name=f"{name} {n + 1}", cron_expr=cron, duration_minutes=minutes)
            schedule = create_schedule(session, data, ZONE)
            window = occurrences(schedule.rule, now, now + timedelta(days=14))
            for index, slot in enumerate(window):
                if (index + n) % BOOKED_EVERY == 0:
                    session.add(
                        Booking(
                            user_id=volunteer.user_id,
                            schedule_id=schedule.schedule_id,
                            shift_start=slot.start,
                            shift_end=slot.end,
                            seat=1,
                        )
                    )
        token, _expires = open_session(session, settings, admin.user_id, now)
    db.dispose()
    return token


def measure(base: str, token: str, loads: int, save: str | None) -> tuple[int, int, float]:
    """(plain bytes, gzip bytes, median ms of the loads after the warm-up)."""
    cookies = {"wr_session": token}
    with httpx.Client(base_url=base, cookies=cookies, timeout=60) as client:
        plain = client.get("/admin/roster", headers={"accept-encoding": "identity"})
        plain.raise_for_status()
        if save:
            Path(save).write_bytes(plain.content)
        zipped = client.get("/admin/roster", headers={"accept-encoding": "gzip"})
        wire = int(zipped.headers.get("content-length") or len(zipped.content))
        times = []
        for _ in range(loads + WARM_UP):
            began = time.perf_counter()
            answer = client.get("/admin/roster", headers={"accept-encoding": "gzip"})
            answer.raise_for_status()
            times.append((time.perf_counter() - began) * 1000)
    return len(plain.content), wire, statistics.median(times[WARM_UP:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loads", type=int, default=15)
    parser.add_argument("--src", help="serve another checkout's src/ (the 'before' figures)")
    parser.add_argument("--save", help="write the page's HTML to this file, to look at it")
    args = parser.parse_args()
    env = {"WATCHROSTER_TIMEZONE": ZONE}
    if args.src:
        env["PYTHONPATH"] = args.src
    with throwaway_database("sqlite") as url:
        token = prepare(url)
        with server_process(url, env, workers=1) as base:
            plain, wire, median = measure(base, token, args.loads, args.save)
    verdict = "ok" if plain <= WEIGHT_BUDGET and median <= TIME_BUDGET_MS else "OVER"
    print(f"GET /admin/roster, {SCHEDULES} schedules, 14 days ({args.src or 'this checkout'})")
    print(f"  size {plain / 1024:8.1f} KB plain, {wire / 1024:6.1f} KB gzip")
    print(f"  median {median:7.1f} ms of {args.loads} loads  [{verdict}: 300 KB, 150 ms]")


if __name__ == "__main__":
    main()
