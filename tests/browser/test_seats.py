"""A shift for two in a real browser: "2 of 2 places left", two volunteers book, then it is full.

With JavaScript (htmx, on SQLite and PostgreSQL) and without.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import NewPage
from tests.browser.pages import Audit, book_buttons, first_open_slot, log_in, open_shifts_of
from tests.browser.site import Site, Slot, new_volunteer
from tests.integration.outbox.processes import wait_for

pytestmark = pytest.mark.slow

EVERY_EVENING = "0 18 * * *"


def _first_item(page: Page, slot: Slot) -> Locator:
    """The first slot's list item (the list shows the slot's schedule only)."""
    return page.locator("ul.slots li").filter(has_text=slot.name).first


def _book_first(page: Page, site: Site, slot: Slot, audit: Audit, label: str) -> None:
    book_buttons(page, slot.name).first.click()
    confirm = page.get_by_role("button", name="Confirm booking")
    expect(confirm).to_be_visible()
    audit(page, f"book-{label}")
    confirm.click()
    expect(page.get_by_role("status").first).to_be_visible()


def _two_book_one_shift(pages: list[Page], site: Site, audit: Audit) -> None:
    schedule_id = site.add_schedule("Team patrol", EVERY_EVENING, seats=2)
    slot = first_open_slot(site, schedule_id)
    for page, name in zip(pages, ("Ayanda", "Johan"), strict=True):
        log_in(page, site, new_volunteer(name))
    first, second = pages
    open_shifts_of(first, site, schedule_id)
    expect(_first_item(first, slot)).to_contain_text("2 of 2 places left")
    audit(first, "shifts-two-places")
    _book_first(first, site, slot, audit, "first")
    wait_for(lambda: len(site.active_bookings(schedule_id)) == 1, 10, "the first booking")

    open_shifts_of(second, site, schedule_id)
    item = _first_item(second, slot)
    expect(item).to_contain_text("1 of 2 places left")
    audit(second, "shifts-one-place")
    _book_first(second, site, slot, audit, "second")
    wait_for(lambda: len(site.active_bookings(schedule_id)) == 2, 10, "the second booking")
    seats = sorted(booking.seat for booking in site.active_bookings(schedule_id))
    assert seats == [1, 2]
    assert slot.start not in site.open_starts(schedule_id), "a full shift is no longer offered"
    open_shifts_of(second, site, schedule_id)
    expect(second.get_by_text(re.compile(r"of 2 places left")).first).to_contain_text(
        "2 of 2 places left"  # the next evening, untouched
    )


def test_two_volunteers_share_a_shift_for_two(
    any_site: Site, new_page: NewPage, audit: Audit
) -> None:
    _two_book_one_shift([new_page(), new_page()], any_site, audit)


def test_the_same_without_javascript(site: Site, new_page: NewPage, audit: Audit) -> None:
    pages = [new_page(java_script_enabled=False), new_page(java_script_enabled=False)]
    _two_book_one_shift(pages, site, audit.without_axe())
