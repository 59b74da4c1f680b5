"""The periodic jobs the worker runs, gathered from the features that define them."""

from __future__ import annotations

from watchroster.attendance.jobs import ATTENDANCE_JOBS
from watchroster.auth.jobs import AUTH_JOBS
from watchroster.bookings.home_safe import HOME_SAFE_JOBS
from watchroster.bookings.idempotency import IDEMPOTENCY_JOBS
from watchroster.bookings.jobs import BOOKING_JOBS
from watchroster.calls.jobs import CALL_JOBS
from watchroster.outbox.jobs import PeriodicJob


def periodic_jobs() -> list[PeriodicJob]:
    return [
        *BOOKING_JOBS,
        *AUTH_JOBS,
        *IDEMPOTENCY_JOBS,
        *ATTENDANCE_JOBS,
        *HOME_SAFE_JOBS,
        *CALL_JOBS,
    ]
