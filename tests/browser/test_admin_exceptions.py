"""A coordinator cancels one booked shift from the console; the volunteer gets the message.

A real server (embedded worker, file message backend) and Chromium: the volunteer books on a
phone, the coordinator cancels on a laptop and undoes another cancellation on a phone, and the
message the worker "sent" is read back from the backend's output.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import NewPage
from tests.browser.pages import LAPTOP, Audit, confirm_booking, first_open_slot, log_in
from tests.browser.site import Site, new_coordinator, new_volunteer
from tests.integration.outbox.processes import wait_for
from watchroster.bookings.shift_cancel import SHIFT_CANCELLED

REASON = "Storm warning: stay indoors"


def test_cancelling_a_booked_shift_tells_the_volunteer(
    site: Site, new_page: NewPage, audit: Audit
) -> None:
    schedule_id = site.add_schedule("Storm patrol", "0 18 * * *")
    slot = first_open_slot(site, schedule_id)
    volunteer = new_volunteer("Nomsa")
    phone = new_page()
    log_in(phone, site, volunteer)
    confirm_booking(phone, site, slot)
    assert len(site.active_bookings(schedule_id)) == 1

    laptop = new_page(**LAPTOP)
    log_in(laptop, site, new_coordinator(site, "Anna"))
    laptop.goto(f"{site.url}/admin/schedules/{schedule_id}/exceptions")
    laptop.get_by_role("link", name=re.compile(r"^Cancel the shift of ")).first.click()
    expect(laptop.get_by_role("heading", name="Cancel this shift")).to_be_visible()
    expect(laptop.locator(".booked-people")).to_contain_text("Nomsa")
    laptop.screenshot(path=audit.directory / "admin-cancel-shift-1280.png")
    laptop.get_by_label("Reason").fill(REASON)
    laptop.get_by_role("button", name="Cancel this shift").click()
    expect(laptop).to_have_url(re.compile(rf"/admin/schedules/{schedule_id}/exceptions\?done="))
    expect(laptop.get_by_role("status")).to_contain_text("The shift is cancelled")
    expect(laptop.locator(".cancelled-shifts")).to_contain_text(REASON)
    laptop.screenshot(path=audit.directory / "admin-cancelled-shifts-1280.png")

    assert site.active_bookings(schedule_id) == []
    wait_for(
        lambda: bool(site.messages(SHIFT_CANCELLED, volunteer.e164)),
        15,
        f"the cancellation message to {volunteer.name}",
    )
    (sent,) = site.messages(SHIFT_CANCELLED, volunteer.e164)
    assert REASON in sent["body"] and "Storm patrol" in sent["body"]
    assert slot.start not in site.open_starts(schedule_id)


def test_undo_on_a_phone(site: Site, new_page: NewPage, audit: Audit) -> None:
    schedule_id = site.add_schedule("Hall watch", "30 19 * * *", minutes=120)
    slot = first_open_slot(site, schedule_id)
    phone = new_page()
    log_in(phone, site, new_coordinator(site, "Bongani"))
    start = slot.local_start.isoformat().replace("+", "%2B")
    phone.goto(f"{site.url}/admin/schedules/{schedule_id}/cancel?start={start}")
    expect(phone.get_by_text("Nobody is booked on this shift yet.")).to_be_visible()
    audit(phone, "cancel-page")
    phone.get_by_label("Reason").fill("Community meeting in the hall")
    phone.get_by_role("button", name="Cancel this shift").click()
    expect(phone.get_by_role("status")).to_contain_text("Nobody was booked on it")
    audit(phone, "cancelled-list")
    assert slot.start not in site.open_starts(schedule_id)

    phone.get_by_role("button", name=re.compile(r"^Undo: offer ")).click()
    expect(phone.get_by_role("status")).to_contain_text("offered again")
    assert slot.start in site.open_starts(schedule_id)
