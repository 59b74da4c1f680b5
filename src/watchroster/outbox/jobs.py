"""Periodic jobs run by the worker loop. Each run of a job happens once across all workers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from watchroster.http import metrics
from watchroster.outbox.models import JobRun
from watchroster.runtime.context import AppContext

log = logging.getLogger("watchroster.jobs")


@dataclass(frozen=True)
class PeriodicJob:
    """`run_key(context, now)` names the run `now` belongs to (e.g. "2025-05-01T10:05" for a
    per-minute job, or a local date for a daily one), or None when no run is due. A run key is
    claimed once in `job_runs`; `run(context, now)` then does the work in its own transactions."""

    name: str
    run_key: Callable[[AppContext, datetime], str | None]
    run: Callable[[AppContext, datetime], None]


def hourly(_context: AppContext, now: datetime) -> str:
    """The run key of a job that runs once an hour (e.g. "2025-05-01T10")."""
    return now.strftime("%Y-%m-%dT%H")


# The jobs a runner runs unless it is given its own. The entry point (`cli.py`) hands them over
# with `install_jobs`: the features that define jobs import the outbox, so the outbox must not
# import them.
_installed: list[PeriodicJob] = []


def install_jobs(jobs: Iterable[PeriodicJob]) -> None:
    """Make `jobs` the ones every `JobRunner` created without `jobs=` runs."""
    _installed[:] = jobs


class JobRunner:
    """Runs each due job run once across all workers: the first to insert its `JobRun` row
    (unique on job name and run key) runs it; the others get an IntegrityError and skip it.

    A run that raises keeps `finished_at` NULL and is not retried under the same key (nor is one
    whose worker died): jobs are expected to be keyed finely enough that the next key retries,
    and to queue messages with dedupe keys so a repeated run sends nothing twice."""

    def __init__(
        self,
        context: AppContext,
        *,
        worker_id: str,
        jobs: Sequence[PeriodicJob] | None = None,
    ) -> None:
        self.context = context
        self.worker_id = worker_id
        self._jobs = jobs
        # The last key seen per job, so an idle loop does not try an insert every poll.
        self._last_key: dict[str, str] = {}

    @property
    def jobs(self) -> Sequence[PeriodicJob]:
        return tuple(_installed) if self._jobs is None else self._jobs

    def run_due(self) -> list[tuple[str, str]]:
        """Run every job whose current run is due and unclaimed; returns the (name, key) runs
        that completed here."""
        now = self.context.clock()
        ran: list[tuple[str, str]] = []
        for job in self.jobs:
            key = job.run_key(self.context, now)
            if key is None or self._last_key.get(job.name) == key:
                continue
            self._last_key[job.name] = key
            run_id = self._claim(job.name, key, now)
            if run_id is None:
                continue
            if self._run(job, key, run_id, now):
                ran.append((job.name, key))
        return ran

    def _claim(self, name: str, key: str, now: datetime) -> int | None:
        try:
            with self.context.db.write() as session:
                row = JobRun(job_name=name, run_key=key, worker=self.worker_id, started_at=now)
                session.add(row)
                session.flush()
                return row.job_run_id
        except IntegrityError:
            return None  # another worker has (or had) this run

    def _run(self, job: PeriodicJob, key: str, run_id: int, now: datetime) -> bool:
        try:
            job.run(self.context, now)
        except Exception:
            log.exception("job %s run %s failed", job.name, key)
            metrics.JOB_RUNS.labels(job.name, "failed").inc()
            return False
        with self.context.db.write() as session:
            session.execute(
                update(JobRun)
                .where(JobRun.job_run_id == run_id)
                .values(finished_at=self.context.clock())
                .execution_options(synchronize_session=False)
            )
        metrics.JOB_RUNS.labels(job.name, "ok").inc()
        return True
