"""Booking races against `watchroster serve --workers 2`: two HTTP processes (and the worker
process) on one database (SQLite and PostgreSQL).

On SQLite the writers of both processes take turns on the cross-process flock (`writelock`); on
PostgreSQL row locks and unique indexes decide. Either way a slot goes to exactly one client.
The server is a real subprocess on the real clock, so the slots lie in the coming days, and the
volunteers' tokens are issued at the real now. That both HTTP processes answered bookings is read
from their prometheus-client files (`counter_<pid>.db`, one per process in multiprocess mode).
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict
from sqlalchemy import func, select

from tests.integration.bookings.races import members, race, scalar
from tests.integration.ops.processes import ServeProcess, watchroster_env
from tests.support.factories import add_schedule
from watchroster.bookings.models import Booking
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.models import OutboxMessage

ZONE = ZoneInfo("Africa/Johannesburg")  # the `add_schedule` default, UTC+2 all year
DAILY = "0 18 * * *"
COUNTED_DEADLINE = 10.0  # seconds for the HTTP processes to count responses already sent
CONFIRMATIONS = select(func.count()).where(OutboxMessage.message_type == "booking_confirmed")

pytestmark = pytest.mark.slow


def future_evenings(count: int) -> list[str]:
    """18:00 local on each of the `count` days after today: all ahead of the real clock."""
    today = datetime.now(ZONE).date()
    days = [today + timedelta(days=offset) for offset in range(1, count + 1)]
    return [f"{day.isoformat()}T18:00:00+02:00" for day in days]


@dataclass
class MultiServer:
    url: str
    supervisor_pid: int
    metrics_dir: Path
    process: ServeProcess


Volunteers = Callable[[int], list[str]]


@pytest.fixture
def volunteers(db: Database, settings: Settings) -> Volunteers:
    """`volunteers(n)`: n members with session tokens issued now (the server's clock is real)."""
    clock = FrozenClock(datetime.now(UTC))
    return lambda count: members(db, settings, clock, count)


@pytest.fixture
def server(db: Database, settings: Settings, tmp_path: Path) -> Iterator[MultiServer]:
    """`serve --workers 2` on this test's database, hashing tokens with `settings`' key."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {
        **watchroster_env(
            secret_key=settings.secret_key.get_secret_value(),
            message_backend="file",
            message_file=str(tmp_path / "messages.jsonl"),
        ),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    with ServeProcess(db.url, tmp_path, "--workers", "2", env=env) as process:
        yield MultiServer(process.url, process.process.pid, metrics_dir, process)
    # After the stop, so the log is complete: the flock, not the busy timeout, queued writers.
    assert "database is locked" not in process.log()
    assert "Traceback" not in process.log(), process.log()


def bookings_answered_by_process(metrics_dir: Path) -> Counter[int]:
    """POST /bookings responses counted by each process (pid), read from its counter file."""
    answered: Counter[int] = Counter()
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        values = MmapedDict.read_all_values_from_file(str(path))  # type: ignore[no-untyped-call]
        for key, value, _timestamp, _position in values:
            _metric, sample, labels, _help = json.loads(key)
            if sample == "watchroster_http_requests_total" and labels["route"] == "/bookings":
                answered[pid] += int(value) if labels["method"] == "POST" else 0
    return answered


def assert_both_http_processes_answered(server: MultiServer, requests: int) -> None:
    """Every booking was counted, by exactly two processes, neither the supervisor. The count
    is made just after the response is sent, so it may trail the client by a moment."""
    deadline = time.monotonic() + COUNTED_DEADLINE
    answered = bookings_answered_by_process(server.metrics_dir)
    while answered.total() < requests and time.monotonic() < deadline:
        time.sleep(0.02)
        answered = bookings_answered_by_process(server.metrics_dir)
    assert answered.total() == requests, answered
    serving = {pid for pid, count in answered.items() if count}
    # A third pid would be an HTTP process that died and was started again.
    assert len(serving) == 2, answered
    assert server.supervisor_pid not in serving


def assert_refused_as_taken(responses: list[httpx.Response]) -> None:
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"slot_taken"}


def test_fifty_clients_race_for_one_slot_across_two_processes(
    db: Database, volunteers: Volunteers, server: MultiServer
) -> None:
    schedule = add_schedule(db, cron_expr=DAILY)
    body = {"schedule_id": schedule.schedule_id, "start_time": future_evenings(1)[0]}
    responses = race(server.url, [(token, body) for token in volunteers(50)])
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 409: 49}, [r.text for r in responses if r.status_code >= 500]
    assert_refused_as_taken(responses)
    assert scalar(db, select(func.count()).select_from(Booking)) == 1
    assert scalar(db, CONFIRMATIONS) == 1
    assert_both_http_processes_answered(server, 50)


def test_two_hundred_clients_on_twenty_slots_across_two_processes(
    db: Database, volunteers: Volunteers, server: MultiServer
) -> None:
    schedule = add_schedule(db, cron_expr=DAILY)
    evenings = future_evenings(20)
    chooser = random.Random(20261130)  # seeded: a failure reruns the same race
    picks = [chooser.choice(evenings) for _ in range(200)]
    bodies = [
        (token, {"schedule_id": schedule.schedule_id, "start_time": start})
        for token, start in zip(volunteers(200), picks, strict=True)
    ]
    responses = race(server.url, bodies)
    statuses = Counter(response.status_code for response in responses)
    assert set(statuses) <= {201, 409}, statuses
    assert_refused_as_taken(responses)
    chosen = {datetime.fromisoformat(start) for start in picks}
    with db.read() as session:
        owners = session.execute(
            select(Booking.shift_start, func.count()).group_by(Booking.shift_start)
        ).all()
    assert {start for start, _ in owners} == chosen
    assert all(count == 1 for _, count in owners)
    assert statuses[201] == len(chosen)
    assert scalar(db, CONFIRMATIONS) == statuses[201]
    assert_both_http_processes_answered(server, 200)


def test_thirty_clients_race_for_a_three_seat_slot_across_two_processes(
    db: Database, volunteers: Volunteers, server: MultiServer
) -> None:
    schedule = add_schedule(db, cron_expr=DAILY, seats=3)
    body = {"schedule_id": schedule.schedule_id, "start_time": future_evenings(1)[0]}
    responses = race(server.url, [(token, body) for token in volunteers(30)])
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 3, 409: 27}, statuses
    assert_refused_as_taken(responses)
    assert sorted(r.json()["seat"] for r in responses if r.status_code == 201) == [1, 2, 3]
    with db.read() as session:
        rows = session.execute(select(Booking.seat, Booking.user_id)).all()
    assert sorted(seat for seat, _ in rows) == [1, 2, 3]
    assert len({user for _, user in rows}) == 3
    assert scalar(db, CONFIRMATIONS) == 3
    assert_both_http_processes_answered(server, 30)
