"""Every feature's cases in one list: the matrix runs it, and the OpenAPI status test calls it
to see which statuses each operation really answers with. A new `cases_<feature>.py` is added
here only."""

from __future__ import annotations

from tests.integration.authz import (
    cases_attendance,
    cases_auth,
    cases_bookings,
    cases_calendar,
    cases_calls,
    cases_exceptions,
    cases_incidents,
    cases_outbox,
    cases_people,
    cases_roster,
    cases_schedule_form,
    cases_schedules,
)
from tests.integration.authz.harness import Case

ALL_CASES: list[Case] = [
    *cases_schedules.CASES,
    *cases_auth.CASES,
    *cases_outbox.CASES,
    *cases_bookings.CASES,
    *cases_attendance.CASES,
    *cases_incidents.CASES,
    *cases_calls.CASES,
    *cases_people.CASES,
    *cases_exceptions.CASES,
    *cases_calendar.CASES,
    *cases_schedule_form.CASES,
    *cases_roster.CASES,
]
