"""The hourly job that prunes old login events (they hold phone numbers and client IPs)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from watchroster.auth.jobs import PRUNE_JOB
from watchroster.auth.models import AuthEvent
from watchroster.cli.periodic import periodic_jobs
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.jobs import JobRunner
from watchroster.runtime.context import AppContext


def test_old_login_events_are_pruned_once_an_hour(
    settings: Settings, db: Database, clock: FrozenClock
) -> None:
    now = clock()
    with db.write() as session:
        for age in (timedelta(days=2), timedelta(hours=25), timedelta(minutes=30)):
            session.add(AuthEvent(kind="verify", client_ip="192.0.2.1", created_at=now - age))
    [prune] = [job for job in periodic_jobs() if job.name == PRUNE_JOB]
    runner = JobRunner(AppContext(settings, db, clock), worker_id="w", jobs=[prune])

    runner.run_due()
    with db.read() as session:
        left = session.scalars(select(AuthEvent.created_at)).all()
    assert left == [now - timedelta(minutes=30)]  # only what the hourly limits still count

    with db.write() as session:  # an old event written later in the same hour stays until the next
        session.add(
            AuthEvent(kind="verify", client_ip="192.0.2.1", created_at=now - timedelta(days=3))
        )
    runner.run_due()
    with db.read() as session:
        assert len(session.scalars(select(AuthEvent)).all()) == 2
    clock.advance(hours=1)
    runner.run_due()
    with db.read() as session:
        assert len(session.scalars(select(AuthEvent)).all()) == 1
