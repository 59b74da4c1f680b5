"""Outbox figures: commit-to-send latency of the embedded worker, and dispatcher throughput.

Run by hand from the project root: `uv run python -m bench.bench_outbox` (`--quick` for a short
run, `--skip-postgres` without PostgreSQL). Every run uses throwaway databases.

* Latency: the worker `watchroster serve` embeds (`start_embedded`, a thread woken by each commit)
  with the `file` backend; messages are committed at a steady rate and each one's latency is the
  file's `sent_at` minus the wall-clock time just before its write transaction began (so the
  commit itself is included). Also measured with the commit hook removed, which is what a
  message committed by another process sees: only the poll (`outbox_poll_seconds` = 1 s).
* Latency through `watchroster serve --workers 2` (issue #14 §1): the commits happen in the HTTP
  processes (POST /bookings, whose confirmation wakes the dispatcher, one volunteer per request,
  over fresh connections so both processes take part; login codes never wake it, see
  `auth.service`) and the dispatcher runs in the worker process, woken through the
  `ProcessBell`; each latency is `sent_at` minus the time just before the request was sent.
* Throughput: a no-op provider, N messages queued up front, dispatchers run until idle: one on
  SQLite, then 1 and 3 processes on PostgreSQL (messages/s of wall time).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.bench_booking import SECRET_KEY, bench_phone, seed
from bench.common import server_process, throwaway_database
from watchroster.core.clock import system_clock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox import wakeup
from watchroster.outbox.dispatcher import Dispatcher
from watchroster.outbox.models import STATUS_SENT, OutboxMessage
from watchroster.outbox.providers import CHANNEL_SMS, OutgoingMessage, ProviderSet
from watchroster.outbox.service import queue_message
from watchroster.outbox.worker import start_embedded
from watchroster.runtime.context import AppContext

RECIPIENT = "+27821234567"


class NoopProvider:
    name = "noop"
    channel = CHANNEL_SMS

    def send(self, message: OutgoingMessage) -> str | None:
        return None

    def close(self) -> None:
        return None


def settings_for(url: str, message_file: Path, **overrides: Any) -> Settings:
    return Settings(
        _env_file=None,
        database_url=url,
        message_backend="file",
        message_file=message_file,
        **overrides,
    )


# --- latency ---------------------------------------------------------------------------------


def measure_latency(kind: str, *, rate: float, seconds: float, hooked: bool) -> list[float]:
    """Seconds from commit to send for messages committed at `rate` per second."""
    with throwaway_database(kind) as url, tempfile.TemporaryDirectory() as directory:
        message_file = Path(directory) / "messages.jsonl"
        db = Database(url)
        stop = start_embedded(AppContext(settings_for(url, message_file), db))
        if not hooked:
            for listener in wakeup.listeners():
                wakeup.stop_listening(listener)
        time.sleep(0.5)  # let the worker finish its first round and start waiting
        try:
            committed = commit_steadily(db, rate=rate, count=int(rate * seconds))
            sent = wait_for_sends(message_file, set(committed), timeout=15)
        finally:
            stop()
            db.dispose()
    return [(sent[outbox_id] - at).total_seconds() for outbox_id, at in committed.items()]


def commit_steadily(db: Database, *, rate: float, count: int) -> dict[int, datetime]:
    committed: dict[int, datetime] = {}
    next_at = time.monotonic()
    for index in range(count):
        time.sleep(max(0.0, next_at - time.monotonic()))
        before = datetime.now(UTC)
        with db.write() as session:
            outbox_id = queue_message(
                session,
                message_type="bench",
                recipient=RECIPIENT,
                body=f"latency probe {index}",
                now=system_clock(),
            )
        assert outbox_id is not None
        committed[outbox_id] = before
        next_at += 1 / rate
    return committed


def wait_for_sends(path: Path, ids: set[int], timeout: float) -> dict[int, datetime]:
    deadline = time.monotonic() + timeout
    while True:
        sent = read_sends(path)
        if ids <= sent.keys():
            return sent
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(ids - sent.keys())} message(s) not sent in {timeout} s")
        time.sleep(0.05)


def read_sends(path: Path) -> dict[int, datetime]:
    if not path.exists():
        return {}
    sends: dict[int, datetime] = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        sends[int(record["outbox_id"])] = datetime.fromisoformat(record["sent_at"])
    return sends


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def latency_line(label: str, latencies: list[float]) -> str:
    return (
        f"{label:<52} p50 {percentile(latencies, 0.5) * 1000:7.1f} ms  "
        f"p95 {percentile(latencies, 0.95) * 1000:7.1f} ms  "
        f"max {max(latencies) * 1000:7.1f} ms  (n={len(latencies)})"
    )


def measure_serve_latency(kind: str, *, rate: float, seconds: float, workers: int) -> list[float]:
    """Seconds from request to send, through a real `serve --workers N` (see the docstring)."""
    count = int(rate * seconds)
    with throwaway_database(kind) as url, tempfile.TemporaryDirectory() as directory:
        message_file = Path(directory) / "messages.jsonl"
        schedule_ids, tokens = seed(url, [1], users=count)
        env = {
            "WATCHROSTER_SECRET_KEY": SECRET_KEY,
            "WATCHROSTER_MESSAGE_BACKEND": "file",
            "WATCHROSTER_MESSAGE_FILE": str(message_file),
        }
        with server_process(url, env, worker=True, workers=workers) as base_url:
            time.sleep(0.5)  # the worker process's first round is over: it waits on its poll
            asked = book_steadily(base_url, schedule_ids[1], tokens, rate=rate)
            sent = wait_for_recipients(message_file, set(asked), timeout=15)
    return [(sent[phone] - at).total_seconds() for phone, at in asked.items()]


def book_steadily(
    base_url: str, schedule_id: int, tokens: list[str], *, rate: float
) -> dict[str, datetime]:
    """One booking per token (each its own volunteer and minute) at `rate` per second:
    {the volunteer's number: when the request was sent}. Each confirmation wakes the worker."""
    asked: dict[str, datetime] = {}
    first_slot = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    next_at = time.monotonic()
    for index, token in enumerate(tokens):
        time.sleep(max(0.0, next_at - time.monotonic()))
        body = {
            "schedule_id": schedule_id,
            "start_time": (first_slot + timedelta(minutes=index)).isoformat(),
        }
        before = datetime.now(UTC)
        # A new connection each time, so the kernel spreads them over the HTTP processes.
        response = httpx.post(
            f"{base_url}/bookings",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        response.raise_for_status()
        asked[bench_phone(index)] = before
        next_at += 1 / rate
    return asked


def wait_for_recipients(path: Path, phones: set[str], timeout: float) -> dict[str, datetime]:
    deadline = time.monotonic() + timeout
    while True:
        sent = {}
        if path.exists():
            for line in path.read_text().splitlines():
                record = json.loads(line)
                sent[record["recipient"]] = datetime.fromisoformat(record["sent_at"])
        if phones <= sent.keys():
            return sent
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(phones - sent.keys())} message(s) not sent in {timeout} s")
        time.sleep(0.05)


# --- throughput ------------------------------------------------------------------------------


def fill(db: Database, count: int) -> None:
    now = system_clock()
    for start in range(0, count, 1000):
        with db.write() as session:
            for index in range(start, min(start + 1000, count)):
                queue_message(
                    session,
                    message_type="bench",
                    recipient=RECIPIENT,
                    body=f"throughput {index}",
                    now=now,
                )


def sent_count(db: Database) -> int:
    with db.read() as session:
        query = select(func.count()).where(OutboxMessage.status == STATUS_SENT)
        return int(session.scalar(query) or 0)


def make_dispatcher(url: str, batch_size: int) -> tuple[Database, Dispatcher]:
    db = Database(url)
    settings = settings_for(url, Path("unused.jsonl"), outbox_batch_size=batch_size)
    return db, Dispatcher(db, settings, ProviderSet(primary=NoopProvider()))


def sqlite_throughput(count: int, batch_size: int) -> float:
    with throwaway_database("sqlite") as url:
        db, dispatcher = make_dispatcher(url, batch_size)
        fill(db, count)
        started = time.perf_counter()
        dispatcher.run_until_idle()
        elapsed = time.perf_counter() - started
        assert sent_count(db) == count
        db.dispose()
    return count / elapsed


def _dispatch_process(url: str, batch_size: int, ready: Any, go: Event, results: Any) -> None:
    db, dispatcher = make_dispatcher(url, batch_size)
    sent_count(db)  # connect before the clock starts
    ready.put(True)
    go.wait()
    handled = dispatcher.run_until_idle()
    results.put((handled, time.perf_counter()))
    db.dispose()


def postgres_throughput(count: int, batch_size: int, processes: int) -> tuple[float, list[int]]:
    """Messages/s of wall time for `processes` dispatcher processes sharing the queue."""
    spawn = multiprocessing.get_context("spawn")
    with throwaway_database("postgresql") as url:
        db = Database(url)
        fill(db, count)
        ready, go, results = spawn.Queue(), spawn.Event(), spawn.Queue()
        workers = [
            spawn.Process(target=_dispatch_process, args=(url, batch_size, ready, go, results))
            for _ in range(processes)
        ]
        for worker in workers:
            worker.start()
        for _ in workers:  # every process imported and connected: start the clock
            ready.get(timeout=120)
        started = time.perf_counter()
        go.set()
        finished = [results.get(timeout=300) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        assert sent_count(db) == count, "not every message was sent"
        db.dispose()
    elapsed = max(end for _, end in finished) - started
    return count / elapsed, [handled for handled, _ in finished]


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer messages, shorter runs")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    kinds = ["sqlite"] if args.skip_postgres else ["sqlite", "postgresql"]
    seconds = 5.0 if args.quick else 15.0
    messages = 5_000 if args.quick else 20_000

    print("commit-to-send latency, embedded worker, file backend, 20 messages/s:")
    for kind in kinds:
        latencies = measure_latency(kind, rate=20, seconds=seconds, hooked=True)
        print(latency_line(f"  {kind}, woken by the commit", latencies))
    for kind in kinds:
        latencies = measure_latency(kind, rate=5, seconds=seconds, hooked=False)
        print(latency_line(f"  {kind}, poll only (commit from another process)", latencies))

    print("\ncommit-to-send latency through `serve --workers 2`, 20 bookings/s:")
    for kind in kinds:
        latencies = measure_serve_latency(kind, rate=20, seconds=seconds, workers=2)
        print(latency_line(f"  {kind}, HTTP process → worker process", latencies))

    print(f"\ndispatcher throughput, no-op provider, {messages} messages:")
    for batch_size in (20, 100):
        rate = sqlite_throughput(messages, batch_size)
        print(f"  sqlite, 1 worker, batch {batch_size:<3}          {rate:8.0f} messages/s")
    if not args.skip_postgres:
        for batch_size in (20, 100):
            for processes in (1, 3):
                rate, split = postgres_throughput(messages, batch_size, processes)
                print(
                    f"  postgresql, {processes} worker(s), batch {batch_size:<3}  {rate:8.0f} "
                    f"messages/s  (per worker: {', '.join(map(str, split))})"
                )


if __name__ == "__main__":
    main()
