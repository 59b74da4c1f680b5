"""Issue #12 §3 in a real browser: the registered buddy says "I can't come" through the
confirmation page, the volunteer is told and names another buddy; every page passes the audit
(phone size, accessibility)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import NewPage
from tests.browser.pages import Audit, confirm_booking, first_open_slot, log_in
from tests.browser.site import Site, new_volunteer
from tests.integration.outbox.processes import wait_for
from watchroster.bookings.messages import BUDDY_BOOKED, BUDDY_DECLINED

pytestmark = pytest.mark.slow


def test_the_buddy_declines_and_the_volunteer_names_another(
    site: Site, new_page: NewPage, audit: Audit
) -> None:
    schedule_id = site.add_schedule("Decline patrol", "0 18 * * *")
    booker, buddy, other = new_volunteer("Ayanda"), new_volunteer("Bheki"), new_volunteer("Chumi")
    buddy_page, other_page = new_page(), new_page()
    log_in(buddy_page, site, buddy)
    log_in(other_page, site, other)  # registered too, to be named next
    page = new_page()
    log_in(page, site, booker)
    confirm_booking(page, site, first_open_slot(site, schedule_id), buddy_phone=buddy.national)
    wait_for(lambda: len(site.active_bookings(schedule_id)) == 1, 10, "the booking")
    [booking] = site.active_bookings(schedule_id)

    buddy_page.goto(f"{site.url}/my/{booking.booking_id}")
    audit(buddy_page, "booking-as-buddy")
    buddy_page.get_by_role("button", name="I can't come").click()
    expect(buddy_page.get_by_role("heading", name="Tell them you can't come?")).to_be_visible()
    audit(buddy_page, "decline-confirmation")
    buddy_page.get_by_role("button", name="Yes, I can't come").click()
    expect(buddy_page.get_by_role("status")).to_contain_text("no longer the buddy")
    wait_for(lambda: len(site.messages(BUDDY_DECLINED, booker.e164)) == 1, 15, "the notice")

    page.goto(f"{site.url}/my/{booking.booking_id}")
    page.get_by_role("link", name="Change buddy").click()
    audit(page, "change-buddy")
    page.get_by_label("Buddy's phone").fill(other.national)
    page.get_by_role("button", name="Save buddy").click()
    expect(page.get_by_role("status")).to_contain_text("We have told your new buddy")
    wait_for(lambda: len(site.messages(BUDDY_BOOKED, other.e164)) == 1, 15, "the new notice")
