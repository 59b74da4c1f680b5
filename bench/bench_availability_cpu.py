"""CPU time per GET /shifts/available answer, in-process: a figure a loaded machine does not blur.

    uv run python -m bench.bench_availability_cpu [--db sqlite|postgresql] [--case wide|history]
                                                  [--requests 100] [--rounds 9]

Builds the databases of `bench_availability` (wide: 500 schedules with 0 and with 5,000 bookings
in the window; history: 50 schedules with 1,000 and 100,000 past bookings), then runs the
service function behind the endpoint (`availability.open_slots_json`, 30-day window, limit 1000)
`--requests` times per round on each database in turn, measuring `time.process_time()`. Rounds
alternate between the databases so that other load hits both alike; it prints the median and
the lowest CPU per request of each, and the ratio of the two medians (issue #14 §2: the
5,000-booking figure within 20 % of the 0-booking one). HTTP and JSON framing are not included:
`bench_availability` measures the whole server with wrk.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bench.bench_availability import ZONE, fill
from bench.common import throwaway_database
from watchroster.db.engine import Database
from watchroster.schedules import availability
from watchroster.schedules.slot_cache import SlotCache

# (past bookings, bookings in the window, copies of the 50-schedule mix)
CASES = {
    "wide": [(0, 0, 10), (0, 5_000, 10)],
    "history": [(1_000, 300, 1), (100_000, 300, 1)],
}


def _query() -> availability.SlotQuery:
    zone = ZoneInfo(ZONE)
    today = datetime.now(UTC).astimezone(zone).date()
    start = datetime.combine(today + timedelta(days=1), datetime.min.time(), zone)
    return availability.SlotQuery(start, start + timedelta(days=29), 1000)


def _requester(db: Database, query: availability.SlotQuery) -> Callable[[], str]:
    cache = SlotCache()

    def one() -> str:
        with db.read() as session:
            return availability.open_slots_json(session, query, datetime.now(UTC), cache)

    return one


def measure(kind: str, case: str, requests: int, rounds: int) -> None:
    query = _query()
    with contextlib.ExitStack() as stack:
        labels, runs = [], []
        for past, in_window, copies in CASES[case]:
            url = stack.enter_context(throwaway_database(kind))
            fill(url, past, in_window, copies)
            db = Database(url)
            stack.callback(db.dispose)
            one = _requester(db, query)
            for _ in range(30):  # fills the slot cache, as a running server has
                one()
            labels.append(f"{50 * copies} schedules, {past:,} past, {in_window:,} in window")
            runs.append(one)
        times: list[list[float]] = [[] for _ in runs]
        for _ in range(rounds):
            for one, spent in zip(runs, times, strict=True):
                started = time.process_time()
                for _ in range(requests):
                    one()
                spent.append((time.process_time() - started) / requests * 1000)
    for label, spent in zip(labels, times, strict=True):
        print(
            f"{kind}: {label:<40} CPU {statistics.median(spent):6.3f} ms/request"
            f" (lowest {min(spent):.3f})"
        )
    ratio = statistics.median(times[0]) / statistics.median(times[1])
    print(f"{kind}: {case} second/first throughput (ratio of CPU medians) {ratio:.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--case", choices=["wide", "history"], default="wide")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    measure(args.db, args.case, args.requests, args.rounds)


if __name__ == "__main__":
    main()
