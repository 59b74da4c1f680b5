"""The worker embedded in `serve`: woken by each commit, so messages leave well before the poll."""

from __future__ import annotations

import random
import threading
import time
from functools import partial
from pathlib import Path

from fastapi.testclient import TestClient

from tests.integration.outbox.processes import sends_per_id, wait_for
from tests.integration.outbox.support import queue
from watchroster.app import create_app
from watchroster.core.clock import system_clock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox import wakeup
from watchroster.outbox.worker import start_embedded

POLL_SECONDS = 1.0
# Well under the poll: only the commit hook can deliver this fast, every time.
MAX_LATENCY_SECONDS = 0.3


def was_sent(message_file: Path, outbox_id: int) -> bool:
    return outbox_id in sends_per_id(message_file)


def worker_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "watchroster-worker"]


def test_serve_runs_the_embedded_worker_woken_by_commits(db: Database, settings: Settings) -> None:
    settings = settings.model_copy(update={"outbox_poll_seconds": POLL_SECONDS})
    message_file: Path = settings.message_file
    app = create_app(settings, db=db, background=start_embedded)
    latencies: list[float] = []
    rng = random.Random(3)
    with TestClient(app):
        assert len(worker_threads()) == 1
        time.sleep(0.2)  # let the first round finish: the worker is now waiting on its poll
        for index in range(5):
            committed = time.monotonic()
            [outbox_id] = queue(db, system_clock())
            wait_for(partial(was_sent, message_file, outbox_id), 5, f"message {index}")
            latencies.append(time.monotonic() - committed)
            time.sleep(rng.uniform(0.05, 0.3))
    assert worker_threads() == [], "the worker outlived the app"
    assert wakeup.listeners() == ()
    assert max(latencies) < MAX_LATENCY_SECONDS, latencies


def test_without_the_commit_hook_the_poll_still_delivers(db: Database, settings: Settings) -> None:
    settings = settings.model_copy(update={"outbox_poll_seconds": 0.2})
    app = create_app(settings, db=db, background=start_embedded)
    with TestClient(app):
        for listener in wakeup.listeners():  # as if the message came from another process
            wakeup.stop_listening(listener)
        [outbox_id] = queue(db, system_clock())
        wait_for(lambda: outbox_id in sends_per_id(settings.message_file), 3, "the poll")
