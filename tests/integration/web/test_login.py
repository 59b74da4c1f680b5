"""Logging in through the pages: the API's service functions, its limits, the session cookie."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.integration.auth.helpers import client_with, last_code, otp_rows
from tests.integration.web.conftest import THANDI, Site, csrf_token
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database


def _cookie_attributes(response_headers: list[str], name: str) -> dict[str, str]:
    for header in response_headers:
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        if name in cookie:
            morsel = cookie[name]
            flags = {key: str(morsel[key]) for key in morsel if morsel[key]}
            return {"value": morsel.value, **flags}
    raise AssertionError(f"no Set-Cookie for {name}")


def test_login_page_is_the_home_page_when_logged_out(site: Site) -> None:
    page = site.client.get("/")
    assert page.status_code == 200
    assert '<label for="phone">Phone number</label>' in page.text
    assert 'type="tel"' in page.text and 'autocomplete="tel"' in page.text
    assert "Your first name" in page.text and ">Send code</button>" in page.text
    assert "SMS or WhatsApp" in page.text


def test_code_step_then_session_cookie_then_home_is_open_shifts(site: Site) -> None:
    sent = site.post("/login", {"phone": "082 123 4567", "name": "Thandi"})
    assert sent.headers["location"] == "/login/code"
    assert "082" not in sent.headers["location"] and THANDI not in sent.headers["location"]
    code_page = site.client.get("/login/code")
    assert 'autocomplete="one-time-code"' in code_page.text
    assert 'inputmode="numeric"' in code_page.text and ">Log in</button>" in code_page.text
    assert "082 123 4567" in code_page.text  # their own number, so they can spot a typo
    code = last_code(site.db, site.settings, THANDI)
    verified = site.post("/login/code", {"code": f" {code[:3]} {code[3:]} "})  # as pasted
    assert verified.status_code == 303 and verified.headers["location"] == "/shifts"
    flags = _cookie_attributes(verified.headers.get_list("set-cookie"), "wr_session")
    assert flags["httponly"] and flags["samesite"].lower() == "lax" and flags["path"] == "/"
    assert "secure" not in flags  # plain http in development
    home = site.client.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/shifts"
    assert site.client.get("/shifts").status_code == 200


def test_after_login_back_to_the_page_asked_for_but_never_off_site(site: Site) -> None:
    page = site.client.get("/login", params={"next": "/my"})
    assert 'name="next" value="/my"' in page.text
    token = csrf_token(page.text)
    site.client.post(
        "/login", data={"phone": THANDI, "next": "//evil.example/x", "csrf_token": token}
    )
    code = last_code(site.db, site.settings, THANDI)
    verified = site.post("/login/code", {"code": code})
    assert verified.headers["location"] == "/shifts"


def test_wrong_code_is_said_in_words_next_to_the_field(site: Site) -> None:
    site.post("/login", {"phone": THANDI})
    code = last_code(site.db, site.settings, THANDI)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page = site.post("/login/code", {"code": wrong})
    assert page.status_code == 400
    assert 'role="alert"' in page.text and "not right or has expired" in page.text
    assert "wr_session" not in page.headers.get("set-cookie", "")


def test_invalid_phone_is_a_field_error_not_a_json_body(site: Site) -> None:
    page = site.post("/login", {"phone": "12345"})
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert 'aria-invalid="true"' in page.text and 'id="phone-error"' in page.text
    assert otp_rows(site.db) == []


def test_resend_limit_in_words_with_the_time(site: Site) -> None:
    site.post("/login", {"phone": THANDI})
    again = site.post("/login", {"phone": THANDI})
    assert again.status_code == 429
    # 08:00 UTC is 10:00 in Johannesburg; the resend wait is 60 s.
    assert "Please wait 60 seconds (until 10:01) before asking for a new code." in again.text
    assert len(otp_rows(site.db, THANDI)) == 1
    code_page = site.client.get("/login/code")
    assert "Send a new code" not in code_page.text and "10:01" in code_page.text
    site.clock.advance(seconds=61)
    code_page = site.client.get("/login/code")
    assert ">Send a new code</button>" in code_page.text
    resent = site.post("/login/resend", {})
    assert resent.status_code == 303 and len(otp_rows(site.db, THANDI)) == 2


def test_code_step_without_a_pending_login_goes_back_to_the_phone_step(site: Site) -> None:
    assert site.client.get("/login/code", follow_redirects=False).headers["location"] == "/login"
    site.client.cookies.set("wr_login", "forged.value")
    assert site.client.get("/login/code", follow_redirects=False).headers["location"] == "/login"


def test_cookies_are_secure_in_production(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    overrides: dict[str, Any] = {
        "env": "production",
        "secret_key": SecretStr("p" * 40),
        "allow_dev_message_backend": True,
    }
    with client_with(db, settings, clock, **overrides) as client:
        # Behind its TLS proxy: a browser sends Secure cookies back over https only.
        client.base_url = "https://testserver"
        page = client.get("/login")
        # Over HTTPS the cookies carry the `__Host-` prefix (issue #21 §3).
        flags = _cookie_attributes(page.headers.get_list("set-cookie"), "__Host-wr_csrf")
        assert flags["secure"] and flags["httponly"]
        sent = client.post(
            "/login",
            data={"phone": THANDI, "csrf_token": csrf_token(page.text)},
            follow_redirects=False,
        )
        login_cookie = _cookie_attributes(sent.headers.get_list("set-cookie"), "__Host-wr_login")
        assert login_cookie["secure"]


def test_session_cookie_is_secure_over_https(site: Site) -> None:
    client = TestClient(site.client.app, base_url="https://testserver")
    page = client.get("/login")
    token = csrf_token(page.text)
    client.post("/login", data={"phone": THANDI, "csrf_token": token})
    code = last_code(site.db, site.settings, THANDI)
    verified = client.post(
        "/login/code", data={"code": code, "csrf_token": token}, follow_redirects=False
    )
    flags = _cookie_attributes(verified.headers.get_list("set-cookie"), "__Host-wr_session")
    assert flags["secure"] and flags["httponly"] and flags["samesite"].lower() == "lax"


def test_the_api_limit_on_checking_codes_holds_on_the_page_too(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    with client_with(db, settings, clock, verify_max_per_ip_hour=2) as client:
        page = client.get("/login")
        token = csrf_token(page.text)
        client.post("/login", data={"phone": THANDI, "csrf_token": token})
        code = last_code(db, settings, THANDI)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(2):
            refused = client.post("/login/code", data={"code": wrong, "csrf_token": token})
            assert refused.status_code == 400
        limited = client.post("/login/code", data={"code": code, "csrf_token": token})
        assert limited.status_code == 429 and 'role="alert"' in limited.text
        assert "Please wait 60 minutes (until 11:00) before trying again." in limited.text
        assert "wr_session" not in client.cookies
