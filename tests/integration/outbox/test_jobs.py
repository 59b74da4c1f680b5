"""The job runner: each run of a periodic job happens once, however many workers look at it."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import select

from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.jobs import JobRunner, PeriodicJob
from watchroster.outbox.models import JobRun
from watchroster.runtime.context import AppContext


def per_minute(_context: AppContext, now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M")


def test_each_run_happens_once_across_workers(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    runs: list[tuple[str, datetime]] = []
    lock = threading.Lock()

    def record(_context: AppContext, now: datetime) -> None:
        with lock:
            runs.append((per_minute(_context, now), now))

    job = PeriodicJob("tick", per_minute, record)
    context = AppContext(settings=settings, db=db, clock=clock)
    runners = [JobRunner(context, worker_id=f"w{n}", jobs=[job]) for n in range(4)]

    def round_of_all() -> None:
        threads = [threading.Thread(target=runner.run_due) for runner in runners]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    round_of_all()
    round_of_all()  # same minute: nothing new
    clock.advance(seconds=30)
    round_of_all()  # still the same minute
    clock.advance(seconds=30)
    round_of_all()  # the next minute

    assert [key for key, _ in runs] == ["2025-05-01T08:00", "2025-05-01T08:01"]
    with db.read() as session:
        rows = session.scalars(select(JobRun).order_by(JobRun.job_run_id)).all()
    assert [(r.job_name, r.run_key) for r in rows] == [
        ("tick", "2025-05-01T08:00"),
        ("tick", "2025-05-01T08:01"),
    ]
    assert all(r.finished_at is not None for r in rows)


def test_job_without_a_due_run_is_skipped_and_a_failure_is_contained(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    calls: list[str] = []

    def explode(_context: AppContext, _now: datetime) -> None:
        calls.append("explode")
        raise RuntimeError("job bug")

    def never_due(_context: AppContext, _now: datetime) -> str | None:
        return None

    jobs = [
        PeriodicJob("broken", per_minute, explode),
        PeriodicJob("idle", never_due, lambda _c, _n: calls.append("idle")),
        PeriodicJob("fine", per_minute, lambda _c, _n: calls.append("fine")),
    ]
    runner = JobRunner(AppContext(settings, db, clock), worker_id="w", jobs=jobs)

    ran = runner.run_due()

    assert calls == ["explode", "fine"]
    assert ran == [("fine", "2025-05-01T08:00")]
    with db.read() as session:
        finished = {r.job_name: r.finished_at for r in session.scalars(select(JobRun))}
    assert finished == {"broken": None, "fine": clock()}
