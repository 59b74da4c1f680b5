"""Periodic housekeeping of calls for volunteers."""

from __future__ import annotations

import logging
from datetime import datetime

from watchroster.calls.service import prune_counts
from watchroster.outbox.jobs import PeriodicJob, hourly
from watchroster.runtime.context import AppContext

log = logging.getLogger("watchroster.calls")

PRUNE_JOB = "prune_call_counts"


def run_prune(context: AppContext, now: datetime) -> None:
    today = now.astimezone(context.settings.zone).date()
    with context.db.write() as session:
        removed = prune_counts(session, today)
    if removed:
        log.info("pruned %d per-day call counts of past days", removed)


# Hourly, like the other prunes: a count row is useless once its day is over.
CALL_JOBS = [PeriodicJob(name=PRUNE_JOB, run_key=hourly, run=run_prune)]
