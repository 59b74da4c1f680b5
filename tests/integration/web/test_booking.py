"""Booking, the race for a slot, double submits, cancelling: plain forms and htmx."""

from __future__ import annotations

import re

from tests.integration.web.conftest import (
    FRIDAY,
    SIPHO,
    Site,
    book_links,
    second_browser,
)
from tests.support.factories import add_schedule

HTMX = {"HX-Request": "true"}


def test_book_with_a_buddy_see_it_cancel_it_and_the_slot_is_open_again(site: Site) -> None:
    site.log_in()
    shifts = site.client.get("/shifts").text
    assert "Tomorrow" in shifts and "Friday 2 May" in shifts and "18:00–21:00" in shifts
    assert 'aria-label="Book Friday patrol, Friday 2 May 18:00–21:00"' in shifts
    assert 'href="/my"' in shifts  # "My shifts" on every page
    link = book_links(shifts)[0]
    page = site.client.get(link)
    assert page.status_code == 200 and "Buddy's name" in page.text
    assert "Buddy's phone" in page.text and ">Confirm booking</button>" in page.text
    booked = site.book(buddy_name="Sipho Dlamini")
    assert booked.status_code == 303 and booked.headers["location"] == "/my?notice=booked"
    my = site.client.get(booked.headers["location"]).text
    assert "Your shift is booked." in my and "With Sipho" in my and "Dlamini" not in my
    assert link not in book_links(site.client.get("/shifts").text)
    (booking_id,) = site.booking_ids()
    confirm = site.client.get(f"/my/{booking_id}/cancel")
    assert ">Yes, cancel</button>" in confirm.text
    canceled = site.post(f"/my/{booking_id}/cancel", {})
    assert canceled.headers["location"] == "/my?notice=canceled"
    assert site.count_bookings() == 0
    assert link in book_links(site.client.get("/shifts").text)


def test_a_registered_buddy_is_linked_and_told(site: Site) -> None:
    sipho = second_browser(site)
    sipho.log_in(SIPHO, "Sipho Dlamini")
    site.log_in()
    booked = site.book(buddy_phone="082 123 4568")
    assert booked.headers["location"] == "/my?notice=booked_buddy_told"
    assert [m.recipient for m in site.messages("buddy_booked")] == [SIPHO]
    buddy_page = sipho.client.get("/my").text
    assert "You are the buddy" in buddy_page and "Friday patrol" in buddy_page


def test_buddy_phone_errors_are_shown_next_to_the_field(site: Site) -> None:
    site.log_in()
    page = site.book(buddy_phone="12345", buddy_name="Sipho")
    assert page.status_code == 400 and 'role="alert"' in page.text
    assert "buddy_phone-error" in page.text and 'value="Sipho"' in page.text
    mine = site.book(buddy_phone="082 123 4567")  # the volunteer's own number
    assert mine.status_code == 400 and "your own buddy" in mine.text
    assert site.count_bookings() == 0


def test_someone_took_it_meanwhile_the_friendly_message_never_an_error(site: Site) -> None:
    rival = second_browser(site)
    rival.log_in(SIPHO, "Sipho")
    site.log_in()
    form = site.client.get(book_links(site.client.get("/shifts").text)[0])
    assert form.status_code == 200
    assert rival.book().status_code == 303
    lost = site.book()
    assert lost.status_code == 303 and lost.headers["location"] == "/shifts?notice=taken"
    page = site.client.get(lost.headers["location"])
    assert page.status_code == 200
    assert "Sorry, someone has just taken this shift." in page.text and 'role="alert"' in page.text
    assert site.count_bookings() == 1


def test_a_double_submit_books_once_and_both_answers_say_booked(site: Site) -> None:
    site.log_in()
    first, second = site.book(), site.book()
    assert first.headers["location"] == second.headers["location"] == "/my?notice=booked"
    assert site.count_bookings(active_only=False) == 1


def test_the_book_page_of_a_taken_slot_goes_back_to_the_list(site: Site) -> None:
    rival = second_browser(site)
    rival.log_in(SIPHO, "Sipho")
    site.log_in()
    link = book_links(site.client.get("/shifts").text)[0]
    rival.book()
    response = site.client.get(link, follow_redirects=False)
    assert response.headers["location"] == "/shifts?notice=taken"
    gone = site.client.get("/shifts/book?schedule_id=99&start=x", follow_redirects=False)
    assert gone.headers["location"] == "/shifts?notice=gone"


def test_htmx_books_in_place(site: Site) -> None:
    site.log_in()
    link = book_links(site.client.get("/shifts").text)[0]
    panel = site.client.get(link, headers=HTMX)
    assert panel.status_code == 200 and "<html" not in panel.text
    assert 'hx-post="/shifts/book"' in panel.text and "Confirm booking" in panel.text
    token = site.token("/shifts")
    data = {"schedule_id": str(site.schedule.schedule_id), "start": FRIDAY}
    done = site.client.post("/shifts/book", data=data, headers={**HTMX, "X-CSRF-Token": token})
    assert done.status_code == 200 and "<html" not in done.text
    assert "Your shift is booked." in done.text and 'href="/my"' in done.text


def test_htmx_lost_race_refreshes_the_list_in_place(site: Site) -> None:
    rival = second_browser(site)
    rival.log_in(SIPHO, "Sipho")
    site.log_in()
    rival.book()
    token = site.token("/shifts")
    data = {"schedule_id": str(site.schedule.schedule_id), "start": FRIDAY}
    lost = site.client.post("/shifts/book", data=data, headers={**HTMX, "X-CSRF-Token": token})
    assert lost.status_code == 200
    assert lost.headers["HX-Retarget"] == "#slots" and lost.text.startswith('<div id="slots">')
    assert "Sorry, someone has just taken this shift." in lost.text
    assert "2025-05-02T18" not in "".join(book_links(lost.text)).replace("%3A", ":")


def test_cancelling_after_the_start_is_refused_in_words(site: Site) -> None:
    site.log_in()
    site.book()
    (booking_id,) = site.booking_ids()
    site.clock.advance(days=1, hours=8, minutes=30)  # Friday 18:30 local
    refused = site.post(f"/my/{booking_id}/cancel", {})
    assert refused.headers["location"] == f"/my/{booking_id}?notice=cannot_cancel"
    page = site.client.get(refused.headers["location"]).text
    assert "can no longer be cancelled" in page and "Cancel booking" not in page
    assert site.count_bookings() == 1


def test_filter_by_schedule_and_show_later_shifts(site: Site) -> None:
    saturday = add_schedule(site.db, name="Saturday morning", cron_expr="0 8 * * SAT")
    site.log_in()
    both = site.client.get("/shifts").text
    assert "Saturday morning" in both and "Friday patrol" in both
    only = site.client.get(f"/shifts?schedule_id={saturday.schedule_id}").text
    assert "Book Saturday morning" in only and "Book Friday patrol" not in only
    later = re.search(r'href="(/shifts\?from=[^"]+)"', only)
    assert later and "Show later shifts" in only
    next_page = site.client.get(later.group(1).replace("&amp;", "&")).text
    assert "Saturday 17 May" in next_page and "Saturday 3 May" not in next_page
    assert "Book Friday patrol" not in next_page


def test_another_persons_booking_is_not_found(site: Site) -> None:
    other = second_browser(site)
    other.log_in(SIPHO, "Sipho")
    other.book()
    (booking_id,) = site.booking_ids()
    site.log_in()
    for path in (f"/my/{booking_id}", f"/my/{booking_id}/cancel", "/my/abc", "/my/99999"):
        page = site.client.get(path)
        assert page.status_code == 404 and "Shift not found" in page.text
    assert site.post(f"/my/{booking_id}/cancel", {}).status_code == 404
    assert site.count_bookings() == 1


def test_the_book_page_of_a_slot_i_hold_shows_my_booking_not_sorry(site: Site) -> None:
    site.log_in()
    link = book_links(site.client.get("/shifts").text)[0]
    site.book()
    (booking_id,) = site.booking_ids()
    back = site.client.get(link, follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == f"/my/{booking_id}"
