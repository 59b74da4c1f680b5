"""A registered buddy is linked and told, each sees the other by first name only, never a phone
number; a wrong buddy phone is an error next to the field, announced."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import NewPage
from tests.browser.pages import Audit, confirm_booking, first_open_slot, log_in, open_booking_form
from tests.browser.site import Site, Volunteer, new_volunteer
from tests.integration.outbox.processes import wait_for
from watchroster.bookings.messages import BUDDY_BOOKED

pytestmark = pytest.mark.slow

EVERY_EVENING = "0 18 * * *"


def _phone_forms(volunteer: Volunteer) -> list[str]:
    national = volunteer.national
    return [volunteer.e164, national, national.replace(" ", ""), volunteer.e164.removeprefix("+")]


def _assert_no_phone_of(page: Page, volunteer: Volunteer) -> None:
    html = page.content()
    shown = [form for form in _phone_forms(volunteer) if form in html]
    assert not shown, f"{page.url} shows {volunteer.name}'s number as {shown}"


def test_a_registered_buddy_is_told_and_each_sees_only_the_others_first_name(
    site: Site, new_page: NewPage, audit: Audit
) -> None:
    schedule_id = site.add_schedule("Buddy patrol", EVERY_EVENING)
    booker, buddy = new_volunteer("Nomvula"), new_volunteer("Tshepo")
    buddy_page = new_page()
    log_in(buddy_page, site, buddy)  # registered: the account exists
    page = new_page()
    log_in(page, site, booker)

    confirm_booking(page, site, first_open_slot(site, schedule_id), buddy_phone=buddy.national)
    wait_for(lambda: len(site.active_bookings(schedule_id)) == 1, 10, "the booking")
    [booking] = site.active_bookings(schedule_id)
    assert booking.buddy_user_id is not None and booking.buddy_phone is None
    wait_for(lambda: len(site.messages(BUDDY_BOOKED, buddy.e164)) == 1, 15, "the buddy's notice")

    page.goto(f"{site.url}/my")
    expect(page.get_by_text(re.compile(rf"\b{buddy.name}\b")).first).to_be_visible()
    _assert_no_phone_of(page, buddy)
    page.goto(f"{site.url}/my/{booking.booking_id}")
    _assert_no_phone_of(page, buddy)

    buddy_page.goto(f"{site.url}/my")
    expect(buddy_page.get_by_text(re.compile(rf"\b{booker.name}\b")).first).to_be_visible()
    audit(buddy_page, "my-shifts-as-buddy")
    _assert_no_phone_of(buddy_page, booker)
    buddy_page.goto(f"{site.url}/my/{booking.booking_id}")
    expect(buddy_page.locator("main")).to_contain_text(booker.name)
    _assert_no_phone_of(buddy_page, booker)


def test_a_wrong_buddy_phone_is_shown_next_to_the_field_and_books_nothing(
    site: Site, new_page: NewPage, audit: Audit
) -> None:
    schedule_id = site.add_schedule("Typo patrol", EVERY_EVENING)
    page = new_page()
    log_in(page, site, new_volunteer("Lwazi"))
    open_booking_form(page, site, first_open_slot(site, schedule_id))
    page.get_by_label("Buddy's phone").fill("12")
    page.get_by_role("button", name="Confirm booking").click()

    expect(page.get_by_role("alert").first).to_be_visible()
    expect(page.get_by_role("button", name="Confirm booking")).to_be_visible()
    audit(page, "book-buddy-phone-error")
    assert site.count_bookings(schedule_id) == 0
