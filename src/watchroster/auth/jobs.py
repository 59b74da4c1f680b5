"""Periodic housekeeping of the login feature."""

from __future__ import annotations

import logging
from datetime import datetime

from watchroster.auth.ratelimit import prune_events
from watchroster.outbox.jobs import PeriodicJob, hourly
from watchroster.runtime.context import AppContext

log = logging.getLogger("watchroster.auth")

PRUNE_JOB = "prune_auth_events"


def run_prune(context: AppContext, now: datetime) -> None:
    with context.db.write() as session:
        removed = prune_events(session, now)
    if removed:
        log.info("pruned %d old login events", removed)


# Hourly: the events hold phone numbers and client IPs, kept only as long as limits need.
AUTH_JOBS = [PeriodicJob(name=PRUNE_JOB, run_key=hourly, run=run_prune)]
