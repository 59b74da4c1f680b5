"""Cancelling one shift from the console, and undoing it, through the forms (no JavaScript).

The `site` clock is Thursday 2025-05-01 10:00 in Johannesburg; the schedule is Fridays 18:00."""

from __future__ import annotations

import re
from urllib.parse import quote

from sqlalchemy import select

from tests.integration.web.conftest import FRIDAY, Site
from watchroster.bookings.models import Booking
from watchroster.bookings.shift_cancel import SHIFT_CANCELLED
from watchroster.schedules.models import ScheduleException

NEXT_FRIDAY = "2025-05-09T18:00:00+02:00"
_UNDO = re.compile(r'action="(/admin/schedules/\d+/exceptions/\d+/undo)"')


def _cancel_path(site: Site, start: str = FRIDAY) -> str:
    return f"/admin/schedules/{site.schedule.schedule_id}/cancel?start={quote(start)}"


def _list_path(site: Site) -> str:
    return f"/admin/schedules/{site.schedule.schedule_id}/exceptions"


def test_the_confirmation_names_who_is_booked_and_cancelling_tells_them(
    site: Site, admin_site: Site
) -> None:
    site.log_in()  # Thandi
    assert site.book(FRIDAY).status_code == 303
    page = admin_site.client.get(_cancel_path(site))
    assert page.status_code == 200
    assert "Friday patrol" in page.text and "Friday 2 May" in page.text
    assert "Thandi" in page.text and "Mokoena" not in page.text  # first names only
    assert "will get a message with your reason" in page.text
    assert 'name="csrf_token"' in page.text

    path = f"/admin/schedules/{site.schedule.schedule_id}/cancel"
    done = admin_site.post(path, {"start": FRIDAY, "reason": "Storm warning"})
    assert done.status_code == 303
    assert done.headers["location"].startswith(_list_path(site) + "?done=cancelled")
    assert site.count_bookings() == 0
    (message,) = site.messages(SHIFT_CANCELLED)
    assert "Storm warning" in message.payload["body"]
    with site.db.read() as session:
        booking = session.scalars(select(Booking)).one()
        assert booking.cancel_reason == "Storm warning"

    listed = admin_site.client.get(done.headers["location"])
    assert "The shift is cancelled" in listed.text and "is being told" in listed.text
    assert "Storm warning" in listed.text and "by Anna" in listed.text
    offered = admin_site.client.get("/shifts").text
    assert "Friday 9 May" in offered and "Friday 2 May" not in offered


def test_a_reason_is_required(site: Site, admin_site: Site) -> None:
    path = f"/admin/schedules/{site.schedule.schedule_id}/cancel"
    for reason in ("", "   ", "x" * 301):
        page = admin_site.post(path, {"start": FRIDAY, "reason": reason})
        assert page.status_code == 400
        assert "Write a reason" in page.text
        assert 'aria-invalid="true"' in page.text
    with site.db.read() as session:
        assert session.scalars(select(ScheduleException)).all() == []


def test_undo_offers_the_shift_again(site: Site, admin_site: Site) -> None:
    path = f"/admin/schedules/{site.schedule.schedule_id}/cancel"
    assert admin_site.post(path, {"start": FRIDAY, "reason": "Community braai"}).status_code == 303
    assert "Friday 2 May" not in admin_site.client.get("/shifts").text
    listed = admin_site.client.get(_list_path(site))
    (undo,) = _UNDO.findall(listed.text)
    restored = admin_site.post(undo, {})
    assert restored.status_code == 303
    assert restored.headers["location"].endswith("?done=restored")
    assert "Friday 2 May" in admin_site.client.get("/shifts").text
    assert "offered again" in admin_site.client.get(restored.headers["location"]).text
    assert admin_site.post(undo, {}).status_code == 404  # undone already


def test_undo_after_the_start_is_refused(site: Site, admin_site: Site) -> None:
    path = f"/admin/schedules/{site.schedule.schedule_id}/cancel"
    assert admin_site.post(path, {"start": FRIDAY, "reason": "Storm"}).status_code == 303
    (undo,) = _UNDO.findall(admin_site.client.get(_list_path(site)).text)
    site.clock.advance(days=1, hours=8)  # Friday 18:00 local: started
    refused = admin_site.post(undo, {})
    assert refused.headers["location"].endswith("?done=too_late")
    with site.db.read() as session:
        assert len(session.scalars(select(ScheduleException)).all()) == 1


def test_shifts_that_cannot_be_cancelled_say_why(site: Site, admin_site: Site) -> None:
    not_a_shift = admin_site.client.get(_cancel_path(site, "2025-05-02T19:00:00+02:00"))
    assert not_a_shift.status_code == 409
    assert "not one of the schedule" in not_a_shift.text
    assert 'name="reason"' not in not_a_shift.text
    path = f"/admin/schedules/{site.schedule.schedule_id}/cancel"
    assert admin_site.post(path, {"start": FRIDAY, "reason": "Storm"}).status_code == 303
    again = admin_site.client.get(_cancel_path(site))
    assert again.status_code == 409 and "already cancelled" in again.text
    twice = admin_site.post(path, {"start": FRIDAY, "reason": "Storm"})
    assert twice.status_code == 409
    assert admin_site.client.get(_cancel_path(site, "soon")).status_code == 404
    assert admin_site.client.get("/admin/schedules/999/cancel?start=x").status_code == 404
    assert admin_site.client.get("/admin/schedules/999/exceptions").status_code == 404


def test_the_list_links_each_next_shift_to_its_cancel_page(site: Site, admin_site: Site) -> None:
    page = admin_site.client.get(_list_path(site))
    assert page.status_code == 200
    assert "No upcoming shift of this schedule is cancelled." in page.text
    assert _cancel_path(site).replace("&", "&amp;") in page.text
    assert _cancel_path(site, NEXT_FRIDAY) in page.text


def test_volunteers_and_forged_forms_are_refused(site: Site, admin_site: Site) -> None:
    site.log_in()
    assert site.client.get(_cancel_path(site)).status_code == 403
    assert site.client.get(_list_path(site)).status_code == 403
    path = f"/admin/schedules/{site.schedule.schedule_id}/cancel"
    assert site.post(path, {"start": FRIDAY, "reason": "x"}).status_code == 403
    forged = admin_site.client.post(
        path, data={"start": FRIDAY, "reason": "x"}, follow_redirects=False
    )
    assert forged.status_code in (400, 403)
    with site.db.read() as session:
        assert session.scalars(select(ScheduleException)).all() == []
