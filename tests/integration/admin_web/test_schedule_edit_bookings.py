"""The console's schedule form and booked shifts (issue #21 §1, §6): the preview lists the booked
shifts an edit would drop; saving without confirmation re-shows the form with that list and a
"Cancel these bookings and save" button, which cancels them and tells the volunteers; deleting a
schedule something refers to is a readable 409 page, never a 500. Without JavaScript, both
databases.

The clock is Thursday 2025-05-01 10:00 in Johannesburg; the schedule is Fridays 18:00-21:00.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.web.conftest import Site
from tests.support.factories import add_booking, add_user, read_booking
from watchroster.bookings.shift_cancel import SHIFT_CANCELLED
from watchroster.calls.models import VolunteerCall
from watchroster.schedules.models import Schedule

FRIDAY = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)
FORM = {
    "name": "Friday patrol",
    "weekday": "FRI",
    "start_time": "18:00",
    "duration_hours": "3",
    "duration_minutes": "0",
    "timezone": "Africa/Johannesburg",
    "holiday_country": "ZA",
}


def _affected(html: str) -> list[str]:
    if 'class="affected-bookings"' not in html:
        return []
    block = html.split('class="affected-bookings"', 1)[1].split("</ul>", 1)[0]
    return [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", block)]


def _schedule(site: Site) -> Schedule:
    with site.db.read() as session:
        return session.get_one(Schedule, site.schedule.schedule_id)


def _booked(site: Site) -> int:
    nomsa = add_user(site.db, "+27821239911", "Nomsa Dube")
    return add_booking(site.db, site.schedule, nomsa, FRIDAY).booking_id


def _preview(site: Site, **change: Any) -> str:
    schedule_id = site.schedule.schedule_id
    data = {
        **FORM,
        **change,
        "schedule_id": str(schedule_id),
        "csrf_token": site.token(f"/admin/schedules/{schedule_id}"),
    }
    response = site.client.post(
        "/admin/schedules/preview", data=data, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200, response.text
    return str(response.text)


def test_the_preview_lists_the_booked_shifts_an_edit_drops(admin_site: Site) -> None:
    _booked(admin_site)
    assert _affected(_preview(admin_site)) == []
    assert _affected(_preview(admin_site, weekday=["FRI", "SAT"])) == []
    dropped = _affected(_preview(admin_site, weekday="SAT"))
    assert dropped == ["Friday 2 May, 18:00–21:00: Nomsa"]
    # A new schedule has no bookings to lose.
    token = admin_site.token("/admin/schedules/new")
    fresh = admin_site.client.post(
        "/admin/schedules/preview",
        data={**FORM, "weekday": "SAT", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert _affected(fresh.text) == []


def test_saving_asks_first_then_cancels_and_tells(admin_site: Site) -> None:
    booking_id = _booked(admin_site)
    path = f"/admin/schedules/{admin_site.schedule.schedule_id}"
    asked = admin_site.post(path, {**FORM, "weekday": "SAT", "intent": "save"})
    assert asked.status_code == 409, asked.text
    assert _affected(asked.text) == ["Friday 2 May, 18:00–21:00: Nomsa"]
    assert 'name="on_booked" value="cancel"' in asked.text
    assert "Cancel these bookings and save" in asked.text
    assert 'value="SAT" checked' in asked.text  # what was typed is kept
    assert _schedule(admin_site).cron_expr == "0 18 * * FRI"
    assert read_booking(admin_site.db, booking_id).canceled_at is None

    confirmed = admin_site.post(path, {**FORM, "weekday": "SAT", "on_booked": "cancel"})
    assert confirmed.status_code == 303, confirmed.text
    assert confirmed.headers["location"] == "/admin/schedules?done=updated"
    assert _schedule(admin_site).cron_expr == "0 18 * * SAT"
    booking = read_booking(admin_site.db, booking_id)
    assert booking.canceled_at == admin_site.clock()
    assert booking.cancel_reason == "The schedule changed"
    assert booking.canceled_by_user_id is not None
    [message] = admin_site.messages(SHIFT_CANCELLED)
    assert message.recipient == "+27821239911"


def test_an_edit_that_keeps_the_booked_shifts_saves_at_once(admin_site: Site) -> None:
    booking_id = _booked(admin_site)
    path = f"/admin/schedules/{admin_site.schedule.schedule_id}"
    longer = {**FORM, "duration_hours": "4", "intent": "save"}
    assert _affected(_preview(admin_site, duration_hours="4")) == []
    saved = admin_site.post(path, longer)
    assert saved.status_code == 303, saved.text
    booking = read_booking(admin_site.db, booking_id)
    assert booking.canceled_at is None
    assert booking.shift_end == FRIDAY + timedelta(hours=4)
    assert booking.sequence == 1


def test_deleting_a_schedule_with_a_call_for_volunteers_is_a_page_not_a_500(
    admin_site: Site,
) -> None:
    schedule = admin_site.schedule
    with admin_site.db.write() as session:
        call = VolunteerCall(
            schedule_id=schedule.schedule_id,
            shift_start=FRIDAY,
            shift_end=FRIDAY + timedelta(hours=3),
            asked_at=admin_site.clock(),
            recipients=0,
            skipped_capped=0,
        )
        session.add(call)
    refused = admin_site.post(f"/admin/schedules/{schedule.schedule_id}/delete", {})
    assert refused.status_code == 409, refused.text
    assert "calls for volunteers" in refused.text
    assert "Deactivate it instead" in refused.text
    with admin_site.db.read() as session:
        assert session.get(Schedule, schedule.schedule_id) is not None
