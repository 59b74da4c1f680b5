"""Benchmark the recurrence engine against cronsim.

Run by hand: `.venv/bin/python bench/bench_recurrence.py`. Prints occurrences per second for a
realistic mix of patrol-shift expressions expanded over one year, ours vs iterating cronsim
directly, and the time to expand 50 schedules over a 30-day window (as an open-slots request
without a limit would).
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from cronsim import CronSim

from watchroster.schedules.recurrence import ScheduleRule, occurrences

EXPRESSIONS = (
    "0 18 * * 1-5",
    "0 18-23 * * *",
    "*/30 * * * 0,6",
    "0 18 * * FRI",
    "30 6,18 * * *",
    "0 22 * * SAT,SUN",
    "0 */4 * * *",
    "0 19 1 * *",
)
ZONES = ("Europe/London", "Africa/Johannesburg", "America/New_York")
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2026, 1, 1, tzinfo=UTC)


def best_time(run: Callable[[], int], min_seconds: float = 0.3) -> tuple[float, int]:
    """Best wall time of one call to `run` and its count, over at least 3 calls and
    min_seconds (the best run is the one least disturbed by other processes)."""
    best, count, spent, calls = float("inf"), 0, 0.0, 0
    while spent < min_seconds or calls < 3:
        began = time.perf_counter()
        count = run()
        elapsed = time.perf_counter() - began
        best, spent, calls = min(best, elapsed), spent + elapsed, calls + 1
    return best, count


def ours(expr: str, zone: str) -> int:
    rule = ScheduleRule(expr, zone, None, None, 60)
    return sum(1 for _ in occurrences(rule, YEAR_START, YEAR_END))


def with_cronsim(expr: str, zone: str) -> int:
    count = 0
    # cronsim yields times strictly after its start; the window start is inclusive.
    for moment in CronSim(expr, (YEAR_START - timedelta(seconds=1)).astimezone(ZoneInfo(zone))):
        if moment >= YEAR_END:
            break
        count += 1
    return count


def compare_one_year() -> None:
    print(f"one year of occurrences, {len(EXPRESSIONS)} expressions x {len(ZONES)} zones")
    print(f"{'expression':<18} {'zone':<20} {'count':>6} {'ours/s':>12} {'cronsim/s':>12} {'x':>6}")
    totals = [0.0, 0.0, 0]
    for expr in EXPRESSIONS:
        for zone in ZONES:
            ours_s, count = best_time(partial(ours, expr, zone))
            theirs_s, theirs_count = best_time(partial(with_cronsim, expr, zone))
            assert count == theirs_count, (expr, zone, count, theirs_count)
            totals[0] += ours_s
            totals[1] += theirs_s
            totals[2] += count
            print(
                f"{expr:<18} {zone:<20} {count:>6} {count / ours_s:>12,.0f} "
                f"{count / theirs_s:>12,.0f} {theirs_s / ours_s:>6.1f}"
            )
    ours_rate, theirs_rate = totals[2] / totals[0], totals[2] / totals[1]
    print(
        f"{'all':<39} {totals[2]:>6} {ours_rate:>12,.0f} {theirs_rate:>12,.0f} "
        f"{ours_rate / theirs_rate:>6.1f}"
    )


def fifty_schedules() -> list[ScheduleRule]:
    return [
        ScheduleRule(EXPRESSIONS[i % len(EXPRESSIONS)], ZONES[i % len(ZONES)], None, None, 120)
        for i in range(50)
    ]


def expand_fifty_schedules() -> None:
    rules = fifty_schedules()
    start = datetime(2025, 3, 15, tzinfo=UTC)  # the window spans the March DST changes
    end = start + timedelta(days=30)

    def expand_all() -> int:
        return sum(sum(1 for _ in occurrences(rule, start, end)) for rule in rules)

    def merged_first_100() -> int:
        streams = [occurrences(rule, start, end) for rule in rules]
        return sum(1 for _, _ in zip(range(100), heapq.merge(*streams), strict=False))

    seconds, count = best_time(expand_all)
    print(f"\n50 schedules x 30 days: {count} occurrences in {seconds * 1000:.2f} ms")
    seconds, count = best_time(merged_first_100)
    print(f"50 schedules merged, first {count} slots: {seconds * 1000:.2f} ms")


if __name__ == "__main__":
    compare_one_year()
    expand_fifty_schedules()
