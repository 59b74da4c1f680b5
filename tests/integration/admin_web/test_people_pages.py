"""The console's People page through its forms, on both databases."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.integration.admin_web.conftest import ADMIN
from tests.integration.web.conftest import Site
from tests.support.factories import TEST_RULES, add_booking, add_user
from watchroster.auth.models import AuthSession, User
from watchroster.auth.service import erase_account

THANDI = "+27821234567"


def _user(site: Site, phone: str) -> User:
    with site.db.read() as session:
        return session.scalars(select(User).where(User.phone == phone)).one()


def _row(html: str, user_id: int) -> str:
    match = re.search(rf'<tr id="person-{user_id}".*?</tr>', html, re.S)
    assert match, f"no row for user {user_id}"
    return match.group(0)


def test_people_are_listed_with_masked_numbers_role_last_login_and_no_shows(
    admin_site: Site,
) -> None:
    thandi = add_user(admin_site.db, THANDI, "Thandi Mokoena")
    past = datetime(2025, 4, 25, 16, 0, tzinfo=UTC)
    missed = add_booking(admin_site.db, admin_site.schedule, thandi, past)
    add_booking(admin_site.db, admin_site.schedule, thandi, past - timedelta(days=7))
    with admin_site.db.write() as session:
        recorded = session.merge(missed)
        recorded.attendance_recorded_at, recorded.attended = past + timedelta(hours=4), False
        session.add(
            AuthSession(
                user_id=thandi.user_id,
                token_hash="x" * 64,
                created_at=datetime(2025, 4, 30, 17, 5, tzinfo=UTC),
                expires_at=datetime(2025, 5, 30, tzinfo=UTC),
            )
        )
    page = admin_site.client.get("/admin/people")
    assert page.status_code == 200
    row = _row(page.text, thandi.user_id)
    assert "Thandi Mokoena" in row and "+27 82 *** **67" in row
    assert THANDI not in page.text and "123 4567" not in page.text
    assert "Volunteer" in row and "Wednesday 30 April 19:05" in row  # Johannesburg time
    assert re.search(
        r'<td data-label="No-shows">1 <span[^>]*>\(1 not recorded\)</span></td>', row
    ), row
    admin_row = _row(page.text, _user(admin_site, ADMIN).user_id)
    assert "Coordinator" in admin_row and ">you<" in admin_row
    assert "Make coordinator" not in admin_row and "Deactivate" not in admin_row


def test_show_number_is_a_logged_post_and_the_log_line_is_masked(
    admin_site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    thandi = add_user(admin_site.db, THANDI, "Thandi Mokoena")
    assert admin_site.client.get(f"/admin/people/{thandi.user_id}/phone").status_code == 405
    with caplog.at_level(logging.INFO, logger="watchroster.people"):
        shown = admin_site.post(f"/admin/people/{thandi.user_id}/phone", {})
    assert shown.status_code == 200
    assert f'href="tel:{THANDI}"' in _row(shown.text, thandi.user_id)
    assert "+27 82 123 4567" in shown.text
    admin_id = _user(admin_site, ADMIN).user_id
    [line] = [r.getMessage() for r in caplog.records if r.name == "watchroster.people"]
    assert line == (
        f"admin {admin_id} looked at the phone number of user {thandi.user_id} (+2782*****67)"
    )
    assert THANDI not in caplog.text
    # Without the form's CSRF token nothing is shown (and nothing logged).
    caplog.clear()
    refused = admin_site.client.post(f"/admin/people/{thandi.user_id}/phone", data={})
    assert refused.status_code == 403 and THANDI not in refused.text
    assert not [r for r in caplog.records if r.name == "watchroster.people"]


def test_make_and_revoke_coordinator_deactivate_and_reactivate(admin_site: Site) -> None:
    thandi = add_user(admin_site.db, THANDI, "Thandi Mokoena")
    path = f"/admin/people/{thandi.user_id}"
    steps = [
        ("role", "admin", "promoted", ("admin", True)),
        ("role", "volunteer", "demoted", ("volunteer", True)),
        ("active", "false", "deactivated", ("volunteer", False)),
        ("active", "true", "reactivated", ("volunteer", True)),
    ]
    for what, value, done, expected in steps:
        answer = admin_site.post(f"{path}/{what}", {"value": value})
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/admin/people?did={done}#person-{thandi.user_id}"
        user = _user(admin_site, THANDI)
        assert (user.role, user.active) == expected
    page = admin_site.client.get("/admin/people?did=deactivated")
    assert "they are logged out and cannot log in" in page.text


def test_a_coordinator_cannot_lock_themselves_out(admin_site: Site) -> None:
    me = _user(admin_site, ADMIN)
    for what, value in (("role", "volunteer"), ("active", "false")):
        answer = admin_site.post(f"/admin/people/{me.user_id}/{what}", {"value": value})
        assert answer.headers["location"].startswith("/admin/people?did=own_access")
    assert (_user(admin_site, ADMIN).role, _user(admin_site, ADMIN).active) == ("admin", True)
    page = admin_site.client.get("/admin/people?did=own_access")
    assert 'role="alert"' in page.text and "Ask another coordinator" in page.text


def test_unknown_people_and_forged_values_get_a_readable_404(admin_site: Site) -> None:
    thandi = add_user(admin_site.db, THANDI, "Thandi")
    for path, data in (
        ("/admin/people/999999/role", {"value": "admin"}),
        ("/admin/people/x/role", {"value": "admin"}),
        (f"/admin/people/{thandi.user_id}/role", {"value": "king"}),
        (f"/admin/people/{thandi.user_id}/salary", {"value": "1"}),
        ("/admin/people/999999/phone", {}),
    ):
        answer = admin_site.post(path, data)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html")
    assert _user(admin_site, THANDI).role == "volunteer"


def test_a_volunteer_cannot_see_or_change_people(site: Site) -> None:
    site.log_in()
    thandi = _user(site, "+27821234567")
    assert site.client.get("/admin/people").status_code == 403
    refused = site.post(f"/admin/people/{thandi.user_id}/role", {"value": "admin"})
    assert refused.status_code == 403
    shown = site.post(f"/admin/people/{thandi.user_id}/phone", {})
    assert shown.status_code == 403 and "+27 82 123 4567" not in shown.text
    assert _user(site, "+27821234567").role == "volunteer"


def test_an_erased_account_shows_no_number_and_no_actions(admin_site: Site) -> None:
    gone = add_user(admin_site.db, THANDI, "Thandi Mokoena")
    with admin_site.db.write() as session:
        erase_account(session, gone.user_id, admin_site.clock(), TEST_RULES, hooks=())
    row = _row(admin_site.client.get("/admin/people").text, gone.user_id)
    assert "Erased account" in row and "Thandi" not in row
    assert "<form" not in row
    assert admin_site.post(f"/admin/people/{gone.user_id}/phone", {}).status_code == 404
    refused = admin_site.post(f"/admin/people/{gone.user_id}/active", {"value": "true"})
    assert refused.headers["location"].startswith("/admin/people?did=erased")
