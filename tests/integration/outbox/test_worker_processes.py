"""Real worker processes: SIGKILL and lease takeover, SIGTERM drain, three workers at once."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.integration.outbox.processes import (
    FakeTwilio,
    WorkerProcess,
    sends_per_id,
    sent_lines,
    twilio_settings,
    wait_for,
    worker_env,
    workers,
)
from tests.integration.outbox.support import queue, rows
from tests.support import databases
from watchroster.core.clock import system_clock
from watchroster.db.engine import Database
from watchroster.outbox.models import STATUS_PENDING, STATUS_SENT

pytestmark = pytest.mark.slow

LEASE_SECONDS = 2.0


def all_sent(db: Database, count: int) -> bool:
    states = rows(db)
    return len(states) == count and all(r.status == STATUS_SENT for r in states.values())


def test_sigkilled_worker_messages_are_sent_by_another_after_the_lease(
    db: Database, tmp_path: Path
) -> None:
    ids = queue(db, system_clock(), 3)
    message_file = tmp_path / "messages.jsonl"
    with FakeTwilio(hang=True) as twilio:
        hanging = worker_env(
            db.url,
            outbox_lease_seconds=LEASE_SECONDS,
            provider_timeout_seconds=60,
            **twilio_settings(twilio.url),
        )
        with workers(hanging, tmp_path) as [doomed]:
            wait_for(lambda: len(twilio.requests) >= 1, 20, "the first provider call")
            doomed.process.kill()
            doomed.process.wait(timeout=10)
        held = rows(db)
        assert all(r.status == STATUS_PENDING and r.claimed_by for r in held.values())
        lease_end = max(r.claimed_until for r in held.values() if r.claimed_until)

        rescue = worker_env(
            db.url,
            outbox_lease_seconds=LEASE_SECONDS,
            message_backend="file",
            message_file=message_file,
        )
        with workers(rescue, tmp_path) as [rescuer]:
            wait_for(lambda: all_sent(db, len(ids)), 30, "the rescue:\n" + rescuer.log())

    assert sends_per_id(message_file) == dict.fromkeys(ids, 1)
    for line in sent_lines(message_file):
        assert datetime.fromisoformat(line["sent_at"]) >= lease_end, "sent on a live lease"


def test_sigterm_finishes_the_message_in_hand_releases_the_rest_and_exits_0(
    db: Database, tmp_path: Path
) -> None:
    ids = queue(db, system_clock(), 4)
    with FakeTwilio(delay=1.0) as twilio:
        env = worker_env(db.url, **twilio_settings(twilio.url))
        with workers(env, tmp_path) as [worker]:
            wait_for(lambda: len(twilio.requests) >= 1, 20, "the first provider call")
            worker.process.send_signal(signal.SIGTERM)
            assert worker.process.wait(timeout=20) == 0, worker.log()
            assert "drained" in worker.log()

    states = rows(db)
    assert twilio.requests == ids[:1]
    assert states[ids[0]].status == STATUS_SENT
    for outbox_id in ids[1:]:
        released = states[outbox_id]
        assert (released.status, released.attempts) == (STATUS_PENDING, 0)
        assert released.claimed_until is None and released.claimed_by is None


@pytest.fixture
def postgres_db(postgres_url: str) -> Iterator[Database]:
    database = Database(postgres_url)
    databases.truncate_all(database)
    yield database
    database.dispose()


def test_three_workers_on_postgresql_send_2000_messages_exactly_once(
    postgres_db: Database, tmp_path: Path
) -> None:
    message_file = tmp_path / "messages.jsonl"
    env = worker_env(postgres_db.url, message_backend="file", message_file=message_file)
    with workers(env, tmp_path, count=3) as started:
        for worker in started:
            worker.wait_started()
        ids: list[int] = []
        for _ in range(4):
            ids += queue(postgres_db, system_clock(), 500)
        wait_for(lambda: all_sent(postgres_db, 2000), 90, "2,000 messages to be sent")
        handled = _handled_per_worker(started)

    sends = sends_per_id(message_file)
    assert len(ids) == 2000 and sorted(sends) == sorted(ids)
    assert set(sends.values()) == {1}, "some message was sent more than once"
    assert sum(1 for count in handled if count > 0) >= 2, f"one worker did it all: {handled}"


def _handled_per_worker(started: list[WorkerProcess]) -> list[int]:
    # The last batch's log line may trail the commit that marked it sent by a moment.
    wait_for(lambda: sum(w.handled() for w in started) >= 2000, 10, "workers' log lines")
    return [worker.handled() for worker in started]
