"""Sessions and CSRF in the browser: cookie flags, forms without a token, the API stays Bearer-only,
logging out and deleting the account end the session for good."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from tests.browser.conftest import NewPage
from tests.browser.pages import (
    Audit,
    confirm_booking,
    first_open_slot,
    log_in,
    session_cookie,
)
from tests.browser.site import Site, new_volunteer
from tests.integration.outbox.processes import wait_for
from watchroster.auth.models import AuthSession, User

pytestmark = pytest.mark.slow

EVERY_EVENING = "0 18 * * *"
Form = dict[str, str | float | bool]


def _post_form(
    page: Page, path: str, fields: dict[str, str | float | bool]
) -> tuple[int, str, str]:
    """POST a form from the logged-in browser context (its cookies), without following redirects."""
    response = page.context.request.post(f"{path}", form=fields, max_redirects=0)
    return response.status, response.headers.get("content-type", ""), response.text()


def test_the_session_cookie_is_httponly_and_samesite_lax(site: Site, new_page: NewPage) -> None:
    page = new_page()
    log_in(page, site, new_volunteer("Lerato"))
    cookie = session_cookie(page)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["secure"] is False, "plain http in development: a Secure cookie would be lost"
    assert "wr_session" not in page.evaluate("document.cookie"), "scripts cannot read it"


def test_the_cookie_alone_does_not_authenticate_the_json_api(site: Site, new_page: NewPage) -> None:
    schedule_id = site.add_schedule("Cookie patrol", EVERY_EVENING)
    slot = first_open_slot(site, schedule_id)
    page = new_page()
    log_in(page, site, new_volunteer("Musa"))
    api = page.context.request  # sends the browser's cookies

    assert api.get(f"{site.url}/me").status == 401
    booking = {"schedule_id": schedule_id, "start_time": slot.start.isoformat()}
    assert api.post(f"{site.url}/bookings", data=booking).status == 401
    assert site.count_bookings(schedule_id) == 0


def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(
    site: Site, new_page: NewPage, audit: Audit
) -> None:
    schedule_id = site.add_schedule("Forged patrol", EVERY_EVENING)
    slot = first_open_slot(site, schedule_id)
    page = new_page()
    log_in(page, site, new_volunteer("Gift"))
    fields: Form = {
        "schedule_id": str(schedule_id),
        "start": slot.local_start.isoformat(),
    }

    no_token: list[Form] = [{}, {"csrf_token": "forged"}]
    for token in no_token:
        status, content_type, body = _post_form(page, f"{site.url}/shifts/book", fields | token)
        assert status == 403, body
        assert content_type.startswith("text/html"), "a page, not JSON"
    assert site.count_bookings(schedule_id) == 0
    assert _post_form(page, f"{site.url}/logout", {})[0] == 403
    page.goto(f"{site.url}/shifts")
    expect(page).to_have_url(re.compile(r"/shifts$"))  # the refused logout changed nothing

    # A page whose form lost its token, as a volunteer would meet it: the 403 page in words.
    page.evaluate(
        """(fields) => {
            const form = document.createElement('form');
            form.method = 'post'; form.action = '/shifts/book';
            for (const [name, value] of Object.entries(fields)) {
                const input = document.createElement('input');
                input.type = 'hidden'; input.name = name; input.value = value; form.append(input);
            }
            document.body.append(form); form.submit();
        }""",
        fields,
    )
    expect(page.get_by_text(re.compile(r"This form has expired"))).to_be_visible()
    expect(page.get_by_role("link").first).to_be_visible()
    audit(page, "csrf-refused")
    assert site.count_bookings(schedule_id) == 0


def test_a_cancel_without_its_token_keeps_the_booking(site: Site, new_page: NewPage) -> None:
    schedule_id = site.add_schedule("Kept patrol", EVERY_EVENING)
    page = new_page()
    log_in(page, site, new_volunteer("Dineo"))
    confirm_booking(page, site, first_open_slot(site, schedule_id))
    wait_for(lambda: len(site.active_bookings(schedule_id)) == 1, 10, "the booking")
    [booking] = site.active_bookings(schedule_id)

    status, _, body = _post_form(page, f"{site.url}/my/{booking.booking_id}/cancel", {})
    assert status == 403, body
    assert [b.booking_id for b in site.active_bookings(schedule_id)] == [booking.booking_id]


def test_the_login_form_is_protected_too(site: Site, new_page: NewPage) -> None:
    volunteer = new_volunteer("Precious")
    page = new_page()
    page.goto(f"{site.url}/login")
    status, _, _ = _post_form(page, f"{site.url}/login", {"phone": volunteer.national})
    assert status == 403
    assert site.codes_sent(volunteer) == 0


def _sessions_of(site: Site, user_id: int) -> list[AuthSession]:
    with site.database.read() as session:
        query = select(AuthSession).where(AuthSession.user_id == user_id)
        return list(session.scalars(query))


def _user_id(site: Site, phone: str) -> int:
    with site.database.read() as session:
        user_id = session.scalar(select(User.user_id).where(User.phone == phone))
        assert user_id is not None
        return user_id


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_logging_out_revokes_the_session(
    site: Site, new_page: NewPage, audit: Audit, javascript: bool
) -> None:
    volunteer = new_volunteer("Themba")
    page = new_page(java_script_enabled=javascript)
    log_in(page, site, volunteer)
    stolen = session_cookie(page)

    page.goto(f"{site.url}/profile")
    (audit if javascript else audit.without_axe())(page, "profile")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_label("Phone number")).to_be_visible()
    [row] = _sessions_of(site, _user_id(site, volunteer.e164))
    assert row.revoked_at is not None

    # The old cookie, replayed from another browser, is worth nothing now.
    replay = new_page()
    replay.context.add_cookies([stolen])  # type: ignore[list-item]
    replay.goto(f"{site.url}/my")
    expect(replay).to_have_url(re.compile(r"/login\?next=(%2F|/)my$"))


def test_deleting_the_account_does_what_delete_me_does(
    site: Site, new_page: NewPage, audit: Audit
) -> None:
    schedule_id = site.add_schedule("Farewell patrol", EVERY_EVENING)
    page = new_page()
    log_in(page, site, new_volunteer("Karabo"))
    stolen = session_cookie(page)
    confirm_booking(page, site, first_open_slot(site, schedule_id))
    [booking] = site.active_bookings(schedule_id)

    page.goto(f"{site.url}/profile")
    page.get_by_role("button", name="Delete my account").or_(
        page.get_by_role("link", name="Delete my account")
    ).first.click()
    confirm = page.get_by_role("button", name=re.compile(r"delete", re.IGNORECASE))
    expect(confirm).to_be_visible()
    audit(page, "delete-confirm")
    confirm.click()

    expect(page.get_by_label("Phone number")).to_be_visible()
    with site.database.read() as session:
        user = session.get(User, booking.user_id)
        assert user is not None and user.erased_at is not None
        assert (user.phone, user.name, user.active) == (None, None, False)
    assert site.active_bookings(schedule_id) == [], "future bookings cancelled, as DELETE /me"
    assert all(row.revoked_at is not None for row in _sessions_of(site, booking.user_id))
    replay = new_page()
    replay.context.add_cookies([stolen])  # type: ignore[list-item]
    replay.goto(f"{site.url}/shifts")
    expect(replay).to_have_url(re.compile(r"/login"))


def test_an_expired_session_leads_to_the_login_page_and_back(site: Site, new_page: NewPage) -> None:
    volunteer = new_volunteer("Mpho")
    page = new_page()
    log_in(page, site, volunteer)
    with site.database.write() as session:
        session.execute(
            update(AuthSession)
            .where(AuthSession.user_id == _user_id(site, volunteer.e164))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    page.goto(f"{site.url}/profile")
    expect(page).to_have_url(re.compile(r"/login\?next=(%2F|/)profile$"))
    expect(page.get_by_label("Phone number")).to_be_visible()
