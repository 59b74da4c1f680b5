"""The pages of issue #12 §3 and §5, as a browser without JavaScript uses them: the buddy's
shift, "I can't come", changing the buddy, the buddy's own attendance and report, and "Home
safe" once the shift has ended."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.integration.web.conftest import SIPHO, THANDI, Site, csrf_token, second_browser
from tests.support.factories import add_booking, add_schedule, add_user, read_booking
from watchroster.schedules.models import Schedule

ZODWA = "+27821234570"


def _thandi_books_with_sipho(site: Site) -> tuple[Site, int]:
    """Sipho (registered) in his own browser; Thandi books Friday naming him by phone."""
    sipho = second_browser(site)
    sipho.log_in(SIPHO, "Sipho Dlamini")
    site.log_in(THANDI, "Thandi Mokoena")
    assert site.book(buddy_phone="082 123 4568").status_code == 303
    (booking_id,) = site.booking_ids()
    assert read_booking(site.db, booking_id).buddy_user_id is not None
    return sipho, booking_id


def test_the_buddy_declines_after_a_confirmation(site: Site) -> None:
    sipho, booking_id = _thandi_books_with_sipho(site)
    my = sipho.client.get("/my").text
    assert "You are the buddy" in my and f'href="/my/{booking_id}"' in my
    assert f'action="/my/{booking_id}/decline"' in my and "I can't come" in my
    page = sipho.client.get(f"/my/{booking_id}/decline")
    assert page.status_code == 200
    assert "We will tell Thandi, who keeps the shift" in page.text
    assert read_booking(site.db, booking_id).buddy_user_id is not None  # asking changes nothing
    done = sipho.post(f"/my/{booking_id}/decline", {})
    assert done.headers["location"] == "/my?notice=declined"
    assert "no longer the buddy" in sipho.client.get(done.headers["location"]).text
    assert read_booking(site.db, booking_id).buddy_user_id is None
    assert [m.recipient for m in site.messages("buddy_declined")] == [THANDI]
    # It is no longer his: the same "not found" as anyone else's booking.
    assert sipho.client.get(f"/my/{booking_id}").status_code == 404
    assert sipho.post(f"/my/{booking_id}/decline", {}).status_code == 404
    # Thandi is not the buddy: no such button, and going there says so.
    mine = site.client.get(f"/my/{booking_id}").text
    assert "I can't come" not in mine
    refused = site.client.get(f"/my/{booking_id}/decline", follow_redirects=False)
    assert refused.headers["location"] == f"/my/{booking_id}?notice=cannot_change"


def test_the_volunteer_changes_the_buddy_with_errors_in_words(site: Site) -> None:
    sipho, booking_id = _thandi_books_with_sipho(site)
    zodwa = add_user(site.db, ZODWA, "Zodwa Khumalo")
    page = site.client.get(f"/my/{booking_id}")
    assert f'href="/my/{booking_id}/buddy"' in page.text
    form = site.client.get(f"/my/{booking_id}/buddy").text
    assert "Now with Sipho" in form and 'name="buddy_phone"' in form
    bad = site.post(f"/my/{booking_id}/buddy", {"buddy_phone": "12345", "buddy_name": "Z"})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text
    assert 'value="Z"' in bad.text
    mine = site.post(f"/my/{booking_id}/buddy", {"buddy_phone": "082 123 4567"})
    assert mine.status_code == 400 and "You cannot be your own buddy." in mine.text
    # Zodwa is busy: she booked an overlapping shift of another schedule.
    evening = add_schedule(site.db, name="Evening patrol", cron_expr="0 19 * * FRI")
    add_booking(site.db, evening, zodwa, datetime(2025, 5, 2, 17, 0, tzinfo=UTC))
    busy = site.post(f"/my/{booking_id}/buddy", {"buddy_phone": "082 123 4570"})
    assert busy.status_code == 409 and 'role="alert"' in busy.text
    assert "already on another shift" in busy.text
    assert read_booking(site.db, booking_id).buddy_user_id is not None  # still Sipho
    # Sipho is the buddy, not the one who booked: no form for him.
    assert sipho.client.get(f"/my/{booking_id}/buddy", follow_redirects=False).status_code == 303
    cleared = site.post(f"/my/{booking_id}/buddy", {"buddy_name": "Neighbour"})
    assert cleared.headers["location"] == f"/my/{booking_id}?notice=buddy_changed"
    row = read_booking(site.db, booking_id)
    assert (row.buddy_user_id, row.buddy_name) == (None, "Neighbour")
    assert [m.recipient for m in site.messages("buddy_removed")] == [SIPHO]


def test_the_buddy_records_their_attendance_and_reports(site: Site) -> None:
    sipho, booking_id = _thandi_books_with_sipho(site)
    site.clock.advance(days=1, hours=8, minutes=30)  # Friday 18:30 local: under way
    my = sipho.client.get("/my").text
    assert "Were you there?" in my and f'href="/my/{booking_id}"' in my
    page = sipho.client.get(f"/my/{booking_id}").text
    assert 'name="as_buddy"' in page and ">I was there</button>" in page
    assert "My buddy was there" not in page and "Send report" in page
    done = sipho.post(f"/my/{booking_id}/attendance", {"as_buddy": "1", "attended": "yes"})
    assert done.headers["location"] == f"/my/{booking_id}?notice=attendance"
    row = read_booking(site.db, booking_id)
    assert (row.buddy_attended, row.attendance_recorded_at) == (True, None)
    assert "You were there" in sipho.client.get("/my").text
    # A forged form without the buddy flag would record Thandi's attendance: refused.
    forged = sipho.post(f"/my/{booking_id}/attendance", {"attended": "yes"})
    assert forged.status_code == 404
    assert read_booking(site.db, booking_id).attendance_recorded_at is None
    sent = sipho.post(f"/my/{booking_id}/report", {"severity": "1", "message": "Gate open"})
    assert sent.headers["location"] == f"/my/{booking_id}?notice=report"


def _check_in(site: Site, minutes: int | None) -> None:
    with site.db.write() as session:
        schedule = session.get(Schedule, site.schedule.schedule_id)
        assert schedule is not None
        schedule.check_in_minutes = minutes


def test_home_safe_once_the_shift_has_ended(site: Site) -> None:
    sipho, booking_id = _thandi_books_with_sipho(site)
    _check_in(site, 30)
    site.clock.advance(days=1, hours=10, minutes=30)  # Friday 20:30: under way
    assert "Home safe</button>" not in site.client.get(f"/my/{booking_id}").text
    early = site.post(f"/my/{booking_id}/safe", {})
    assert early.headers["location"] == f"/my/{booking_id}?notice=not_ended"
    site.clock.advance(minutes=45)  # 21:15, ended
    for browser in (site, sipho):
        assert "Home safe</button>" in browser.client.get(f"/my/{booking_id}").text
        listed = browser.client.get("/my").text  # on My shifts too, next to the shift
        form = listed[listed.index(f'action="/my/{booking_id}/safe"') :]
        assert csrf_token(form) and "Home safe</button>" in form
    done = sipho.post(f"/my/{booking_id}/safe", {})
    assert done.headers["location"] == f"/my/{booking_id}?notice=safe"
    shown = site.client.get(f"/my/{booking_id}").text
    assert "Home safe: marked" in shown and "Home safe</button>" not in shown
    assert read_booking(site.db, booking_id).safe_at is not None
    assert f'action="/my/{booking_id}/safe"' not in site.client.get("/my").text
    stranger = second_browser(site)
    stranger.log_in(ZODWA, "Zodwa")
    assert stranger.post(f"/my/{booking_id}/safe", {}).status_code == 404


def test_no_home_safe_button_where_the_schedule_does_not_check(site: Site) -> None:
    _sipho, booking_id = _thandi_books_with_sipho(site)
    site.clock.advance(days=1, hours=11, minutes=15)  # Friday 21:15, ended
    assert "Home safe</button>" not in site.client.get(f"/my/{booking_id}").text
    assert "Home safe</button>" not in site.client.get("/my").text
    _check_in(site, 30)
    assert "Home safe</button>" in site.client.get("/my").text
    site.clock.advance(days=2)  # long past: history, no longer asked
    assert "Home safe</button>" not in site.client.get("/my").text


def test_booking_with_a_busy_buddy_says_so_next_to_the_field(site: Site) -> None:
    sipho = second_browser(site)
    sipho.log_in(SIPHO, "Sipho Dlamini")
    assert sipho.book().status_code == 303  # Sipho patrols Friday himself
    evening = add_schedule(site.db, name="Evening patrol", cron_expr="0 19 * * FRI")
    site.log_in(THANDI, "Thandi Mokoena")
    data = {
        "schedule_id": str(evening.schedule_id),
        "start": "2025-05-02T19:00:00+02:00",
        "buddy_phone": "082 123 4568",
        "buddy_name": "Sipho",
    }
    page = site.post("/shifts/book", data)
    assert page.status_code == 409
    assert "Your buddy is already on another shift at this time." in page.text
    assert 'aria-invalid="true"' in page.text and 'value="Sipho"' in page.text
    assert site.count_bookings() == 1
