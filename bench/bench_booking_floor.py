"""The ceiling for any booking on this machine, next to the real booking, in one server.

Issue #14 asks PostgreSQL bookings for >= 15 % of `/healthz`. This measures how much of `/healthz`
a POST that does *only* database round trips reaches, through the same app, middleware, body
parsing and thread pool as `POST /bookings` (`bench/floor_server.py`: `SELECT 1` with 1, 3 and 8
round trips), and the real booking, against one server started with serve's default workers:

1. `GET /healthz`;
2. `POST /floor/autocommit-1`, `/floor/transaction-1`, `/floor/transaction-6`;
3. `POST /bookings` on a one-seat schedule (as `bench_booking`, database checked afterwards).

Every request carries a booking's body and bearer token. A booking does at least what the floor
with as many round trips does, so a floor under the target means no booking with that many round
trips can meet it here, whatever its SQL.

    uv run python -m bench.bench_booking_floor [--runs 3] [--duration 10] [--databases postgresql]

Needs `wrk` and, for PostgreSQL, a server at --pg-url (as bench_booking).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.bench_booking import (
    WARM_UP_OFFSET,
    Result,
    add_load_options,
    check_database,
    clear_bookings,
    first_slot,
    median_of,
    run_wrk,
    seed,
    server_env,
    to_result,
    warm_up_options,
    write_scripts,
)
from bench.common import cpu_seconds_by_program, server_process, throwaway_database

FLOORS = ("autocommit-1", "transaction-1", "transaction-6")
ROUND_TRIPS = {"autocommit-1": 1, "transaction-1": 3, "transaction-6": 8, "bookings": 8}
HEALTHZ = "GET /healthz"
BOOKING = "POST /bookings"


def write_floor_scripts(workdir: Path) -> None:
    """The one-seat booking script, aimed at each floor route (same bodies, same tokens)."""
    booking = (workdir / "booking-1.lua").read_text()
    for floor in FLOORS:
        aimed = booking.replace('"/bookings"', f'"/floor/{floor}"')
        assert aimed != booking, "the booking script no longer names /bookings"
        (workdir / f"floor-{floor}.lua").write_text(aimed)


@dataclass(frozen=True)
class Cost:
    """CPU per request during one wrk run (ms): the server's processes and PostgreSQL's. (wrk
    has exited before its share could be read, and this machine's other load is noise.)"""

    python_ms: float
    postgres_ms: float


def measured(
    args: argparse.Namespace, name: str, endpoint: str, url: str, script: Path, *extra: str
) -> tuple[Result, Cost]:
    before = cpu_seconds_by_program()
    result = to_result(name, "default", endpoint, run_wrk(args, url, script, *extra))
    after = cpu_seconds_by_program()
    per_request = {k: 1000 * (after[k] - before[k]) / max(result.requests, 1) for k in after}
    cost = Cost(per_request["python"], per_request["postgres"])
    return result, cost


def bench_once(
    args: argparse.Namespace, name: str, url: str, workdir: Path
) -> list[tuple[Result, Cost]]:
    base = first_slot()
    warm = warm_up_options(args)
    with server_process(url, server_env(args), entry=("bench.floor_server",)) as base_url:
        run_wrk(warm, f"{base_url}/healthz", workdir / "healthz.lua")
        for floor in FLOORS:  # every pooled connection opened and its statements prepared
            run_wrk(warm, base_url, workdir / f"floor-{floor}.lua", str(base))
        run_wrk(warm, base_url, workdir / "booking-1.lua", str(base + WARM_UP_OFFSET))
        time.sleep(2)
        clear_bookings(url)
        runs = [measured(args, name, HEALTHZ, f"{base_url}/healthz", workdir / "healthz.lua")]
        for floor in FLOORS:
            script = workdir / f"floor-{floor}.lua"
            runs.append(measured(args, name, f"POST /floor/{floor}", base_url, script, str(base)))
        booking, cost = measured(
            args, name, BOOKING, base_url, workdir / "booking-1.lua", str(base)
        )
        print(f"    {check_database(url, booking.requests - booking.errors, args.connections, 1)}")
        clear_bookings(url)
        runs.append((booking, cost))
    for result, cost in runs:
        print(
            f"    {result.endpoint:<28} {result.rate:>7.0f} req/s, p99 {result.p99_ms:.1f} ms, "
            f"CPU per request: server {cost.python_ms:.2f} ms, PostgreSQL "
            f"{cost.postgres_ms:.2f} ms"
        )
    return runs


def report(runs: list[tuple[Result, Cost]]) -> None:
    for database in dict.fromkeys(result.database for result, _cost in runs):
        mine = [(result, cost) for result, cost in runs if result.database == database]
        endpoints = list(dict.fromkeys(result.endpoint for result, _cost in mine))
        health = median_of([r for r, _c in mine if r.endpoint == HEALTHZ]).rate
        print(f"\n{database}, serve's default workers, medians of {len(mine) // len(endpoints)}:")
        print(
            f"{'endpoint':<26} {'trips':>5} {'req/s':>6} {'of /healthz':>11} {'p99 ms':>7} "
            f"{'errors':>6} {'server ms':>9} {'PG ms':>6}  runs (req/s)"
        )
        for endpoint in endpoints:
            these = [(r, c) for r, c in mine if r.endpoint == endpoint]
            median = median_of([r for r, _c in these])
            server = statistics.median(c.python_ms for _r, c in these)
            postgres = statistics.median(c.postgres_ms for _r, c in these)
            rates = " / ".join(f"{r.rate:.0f}" for r, _c in these)
            trips = ROUND_TRIPS.get(endpoint.rsplit("/", 1)[-1], "")
            share = f"{100 * median.rate / health:.1f} %"
            print(
                f"{endpoint:<26} {trips!s:>5} {median.rate:>6.0f} {share:>11} "
                f"{median.p99_ms:>7.1f} {median.errors:>6} {server:>9.2f} {postgres:>6.2f}  {rates}"
            )
    print("\nserver ms / PG ms: CPU time per request of the server's processes and of PostgreSQL.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_options(parser, databases="postgresql")
    parser.add_argument("--runs", type=int, default=3, help="repeat; medians reported")
    args = parser.parse_args()
    shutil.which("wrk") or parser.error("needs wrk: apt-get install -y wrk")
    runs: list[tuple[Result, Cost]] = []
    for name in args.databases.split(","):
        with throwaway_database(name, args.pg_url) as url:
            workdir = Path(tempfile.mkdtemp(prefix=f"bench-floor-{name}-"))
            schedule_ids, tokens = seed(url, [1], history=args.history)
            write_scripts(workdir, schedule_ids, tokens, args.threads)
            write_floor_scripts(workdir)
            for run in range(1, args.runs + 1):
                print(f"  {name}, run {run}:")
                runs += bench_once(args, name, url, workdir)
            shutil.rmtree(workdir, ignore_errors=True)
    report(runs)


if __name__ == "__main__":
    main()
