"""Holidays and cancelled shifts: a Friday-evening schedule around Easter 2026 in South Africa.

The clock starts on Monday 2026-03-30 10:00 in Johannesburg (UTC+2, no daylight saving), so the
Fridays ahead are Good Friday 3 April (a public holiday) and 10 April (an ordinary Friday).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from tests.integration.bookings.conftest import Roster, admin, sipho, thandi
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.schedules.models import Schedule
from watchroster.schedules.schemas import ScheduleCreate
from watchroster.schedules.service import create_schedule

GOOD_FRIDAY = "2026-04-03T18:00:00+02:00"
FRIDAY = "2026-04-10T18:00:00+02:00"
NEXT_FRIDAY = "2026-04-17T18:00:00+02:00"
# The bookings tests' members, on this roster (their fixtures ask for `roster`: the one below).
__all__ = ["admin", "sipho", "thandi"]


def add_schedule(db: Database, **fields: object) -> Schedule:
    values: dict[str, object] = {
        "name": "Friday patrol",
        "cron_expr": "0 18 * * FRI",
        "timezone": "Africa/Johannesburg",
        "duration_minutes": 180,
        "skip_holidays": True,
        **fields,
    }
    with db.write() as session:
        return create_schedule(session, ScheduleCreate.model_validate(values), "UTC")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 30, 8, 0, tzinfo=UTC))


@pytest.fixture
def roster(client: TestClient, db: Database, settings: Settings, clock: FrozenClock) -> Roster:
    return Roster(client, db, settings, clock, add_schedule(db))
