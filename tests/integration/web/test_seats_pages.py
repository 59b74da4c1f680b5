"""Shifts with several places on the volunteer pages: "2 of 3 places left", booking the next."""

from __future__ import annotations

from sqlalchemy import select

from tests.integration.web.conftest import FRIDAY, SIPHO, Site, book_links, second_browser
from tests.support.factories import add_schedule
from watchroster.bookings.models import Booking

HTMX = {"HX-Request": "true"}


def _seats_of(site: Site) -> list[int]:
    query = select(Booking.seat).where(
        Booking.schedule_id == site.schedule.schedule_id, Booking.canceled_at.is_(None)
    )
    with site.db.read() as session:
        return sorted(session.scalars(query))


def _teams(site: Site) -> Site:
    """The site's schedule replaced by one taking three volunteers a Friday."""
    site.schedule = add_schedule(site.db, name="Friday teams", seats=3)
    return site


def _slot_item(html: str, name: str) -> str:
    """The `<li>` of the first slot of the schedule called `name`."""
    start = html.index(f'<span class="what">{name}</span>')
    return html[html.rindex("<li>", 0, start) : html.index("</li>", start)]


def test_places_left_are_shown_and_booking_takes_the_next_place(site: Site) -> None:
    _teams(site)
    sipho = second_browser(site)
    sipho.log_in(SIPHO, "Sipho Dlamini")
    site.log_in()
    shifts = site.client.get("/shifts").text
    assert "3 of 3 places left" in _slot_item(shifts, "Friday teams")
    # A one-volunteer shift reads as it always did.
    assert "places left" not in _slot_item(shifts, "Friday patrol")
    assert sipho.book().headers["location"] == "/my?notice=booked"
    shifts = site.client.get("/shifts").text
    assert "2 of 3 places left" in _slot_item(shifts, "Friday teams")
    link = book_links(_slot_item(shifts, "Friday teams"))[0]
    page = site.client.get(link).text
    assert "2 of 3 places left" in page and ">Confirm booking</button>" in page
    booked = site.book()
    assert booked.status_code == 303 and booked.headers["location"] == "/my?notice=booked"
    assert _seats_of(site) == [1, 2]
    shifts = site.client.get("/shifts").text
    assert "1 of 3 places left" in _slot_item(shifts, "Friday teams")


def test_a_full_shift_leaves_the_list_and_a_late_booking_is_told_kindly(site: Site) -> None:
    _teams(site)
    others = []
    for index in range(3):
        other = second_browser(site)
        other.log_in(f"+2782123460{index}", f"Volunteer {index}")
        others.append(other)
    site.log_in()
    form = site.client.get(
        book_links(_slot_item(site.client.get("/shifts").text, "Friday teams"))[0]
    )
    assert form.status_code == 200
    for other in others:
        assert other.book().status_code == 303
    assert _seats_of(site) == [1, 2, 3]
    shifts = site.client.get("/shifts").text
    friday_links = [link for link in book_links(shifts) if "2025-05-02" in link]
    assert len(friday_links) == 1  # only the one-volunteer "Friday patrol" is still open
    late = site.book()
    assert late.headers["location"] == "/shifts?notice=taken"
    in_place = site.post(
        "/shifts/book",
        {"schedule_id": str(site.schedule.schedule_id), "start": FRIDAY},
        headers=HTMX,
    )
    assert in_place.status_code == 200 and "someone has just taken this shift" in in_place.text
    assert _seats_of(site) == [1, 2, 3]
