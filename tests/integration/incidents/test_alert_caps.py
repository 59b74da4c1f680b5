"""Issue #21 §2: serious reports alert the coordinators at most once per booking in 10 minutes
and at most 3 times per reporter in any 24 hours (SQLite and PostgreSQL). Reports past a cap
are stored (201) and flagged `alert_suppressed`, and send nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.integration.bookings.conftest import Roster
from tests.integration.incidents.alerts_support import (
    roster,  # noqa: F401 - the fixture
    shifts_under_way,
)
from tests.support.factories import add_booking
from watchroster.app import create_app


def test_a_booking_alerts_at_most_once_in_ten_minutes(roster: Roster) -> None:  # noqa: F811
    shifts = shifts_under_way(roster)
    booking = shifts.bookings[0]
    filed = [shifts.report(shifts.thandi, booking) for _ in range(3)]
    filed.append(shifts.report(shifts.sipho, booking))  # the buddy counts on the same booking
    assert [response.status_code for response in filed] == [201] * 4
    # One alert to each of the two coordinators, for the first report only.
    assert len(shifts.alerts()) == 2
    first = filed[0].json()["report_id"]
    assert {m.dedupe_key for m in shifts.alerts()} == {
        f"report:{first}:alert:{admin.user_id}" for admin in shifts.admins
    }
    assert [response.json()["alert_suppressed"] for response in filed] == [False, *[True] * 3]
    assert len(shifts.reports()) == 4  # every report is kept

    roster.clock.advance(minutes=9, seconds=59)
    assert shifts.report(shifts.sipho, booking).json()["alert_suppressed"] is True
    roster.clock.advance(seconds=1)  # ten minutes after the alert
    assert shifts.report(shifts.sipho, booking).json()["alert_suppressed"] is False
    assert len(shifts.alerts()) == 4
    flags = [report.alert_suppressed for report in shifts.reports()]
    assert flags == [False, True, True, True, True, False]


def test_a_reporter_alerts_at_most_three_times_in_any_24_hours(roster: Roster) -> None:  # noqa: F811
    shifts = shifts_under_way(roster, count=4)
    filed = [shifts.report(shifts.thandi, booking) for booking in shifts.bookings]
    assert [response.status_code for response in filed] == [201] * 4
    assert len(shifts.alerts()) == 3 * 2  # three reports, two coordinators
    assert [response.json()["alert_suppressed"] for response in filed] == [False] * 3 + [True]
    # A report held back does not use up the booking: the buddy's report on it alerts.
    buddy = shifts.report(shifts.sipho, shifts.bookings[3])
    assert buddy.json()["alert_suppressed"] is False
    assert len(shifts.alerts()) == 4 * 2

    # Rolling, not per calendar day: a shift that starts 20 hours later.
    start = roster.clock() + timedelta(hours=20)
    later = add_booking(roster.db, roster.schedule, shifts.thandi.user, start).booking_id
    roster.clock.advance(hours=23, minutes=59)
    assert shifts.report(shifts.thandi, later).json()["alert_suppressed"] is True
    roster.clock.advance(minutes=1, seconds=1)  # the first three alerts are over 24 h old
    assert shifts.report(shifts.thandi, later).json()["alert_suppressed"] is False
    assert len(shifts.alerts()) == 5 * 2


def test_only_serious_reports_alert_and_count(roster: Roster) -> None:  # noqa: F811
    shifts = shifts_under_way(roster)
    booking = shifts.bookings[0]
    for severity in (0, 1, 0, 1):
        quiet = shifts.report(shifts.thandi, booking, severity=severity, message="Streetlight out")
        assert (quiet.status_code, quiet.json()["alert_suppressed"]) == (201, False)
    assert shifts.alerts() == []
    serious = shifts.report(shifts.thandi, booking)
    assert serious.json()["alert_suppressed"] is False
    assert len(shifts.alerts()) == 2


@pytest.fixture
def strict(roster: Roster) -> Iterator[Roster]:  # noqa: F811
    """The same database and clock behind an app with one alert a day and no spacing."""
    settings = roster.settings.model_copy(
        update={"urgent_alerts_per_day": 1, "urgent_alert_booking_minutes": 0}
    )
    app = create_app(settings, db=roster.db, clock=roster.clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Roster(client, roster.db, settings, roster.clock, roster.schedule)


def test_the_caps_are_the_settings(strict: Roster) -> None:
    shifts = shifts_under_way(strict, count=2)
    first = shifts.report(shifts.thandi, shifts.bookings[0])
    assert first.json()["alert_suppressed"] is False
    # WATCHROSTER_URGENT_ALERTS_PER_DAY=1: Thandi's second is held back, on any booking.
    assert shifts.report(shifts.thandi, shifts.bookings[1]).json()["alert_suppressed"] is True
    # WATCHROSTER_URGENT_ALERT_BOOKING_MINUTES=0: no spacing, so Sipho's alerts at once.
    assert shifts.report(shifts.sipho, shifts.bookings[0]).json()["alert_suppressed"] is False
    assert len(shifts.alerts()) == 2 * 2
