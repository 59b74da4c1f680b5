"""Issue #21 §2: reports are taken until 24 hours after the shift's end; later the API answers
409 `report_window_closed` and the page no longer offers the form and says why (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.bookings.conftest import Roster
from tests.integration.incidents.alerts_support import (
    roster,  # noqa: F401 - the fixture
    shifts_under_way,
)
from tests.integration.web.conftest import Site, site  # noqa: F401 - the fixture
from tests.support.factories import read_booking


def test_the_api_takes_reports_until_a_day_after_the_end(roster: Roster) -> None:  # noqa: F811
    shifts = shifts_under_way(roster)
    booking_id = shifts.bookings[0]
    end = read_booking(roster.db, booking_id).shift_end
    roster.clock.now = end + timedelta(hours=24)
    last = shifts.report(shifts.sipho, booking_id, severity=1, message="Gate was open")
    assert last.status_code == 201, last.text
    roster.clock.advance(seconds=1)
    for who, severity in ((shifts.thandi, 2), (shifts.sipho, 0), (shifts.admins[0], 1)):
        late = shifts.report(who, booking_id, severity=severity)
        assert (late.status_code, late.json()["code"]) == (409, "report_window_closed")
    assert len(shifts.reports()) == 1
    assert shifts.alerts() == []


def _booking_page(site: Site, booking_id: int) -> str:  # noqa: F811
    page: str = site.client.get(f"/my/{booking_id}").text
    return page


def test_the_page_stops_offering_the_form_and_says_why(site: Site) -> None:  # noqa: F811
    site.log_in()
    assert site.book().status_code == 303
    (booking_id,) = site.booking_ids()
    end = read_booking(site.db, booking_id).shift_end
    site.clock.now = end + timedelta(hours=23)
    assert "Send report" in _booking_page(site, booking_id)
    site.clock.now = end + timedelta(hours=24, seconds=1)
    page = _booking_page(site, booking_id)
    assert "Send report" not in page and "Report an incident" not in page
    refused = site.post(f"/my/{booking_id}/report", {"severity": "2", "message": "Late news"})
    assert refused.status_code == 303
    assert refused.headers["location"] == f"/my/{booking_id}?notice=report_closed"
    shown = site.client.get(refused.headers["location"])
    assert shown.status_code == 200
    assert 'role="alert"' in shown.text and "24 hours after the shift" in shown.text
    assert site.messages("incident_alert") == []
    assert "Late news" not in shown.text
