"""One round of the worker loop, in-process: dispatch, then the periodic jobs get their turn."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.integration.outbox.support import FakeProvider, queue
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox import worker as worker_module
from watchroster.outbox.jobs import JobRunner, PeriodicJob
from watchroster.outbox.providers import ProviderSet
from watchroster.outbox.worker import Worker
from watchroster.runtime.context import AppContext


def make_worker(
    db: Database, settings: Settings, clock: FrozenClock, provider: FakeProvider, ran: list[str]
) -> Worker:
    context = AppContext(settings, db, clock)
    job = PeriodicJob("probe", lambda _c, now: now.isoformat(), lambda _c, _now: ran.append("job"))
    return Worker(
        context,
        providers=ProviderSet(primary=provider),
        job_runner=JobRunner(context, worker_id="w", jobs=[job]),
    )


def test_round_dispatches_until_idle_then_runs_jobs(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    ids = queue(db, clock(), 5)
    provider, ran = FakeProvider(), list[str]()
    worker = make_worker(
        db, settings.model_copy(update={"outbox_batch_size": 2}), clock, provider, ran
    )

    assert worker.run_once()

    assert provider.sent_ids() == ids and ran == ["job"]
    assert not worker.wake.is_set(), "idle: the loop should wait for the poll"


def test_a_steady_stream_does_not_starve_the_jobs(
    db: Database, settings: Settings, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker_module, "_ROUND_SECONDS", 0.0)
    ids = queue(db, clock(), 3)
    provider, ran = FakeProvider(), list[str]()
    worker = make_worker(
        db, settings.model_copy(update={"outbox_batch_size": 1}), clock, provider, ran
    )

    assert worker.run_once()

    assert provider.sent_ids() == ids[:1] and ran == ["job"]
    assert worker.wake.is_set(), "more is due: the loop should not wait for the poll"


def test_a_failing_round_is_contained(db: Database, settings: Settings, clock: FrozenClock) -> None:
    def broken_key(_context: AppContext, _now: datetime) -> str:
        raise RuntimeError("job bug in run_key")

    context = AppContext(settings, db, clock)
    worker = Worker(
        context,
        providers=ProviderSet(primary=FakeProvider()),
        job_runner=JobRunner(
            context, worker_id="w", jobs=[PeriodicJob("bad", broken_key, lambda _c, _n: None)]
        ),
    )

    assert worker.run_once() is False
