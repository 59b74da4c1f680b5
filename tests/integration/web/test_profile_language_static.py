"""Profile, language, deleting the account; static files and compression."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from tests.integration.web.conftest import THANDI, Site
from watchroster.auth.models import AuthSession, User
from watchroster.bookings.models import Booking
from watchroster.core import i18n


def _translated(lang: str, text: str) -> str:
    """The catalogue's translation, which must exist (not fall back to English)."""
    translation = i18n.gettext_for(lang)(text)
    assert translation != text, f"no {lang} translation of {text!r}"
    return translation


def _user(site: Site) -> User:
    with site.db.read() as session:
        user = session.scalars(select(User)).one()
        return user


def test_profile_saves_name_reminders_and_language(site: Site) -> None:
    site.log_in()
    page = site.client.get("/profile").text
    assert 'value="Thandi Mokoena"' in page and ">Log out</button>" in page
    assert ">Delete my account</button>" in page
    saved = site.post("/profile", {"name": "Thandi", "language": "af"})  # reminders unticked
    assert saved.headers["location"] == "/profile?notice=saved"
    user = _user(site)
    assert (user.name, user.reminders, user.language) == ("Thandi", False, "af")
    shifts = site.client.get("/shifts").text
    assert '<html lang="af">' in shifts and _translated("af", "Open shifts") in shifts
    assert i18n.format_day(date(2025, 5, 9), "af") in shifts
    assert "Friday 9 May" not in shifts


def test_profile_chooses_sms_or_whatsapp_as_patch_me_does(site: Site) -> None:
    site.log_in()
    page = site.client.get("/profile").text
    assert '<option value="sms" selected>SMS</option>' in page
    saved = site.post("/profile", {"name": "Thandi", "channel": "whatsapp"})
    assert saved.headers["location"] == "/profile?notice=saved"
    assert _user(site).channel == "whatsapp"
    assert '<option value="whatsapp" selected>WhatsApp</option>' in site.client.get("/profile").text
    # A value the form never offers leaves the saved channel alone.
    site.post("/profile", {"name": "Thandi", "channel": "pigeon"})
    assert _user(site).channel == "whatsapp"


def test_browser_language_is_used_until_the_user_chooses(site: Site) -> None:
    login = site.client.get("/login", headers={"Accept-Language": "zu-ZA,zu;q=0.9,en;q=0.5"})
    assert '<html lang="zu">' in login.text and _translated("zu", "Log in") in login.text
    site.log_in()
    shifts = site.client.get("/shifts", headers={"Accept-Language": "zu"}).text
    assert _translated("zu", "Open shifts") in shifts
    assert i18n.format_day(date(2025, 5, 9), "zu") in shifts
    english = site.client.get("/shifts", headers={"Accept-Language": "fr"}).text
    assert '<html lang="en">' in english and "Open shifts" in english


def test_deleting_the_account_does_what_delete_me_does(site: Site) -> None:
    site.log_in()
    site.book()
    confirm = site.client.get("/profile/delete")
    assert ">Yes, delete my account</button>" in confirm.text
    deleted = site.post("/profile/delete", {})
    assert deleted.headers["location"] == "/login?notice=deleted"
    user = _user(site)
    assert user.phone is None and user.name is None and user.erased_at is not None
    with site.db.read() as session:
        assert all(s.revoked_at for s in session.scalars(select(AuthSession)))
        assert all(b.canceled_at for b in session.scalars(select(Booking)))
    assert site.client.get("/my", follow_redirects=False).status_code == 303
    assert THANDI not in site.client.get("/login?notice=deleted").text


def test_static_files_are_hashed_cached_for_a_year_and_gzipped(site: Site) -> None:
    page = site.client.get("/login").text
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert {u.rsplit(".", 1)[-1] for u in urls} == {"css", "js"}
    for url in urls:
        assert re.fullmatch(r"/static/(app|htmx)\.[0-9a-f]{10}\.(css|js)", url)
        response = site.client.get(url, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["content-encoding"] == "gzip"
        etag = response.headers["etag"]
        again = site.client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
    assert site.client.get("/static/app.0000000000.css").status_code == 404


def test_pages_are_compressed_but_not_the_json_hot_paths(site: Site) -> None:
    gz = {"Accept-Encoding": "gzip"}
    raw = site.client.get("/login", headers=gz)
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.text.startswith("<!doctype html>")  # httpx undid the gzip
    site.log_in()
    assert site.client.get("/shifts", headers=gz).headers["content-encoding"] == "gzip"
    for path in ("/shifts/available", "/healthz"):
        assert "content-encoding" not in site.client.get(path, headers=gz).headers


def test_pages_are_not_cached_and_have_one_h1_and_a_skip_link(site: Site) -> None:
    site.log_in()
    for path in ("/shifts", "/my", "/profile"):
        page = site.client.get(path)
        assert page.headers["cache-control"] == "no-store"
        assert page.text.count("<h1>") == 1 and 'href="#main"' in page.text
        assert '<main id="main">' in page.text and ">My shifts</a>" in page.text
