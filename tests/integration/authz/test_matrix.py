"""Runs every case of every feature for every caller, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

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
from tests.integration.authz.harness import CALLERS, Case, build_scenario, call, check
from watchroster.clock import FrozenClock
from watchroster.config import Settings
from watchroster.db import Database

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


@pytest.mark.parametrize("case", ALL_CASES, ids=[case.label for case in ALL_CASES])
@pytest.mark.parametrize("caller", CALLERS)
def test_authorization(
    case: Case,
    caller: str,
    client: TestClient,
    db: Database,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    scenario = build_scenario(db, settings, clock)
    check(call(client, scenario, case, caller), case, caller)
