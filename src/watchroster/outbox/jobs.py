"""Periodic jobs run by the worker loop. Each run of a job happens once across all workers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from watchroster.context import AppContext


@dataclass(frozen=True)
class PeriodicJob:
    """`run_key(context, now)` names the run `now` belongs to (e.g. "2025-05-01T10:05" for a
    per-minute job, or a local date for a daily one), or None when no run is due. A run key is
    claimed once in `job_runs`; `run(context, now)` then does the work in its own transactions."""

    name: str
    run_key: Callable[[AppContext, datetime], str | None]
    run: Callable[[AppContext, datetime], None]
