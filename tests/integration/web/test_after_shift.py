"""After the start: attendance and incident reports through the booking page."""

from __future__ import annotations

import pytest

from tests.integration.web.conftest import Site
from tests.support.factories import add_user, read_booking
from watchroster.bookings.models import Report

ADMIN = "+27821234569"


def _booked_and_started(site: Site, **buddy: str) -> int:
    site.log_in()
    assert site.book(**buddy).status_code == 303
    (booking_id,) = site.booking_ids()
    site.clock.advance(days=1, hours=8, minutes=30)  # Friday 18:30 local: under way
    return booking_id


def test_attendance_with_a_buddy(site: Site) -> None:
    booking_id = _booked_and_started(site, buddy_name="Sipho")
    my = site.client.get("/my").text
    assert "Were you there?" in my and f'href="/my/{booking_id}"' in my
    page = site.client.get(f"/my/{booking_id}").text
    assert ">I was there</button>" in page and ">I could not make it</button>" in page
    assert "My buddy was there" in page
    done = site.post(
        f"/my/{booking_id}/attendance",
        {"attended": "yes", "has_buddy": "1", "buddy_attended": "yes"},
    )
    assert done.headers["location"] == f"/my/{booking_id}?notice=attendance"
    booking = read_booking(site.db, booking_id)
    assert booking.attended is True and booking.buddy_attended is True
    assert booking.attendance_recorded_at is not None
    site.post(f"/my/{booking_id}/attendance", {"attended": "no", "has_buddy": "1"})
    booking = read_booking(site.db, booking_id)
    assert booking.attended is False and booking.buddy_attended is False
    assert "You could not make it" in site.client.get("/my").text


def test_attendance_before_the_start_is_refused_in_words(site: Site) -> None:
    site.log_in()
    site.book()
    (booking_id,) = site.booking_ids()
    page = site.client.get(f"/my/{booking_id}").text
    assert "I was there" not in page and "Send report" not in page
    refused = site.post(f"/my/{booking_id}/attendance", {"attended": "yes"})
    assert refused.headers["location"] == f"/my/{booking_id}?notice=not_started"
    assert read_booking(site.db, booking_id).attendance_recorded_at is None


def test_a_serious_report_alerts_the_coordinators(site: Site) -> None:
    add_user(site.db, ADMIN, "Anna Admin", role="admin")
    booking_id = _booked_and_started(site)
    page = site.client.get(f"/my/{booking_id}").text
    assert "<legend>Severity</legend>" in page and "What happened" in page
    for words in ("All quiet / nothing serious", "Something to follow up", "Serious — alert"):
        assert words in page
    sent = site.post(
        f"/my/{booking_id}/report", {"severity": "2", "message": "Car break-in on Main Road."}
    )
    assert sent.headers["location"] == f"/my/{booking_id}?notice=alerted"
    assert [m.recipient for m in site.messages("incident_alert")] == [ADMIN]
    shown = site.client.get(sent.headers["location"]).text
    assert "coordinators have been alerted" in shown and "Car break-in on Main Road." in shown
    assert "Earlier reports" in shown


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"message": "Quiet night"}, "Choose how serious it was."),
        ({"severity": "1", "message": "   "}, "Write what happened."),
        ({"severity": "1", "message": "x" * 4001}, "4000 characters or fewer"),
        ({"severity": "7", "message": "Quiet night"}, "Choose how serious it was."),
    ],
)
def test_report_errors_are_announced_and_nothing_is_filed(
    site: Site, data: dict[str, str], error: str
) -> None:
    booking_id = _booked_and_started(site)
    page = site.post(f"/my/{booking_id}/report", data)
    assert page.status_code == 400 and 'role="alert"' in page.text and error in page.text
    with site.db.read() as session:
        assert session.query(Report).count() == 0
