"""After a shift has started: attendance and an incident report, and the coordinators' alert.

The shift is a real one: booked in the browser a minute before it starts (see
`pages.book_soon_starting_slot`), and the test waits, if it must, until it has started.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.conftest import NewPage
from tests.browser.pages import Audit
from tests.browser.site import ADMIN_PHONE, Site, wait_until_started
from tests.integration.outbox.processes import wait_for
from watchroster.bookings.messages import INCIDENT_ALERT
from watchroster.bookings.models import Booking, Report

pytestmark = pytest.mark.slow


def _reports(site: Site, booking_id: int) -> list[Report]:
    with site.database.read() as session:
        return list(session.scalars(select(Report).where(Report.booking_id == booking_id)))


def _attendance(site: Site, booking_id: int) -> tuple[bool, bool | None] | None:
    with site.database.read() as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None
        if booking.attendance_recorded_at is None:
            return None
        return booking.attended, booking.buddy_attended


def _record_attendance(page: Page, site: Site, booking_id: int, javascript: bool) -> None:
    """Each run gives the other answer, so each one changes what is recorded."""
    expected: tuple[bool, bool | None]
    if javascript:
        page.get_by_label("My buddy was there").check()
        page.get_by_role("button", name="I was there").click()
        expected = (True, True)
    else:
        page.get_by_role("button", name="I could not make it").click()
        expected = (False, None)
    wait_for(
        lambda: (_attendance(site, booking_id) or (None,))[0] is expected[0],
        10,
        f"attendance recorded as {expected}",
    )
    if expected[1] is not None:
        assert _attendance(site, booking_id) == expected


def _report_something_serious(page: Page, site: Site, booking_id: int, what: str) -> None:
    alerts_before = len(site.messages(INCIDENT_ALERT, ADMIN_PHONE))
    reports_before = len(_reports(site, booking_id))
    page.get_by_label(re.compile(r"^Serious")).check()
    page.get_by_label("What happened").fill(what)
    page.get_by_role("button", name="Send report").click()

    expect(page.get_by_text(what)).to_be_visible()  # listed with the earlier reports
    reports = sorted(_reports(site, booking_id), key=lambda report: report.report_id)
    assert len(reports) == reports_before + 1
    report = reports[-1]
    assert (report.severity, report.message) == (2, what)
    if report.alert_suppressed:  # the second run: this booking alerted minutes ago (#21 §2)
        assert reports_before and not reports[-2].alert_suppressed
        expect(page.get_by_text("no new alert went out")).to_be_visible()
        assert len(site.messages(INCIDENT_ALERT, ADMIN_PHONE)) == alerts_before
        return
    wait_for(
        lambda: len(site.messages(INCIDENT_ALERT, ADMIN_PHONE)) == alerts_before + 1,
        15,
        "the severity-2 alert to the coordinator",
    )
    # Short: who and where to read it; the text itself stays in the inbox.
    body = site.messages(INCIDENT_ALERT, ADMIN_PHONE)[-1]["body"]
    assert what[:20] not in body and body.endswith(f"/admin/incidents/{report.report_id}")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_attendance_and_a_serious_report_alert_the_coordinators(
    site: Site, new_page: NewPage, audit: Audit, javascript: bool
) -> None:
    assert site.past_slot is not None and site.past_volunteer is not None
    wait_until_started(site.past_slot)
    [booking] = site.active_bookings(site.past_slot.schedule_id)
    page = new_page(java_script_enabled=javascript, storage_state=site.past_login)
    check = audit if javascript else audit.without_axe()
    page.goto(f"{site.url}/shifts")
    page.get_by_role("link", name="My shifts").first.click()
    to_booking = page.locator(f"a[href$='/my/{booking.booking_id}']").first
    expect(to_booking).to_be_visible()
    check(page, "my-shifts-past")
    to_booking.click()
    expect(page).to_have_url(re.compile(rf"/my/{booking.booking_id}$"))
    check(page, "booking")

    _record_attendance(page, site, booking.booking_id, javascript)
    what = f"Gate forced open at number 12, two men ran off (JavaScript {javascript})"
    _report_something_serious(page, site, booking.booking_id, what)
    check(page, "booking-reported")


def test_a_started_shift_cannot_be_cancelled_and_says_so(site: Site, new_page: NewPage) -> None:
    assert site.past_slot is not None and site.past_volunteer is not None
    wait_until_started(site.past_slot)
    [booking] = site.active_bookings(site.past_slot.schedule_id)
    page = new_page(storage_state=site.past_login)
    page.goto(f"{site.url}/my/{booking.booking_id}/cancel")
    yes = page.get_by_role("button", name="Yes, cancel")
    if yes.count():  # the page may offer it; the answer must then refuse in words
        yes.click()
    expect(page.get_by_text(re.compile(r"started", re.IGNORECASE)).first).to_be_visible()
    still = site.active_bookings(site.past_slot.schedule_id)
    assert [b.booking_id for b in still] == [booking.booking_id]
