"""The cookie authenticates pages only; CSRF; expired and revoked sessions; privacy."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.integration.web.conftest import FRIDAY, SIPHO, THANDI, Site, second_browser
from watchroster.auth.models import AuthSession
from watchroster.web.sessions import login_url


def test_the_session_cookie_alone_does_not_authenticate_the_json_api(site: Site) -> None:
    site.log_in()
    assert site.client.cookies.get("wr_session")
    body = {"schedule_id": site.schedule.schedule_id, "start_time": FRIDAY}
    assert site.client.post("/bookings", json=body).status_code == 401
    assert site.client.get("/me").status_code == 401
    assert site.client.get("/bookings").status_code == 401
    assert site.count_bookings() == 0


def test_a_form_post_without_the_csrf_token_is_refused_and_changes_nothing(site: Site) -> None:
    site.log_in()
    data = {"schedule_id": str(site.schedule.schedule_id), "start": FRIDAY}
    forged = site.client.post("/shifts/book", data=data, follow_redirects=False)
    assert forged.status_code == 403
    assert "This form has expired" in forged.text and "Nothing was changed" in forged.text
    wrong = site.client.post(
        "/shifts/book", data={**data, "csrf_token": "0" * 64}, follow_redirects=False
    )
    assert wrong.status_code == 403
    assert site.count_bookings() == 0
    assert site.book().status_code == 303 and site.count_bookings() == 1


def test_a_token_from_another_browser_does_not_pass(site: Site) -> None:
    """The token is bound to the browser's own cookie: an attacker's own token is useless."""
    attacker = second_browser(site)
    their_token = attacker.token()
    site.log_in()
    data = {"schedule_id": str(site.schedule.schedule_id), "start": FRIDAY}
    forged = site.client.post(
        "/shifts/book", data={**data, "csrf_token": their_token}, follow_redirects=False
    )
    assert forged.status_code == 403 and site.count_bookings() == 0


@pytest.mark.parametrize("path", ["/login", "/login/code", "/logout", "/profile/delete"])
def test_every_form_is_protected_including_login(site: Site, path: str) -> None:
    site.client.get("/login")  # has the CSRF cookie, but posts no token
    response = site.client.post(path, data={"phone": THANDI}, follow_redirects=False)
    assert response.status_code == 403


def test_htmx_sends_the_token_as_a_header(site: Site) -> None:
    site.log_in()
    token = site.token("/shifts")
    data = {"schedule_id": str(site.schedule.schedule_id), "start": FRIDAY}
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    booked = site.client.post("/shifts/book", data=data, headers=headers)
    assert booked.status_code == 200 and "Your shift is booked." in booked.text
    assert site.count_bookings() == 1


def test_logout_revokes_the_session(site: Site) -> None:
    site.log_in()
    token = site.client.cookies.get("wr_session")
    assert token
    out = site.post("/logout", {})
    assert out.status_code == 303 and out.headers["location"].startswith("/login")
    with site.db.read() as session:
        revoked = session.scalars(select(AuthSession.revoked_at)).all()
    assert revoked and all(at is not None for at in revoked)
    site.client.cookies.set("wr_session", token)  # a copy kept by someone: still useless
    page = site.client.get("/my", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/my"


def test_an_expired_session_goes_to_login_and_then_back(site: Site) -> None:
    site.log_in()
    site.clock.advance(days=site.settings.session_ttl_days, seconds=1)
    page = site.client.get("/shifts?schedule_id=1", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/shifts%3Fschedule_id%3D1"
    login_page = site.client.get(page.headers["location"])
    assert 'name="next" value="/shifts?schedule_id=1"' in login_page.text
    back = site.log_in(next_path="/shifts?schedule_id=1").headers["location"]
    assert back == "/shifts?schedule_id=1"


def test_htmx_request_with_a_dead_session_reloads_to_the_login_page(site: Site) -> None:
    page = site.client.get("/my", headers={"HX-Request": "true"}, follow_redirects=False)
    assert page.headers["HX-Redirect"] == "/login?next=/my"


def test_no_page_shows_another_persons_phone_number(site: Site) -> None:
    sipho = second_browser(site)
    sipho.log_in(SIPHO, "Sipho Dlamini")
    site.log_in(THANDI, "Thandi Mokoena")
    booked = site.book(buddy_phone="082 123 4568", buddy_name="Sipho Dlamini")
    assert booked.status_code == 303
    (booking_id,) = site.booking_ids()
    site.clock.advance(days=1, hours=8)  # the shift has started
    pages = ["/shifts", "/my", f"/my/{booking_id}", "/profile"]
    for page in pages:
        html = site.client.get(page).text
        assert SIPHO not in html and "082 123 4568" not in html and "821234568" not in html
        assert "Dlamini" not in html
    buddy_pages = [sipho.client.get(page).text for page in ("/my", f"/my/{booking_id}")]
    assert "Thandi" in buddy_pages[0]  # the buddy sees who booked, by first name only
    for html in buddy_pages:
        assert THANDI not in html and "082 123 4567" not in html and "Mokoena" not in html


def test_unknown_paths_stay_json_404(site: Site) -> None:
    response = site.client.get("/no-such-page")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_pending_login_cookie_expires_with_the_code(site: Site) -> None:
    site.post("/login", {"phone": THANDI})
    site.clock.advance(seconds=site.settings.otp_ttl_seconds + 1)
    assert site.client.get("/login/code", follow_redirects=False).headers["location"] == "/login"


def test_a_form_posted_after_the_session_ended_comes_back_to_its_page(site: Site) -> None:
    site.log_in()
    site.book()
    (booking_id,) = site.booking_ids()
    token = site.token("/my")
    site.clock.advance(days=site.settings.session_ttl_days, seconds=1)
    for action, page in (("report", f"/my/{booking_id}"), ("cancel", f"/my/{booking_id}/cancel")):
        response = site.client.post(
            f"/my/{booking_id}/{action}", data={"csrf_token": token}, follow_redirects=False
        )
        assert response.headers["location"] == login_url(page)
    assert site.count_bookings() == 1
