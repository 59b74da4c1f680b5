"""CSRF tokens bound to the session (issue #21 §3).

The attack: a page on another port of the same host (or a sibling subdomain) can set cookies for
this host. It fetches a cookie+token pair of its own, plants the cookie in a logged-in member's
browser and posts a form with its token. A token bound only to a cookie the attacker can write
lets that through; a token bound to the member's session does not.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from tests.integration.auth.helpers import client_with, last_code
from tests.integration.web.conftest import SIPHO, THANDI, Site, csrf_token, second_browser
from watchroster.auth.models import User
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.web.sessions import login_url


def _name_of(site: Site, phone: str) -> str | None:
    with site.db.read() as session:
        return session.scalar(select(User.name).where(User.phone == phone))


def _plant(site: Site, name: str, value: str) -> None:
    """What `document.cookie = …` on the other origin does: replace the browser's cookie."""
    site.client.cookies.delete(name)
    site.client.cookies.set(name, value)


def _post_profile(site: Site, token: str, name: str = "Changed") -> Any:
    data = {"csrf_token": token, "name": name, "channel": "sms"}
    return site.client.post("/profile", data=data, follow_redirects=False)


def test_a_planted_pre_login_pair_cannot_change_a_logged_in_profile(site: Site) -> None:
    outsider = second_browser(site)
    token = csrf_token(outsider.client.get("/login").text)
    cookie = outsider.client.cookies.get("wr_csrf")
    assert cookie, "the login page hands out a pre-login cookie"
    site.log_in(THANDI, "Thandi")

    _plant(site, "wr_csrf", cookie)
    forged = _post_profile(site, token)
    assert forged.status_code == 403 and "This form has expired" in forged.text
    assert _name_of(site, THANDI) == "Thandi"


def test_a_token_of_one_session_is_refused_in_another(site: Site) -> None:
    attacker = second_browser(site)
    attacker.log_in(SIPHO, "Sipho")
    their_token = attacker.token("/profile")
    their_cookie = attacker.client.cookies.get("wr_csrf")  # None once tokens follow sessions
    site.log_in(THANDI, "Thandi")

    if their_cookie:
        _plant(site, "wr_csrf", their_cookie)
    assert _post_profile(site, their_token).status_code == 403
    assert _name_of(site, THANDI) == "Thandi"
    # The attacker's token still works in the attacker's own session, and the member's own
    # token in the member's.
    assert _post_profile(attacker, their_token, "Sipho D").status_code == 303
    assert _post_profile(site, site.token("/profile"), "Thandi M").status_code == 303
    assert (_name_of(site, SIPHO), _name_of(site, THANDI)) == ("Sipho D", "Thandi M")


def test_the_token_changes_at_login_and_the_pre_login_one_stops_working(site: Site) -> None:
    before = site.token("/login")
    verified = site.log_in(THANDI, "Thandi")
    assert "wr_csrf=" in verified.headers.get("set-cookie", ""), "the pre-login cookie goes"
    after = site.token("/profile")
    assert after != before
    assert _post_profile(site, before).status_code == 403
    assert _name_of(site, THANDI) == "Thandi"
    assert _post_profile(site, after).status_code == 303


def test_the_token_changes_at_logout(site: Site) -> None:
    site.log_in(THANDI, "Thandi")
    first_session = site.token("/profile")
    out = site.client.post("/logout", data={"csrf_token": first_session}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login?notice=logged_out"
    site.clock.advance(seconds=site.settings.otp_resend_seconds + 1)  # a new code may be sent
    site.log_in(THANDI, "Thandi")

    second_session = site.token("/profile")
    assert second_session != first_session
    assert _post_profile(site, first_session).status_code == 403
    assert _name_of(site, THANDI) == "Thandi"
    assert _post_profile(site, second_session).status_code == 303


def test_login_forms_take_only_the_pre_login_token(site: Site) -> None:
    site.log_in(THANDI, "Thandi")
    session_token = site.token("/profile")
    stranger = second_browser(site)
    stranger.client.get("/login")  # a pre-login cookie of its own, but someone else's token
    sent = stranger.client.post(
        "/login", data={"phone": SIPHO, "csrf_token": session_token}, follow_redirects=False
    )
    assert sent.status_code == 403
    assert stranger.post("/login", {"phone": SIPHO}).status_code == 303


def test_a_form_whose_session_cookie_is_gone_goes_to_login_not_to_an_error(site: Site) -> None:
    """The browser drops the cookie when the session ends: a form left open is a login away."""
    site.log_in(THANDI, "Thandi")
    token = site.token("/profile")
    site.client.cookies.delete("wr_session")
    response = _post_profile(site, token)
    assert response.status_code == 303 and response.headers["location"] == login_url("/profile")
    assert _post_profile(site, "").status_code == 403  # no token at all: not our form
    assert _name_of(site, THANDI) == "Thandi"


def test_a_token_that_is_not_ascii_is_refused_not_a_crash(site: Site) -> None:
    site.log_in(THANDI, "Thandi")
    assert _post_profile(site, "é" * 64).status_code == 403
    site.client.cookies.delete("wr_session")
    site.client.get("/login")
    sent = site.client.post("/login", data={"phone": SIPHO, "csrf_token": "²"})
    assert sent.status_code == 403


# --- the cookies' names over HTTPS --------------------------------------------------------------


def _set_cookies(response: Any) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        for name, morsel in cookie.items():
            found[name] = {key: str(morsel[key]) for key in morsel if morsel[key]}
    return found


def _host_prefixed(flags: dict[str, str]) -> bool:
    """What a browser demands of a `__Host-` cookie: Secure, Path=/, no Domain."""
    return bool(flags.get("secure")) and flags.get("path") == "/" and "domain" not in flags


def _log_in_over(client: TestClient, site: Site) -> tuple[Any, Any, Any]:
    page = client.get("/login")
    token = csrf_token(page.text)
    sent = client.post(
        "/login", data={"phone": THANDI, "csrf_token": token}, follow_redirects=False
    )
    code = last_code(site.db, site.settings, THANDI)
    verified = client.post(
        "/login/code", data={"code": code, "csrf_token": token}, follow_redirects=False
    )
    return page, sent, verified


def test_over_https_the_cookies_carry_the_host_prefix(site: Site) -> None:
    client = TestClient(site.client.app, base_url="https://testserver")
    page, sent, verified = _log_in_over(client, site)
    assert verified.status_code == 303, verified.text
    cookies = {**_set_cookies(page), **_set_cookies(sent), **_set_cookies(verified)}
    for name in ("__Host-wr_csrf", "__Host-wr_login", "__Host-wr_session"):
        assert name in cookies and _host_prefixed(cookies[name]), (name, cookies)
    assert not {"wr_csrf", "wr_login", "wr_session"} & set(cookies)

    saved = client.post(
        "/profile", data={"csrf_token": csrf_token(client.get("/profile").text), "name": "T"}
    )
    assert saved.status_code == 200 and _name_of(site, THANDI) == "T"
    # A cookie without the prefix (which a sibling site can set) is not the session.
    session = client.cookies.get("__Host-wr_session")
    assert session
    client.cookies.clear()
    client.cookies.set("wr_session", session)
    page = client.get("/profile", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == login_url("/profile")


def test_over_plain_http_in_development_the_names_are_plain(site: Site) -> None:
    page, sent, verified = _log_in_over(site.client, site)
    cookies = {**_set_cookies(page), **_set_cookies(sent), **_set_cookies(verified)}
    assert {"wr_csrf", "wr_login", "wr_session"} <= set(cookies)
    assert not any(name.startswith("__Host-") for name in cookies)


def test_in_production_behind_a_tls_proxy_the_prefix_is_used(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    overrides: dict[str, Any] = {
        "env": "production",
        "secret_key": SecretStr("p" * 40),
        "allow_dev_message_backend": True,
    }
    with client_with(db, settings, clock, **overrides) as client:
        page = client.get("/login")  # the proxy speaks plain http to the app
        assert _host_prefixed(_set_cookies(page)["__Host-wr_csrf"])


def test_a_site_whose_address_is_https_uses_the_prefix(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    with client_with(db, settings, clock, public_url="https://watch.example.org") as client:
        page = client.get("/login")  # behind a TLS proxy in development mode
        assert _host_prefixed(_set_cookies(page)["__Host-wr_csrf"])
