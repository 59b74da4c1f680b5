"""The volunteer's main flow in a real browser: book with a buddy, see it, cancel, slot open again.

With JavaScript (htmx) and without, on SQLite and PostgreSQL, with two people racing for one slot,
with a double tap, and with the keyboard alone.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import NewPage
from tests.browser.pages import (
    SLOT_TAKEN,
    Audit,
    book_buttons,
    book_names,
    first_open_slot,
    log_in,
    open_booking_form,
    open_shifts_of,
    tab_to,
)
from tests.browser.site import Site, Slot, Volunteer, new_volunteer
from tests.integration.outbox.processes import wait_for

pytestmark = pytest.mark.slow

EVERY_EVENING = "0 18 * * *"  # 18:00-21:00 local, every day


def _book_first_slot_with_buddy(
    page: Page, site: Site, audit: Audit, schedule_id: int
) -> tuple[Slot, list[str]]:
    """Book the first open slot with buddy "Sipho"; returns it and the Book names before."""
    slot = first_open_slot(site, schedule_id)
    open_shifts_of(page, site, schedule_id)
    audit(page, "shifts")
    names_before = book_names(page, slot.name)
    book_buttons(page, slot.name).first.click()
    confirm = page.get_by_role("button", name="Confirm booking")
    expect(confirm).to_be_visible()
    expect(page.get_by_text("18:00–21:00").first).to_be_visible()
    audit(page, "book")
    page.get_by_label("Buddy's name").fill("Sipho")
    confirm.click()
    wait_for(lambda: len(site.active_bookings(schedule_id)) == 1, 10, "the booking")
    expect(page.get_by_role("status").first).to_be_visible()
    expect(page.get_by_text(SLOT_TAKEN)).to_have_count(0)
    open_shifts_of(page, site, schedule_id)
    expect(book_buttons(page, slot.name).first).to_be_visible()
    assert names_before[0] not in book_names(page, slot.name), "the booked slot left the list"
    return slot, names_before


def _cancel_from_my_shifts(page: Page, site: Site, audit: Audit, slot: Slot) -> None:
    page.get_by_role("link", name="My shifts").first.click()
    expect(page).to_have_url(re.compile(r"/my(\?notice=\w+)?$"))
    expect(page.get_by_text(slot.name).first).to_be_visible()
    expect(page.get_by_text("Sipho").first).to_be_visible()
    audit(page, "my-shifts")
    cancel = page.get_by_role("button", name="Cancel booking")
    cancel.or_(page.get_by_role("link", name="Cancel booking")).first.click()
    yes = page.get_by_role("button", name="Yes, cancel")
    expect(yes).to_be_visible()
    audit(page, "cancel-confirm")
    yes.click()
    expect(page.get_by_role("button", name="Yes, cancel")).to_have_count(0)


def _book_and_cancel(page: Page, site: Site, audit: Audit) -> None:
    schedule_id = site.add_schedule("Evening patrol", EVERY_EVENING)
    volunteer = new_volunteer("Thandi")
    log_in(page, site, volunteer)

    slot, names_before = _book_first_slot_with_buddy(page, site, audit, schedule_id)
    [booking] = site.active_bookings(schedule_id)
    assert (booking.shift_start, booking.buddy_name) == (slot.start, "Sipho")
    assert slot.start not in site.open_starts(schedule_id)

    _cancel_from_my_shifts(page, site, audit, slot)
    assert site.active_bookings(schedule_id) == []
    assert slot.start in site.open_starts(schedule_id)
    open_shifts_of(page, site, schedule_id)
    expect(book_buttons(page, slot.name).first).to_be_visible()
    assert book_names(page, slot.name) == names_before, "the slot is open again"


def test_book_with_a_buddy_see_it_cancel_it(
    any_site: Site, new_page: NewPage, audit: Audit
) -> None:
    _book_and_cancel(new_page(), any_site, audit)


def test_the_same_flow_without_javascript(site: Site, new_page: NewPage, audit: Audit) -> None:
    page = new_page(java_script_enabled=False)
    _book_and_cancel(page, site, audit.without_axe())


def test_two_people_race_for_one_slot(site: Site, new_page: NewPage, audit: Audit) -> None:
    schedule_id = site.add_schedule("Race patrol", EVERY_EVENING)
    slot = first_open_slot(site, schedule_id)
    pages = [new_page(), new_page()]
    for page, name in zip(pages, ("Anele", "Marié"), strict=True):
        log_in(page, site, new_volunteer(name))
        open_booking_form(page, site, slot)

    for page in pages:  # both taps leave before either answer is back
        page.get_by_role("button", name="Confirm booking").click(no_wait_after=True)
    outcomes = []
    for page in pages:
        taken = page.get_by_text(SLOT_TAKEN)
        expect(taken.or_(page.get_by_role("heading", name="My shifts"))).to_be_visible()
        outcomes.append(taken.count() > 0)

    assert sorted(outcomes) == [False, True], "one booked, the other was told in words"
    assert len(site.active_bookings(schedule_id)) == 1
    loser = pages[outcomes.index(True)]
    expect(loser.get_by_role("alert").or_(loser.get_by_role("status")).first).to_be_visible()
    audit(loser, "slot-taken")


def test_a_double_tap_books_once_and_shows_no_error(site: Site, new_page: NewPage) -> None:
    schedule_id = site.add_schedule("Double tap patrol", EVERY_EVENING)
    slot = first_open_slot(site, schedule_id)
    page = new_page()
    log_in(page, site, new_volunteer("Bongani"))
    open_booking_form(page, site, slot)

    page.get_by_role("button", name="Confirm booking").dblclick()
    expect(page.get_by_text(slot.name).first).to_be_visible()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text(SLOT_TAKEN)).to_have_count(0)
    assert site.count_bookings(schedule_id) == 1


def test_a_resubmitted_form_books_once_and_shows_no_error(site: Site, new_page: NewPage) -> None:
    schedule_id = site.add_schedule("Resubmit patrol", EVERY_EVENING)
    slot = first_open_slot(site, schedule_id)
    page = new_page(java_script_enabled=False)
    log_in(page, site, new_volunteer("Riana"))
    open_booking_form(page, site, slot)
    page.get_by_label("Buddy's name").fill("Sipho")
    confirm = page.get_by_role("button", name="Confirm booking")
    sent = confirm.evaluate("b => Object.fromEntries(new FormData(b.form))")
    confirm.click()
    expect(page).to_have_url(re.compile(r"/my(\?notice=\w+)?$"))

    # The same request again, as the browser's "Confirm form resubmission" sends it.
    again = page.context.request.post(f"{site.url}/shifts/book", form=sent, max_redirects=0)
    assert again.status == 303, again.text()
    assert re.search(r"/my(\?notice=\w+)?$", again.headers["location"]), "answered: booked"
    assert site.count_bookings(schedule_id) == 1


def test_going_back_to_the_form_after_booking_does_not_say_someone_else_took_it(
    site: Site, new_page: NewPage
) -> None:
    schedule_id = site.add_schedule("Back button patrol", EVERY_EVENING)
    slot = first_open_slot(site, schedule_id)
    page = new_page(java_script_enabled=False)
    log_in(page, site, new_volunteer("Willem"))
    open_booking_form(page, site, slot)
    page.get_by_role("button", name="Confirm booking").click()
    expect(page).to_have_url(re.compile(r"/my(\?notice=\w+)?$"))

    page.go_back()  # the browser asks for the booking page of the slot this person now holds
    expect(page.locator("main")).to_be_visible()
    expect(page.get_by_text(SLOT_TAKEN)).to_have_count(0)
    assert site.count_bookings(schedule_id) == 1


def _log_in_with_keys(page: Page, site: Site, volunteer: Volunteer) -> None:
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert re.match(r"\s*Skip", focused), f"the first Tab reaches the skip link, not {focused!r}"
    tab_to(page, page.get_by_label("Phone number"))
    page.keyboard.type(volunteer.national)
    tab_to(page, page.get_by_label("Your first name"))
    page.keyboard.type(volunteer.name)
    before = site.codes_sent(volunteer)
    tab_to(page, page.get_by_role("button", name="Send code"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("Code", exact=True))
    page.keyboard.type(site.wait_for_code(volunteer, before))
    page.keyboard.press("Enter")


def test_the_whole_flow_with_the_keyboard_alone(site: Site, new_page: NewPage) -> None:
    schedule_id = site.add_schedule("Keyboard patrol", EVERY_EVENING)
    slot = first_open_slot(site, schedule_id)
    page = new_page()
    page.goto(f"{site.url}/login?next=/shifts%3Fschedule_id%3D{schedule_id}")
    _log_in_with_keys(page, site, new_volunteer("Zanele"))

    expect(book_buttons(page, slot.name).first).to_be_visible()
    tab_to(page, book_buttons(page, slot.name).first)
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("Buddy's name"))
    page.keyboard.type("Sipho")
    tab_to(page, page.get_by_role("button", name="Confirm booking"))
    page.keyboard.press("Space")
    wait_for(lambda: len(site.active_bookings(schedule_id)) == 1, 10, "the booking")
    assert [b.buddy_name for b in site.active_bookings(schedule_id)] == ["Sipho"]

    tab_to(page, page.get_by_role("link", name="My shifts").first)
    page.keyboard.press("Enter")
    cancel = page.get_by_role("button", name="Cancel booking")
    tab_to(page, cancel.or_(page.get_by_role("link", name="Cancel booking")).first)
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("button", name="Yes, cancel"))
    page.keyboard.press("Enter")
    wait_for(lambda: site.active_bookings(schedule_id) == [], 10, "the cancellation")
