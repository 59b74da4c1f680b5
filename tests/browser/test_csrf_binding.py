"""The attack of issue #21 §3, as it ran: a page on another port of the same host plants a
cookie+token pair it got from /login and posts a change to a logged-in member's profile.

Cookies do not keep ports apart (nor, without `__Host-`, sibling subdomains), and another port of
the same host is the same *site*, so the member's SameSite=Lax session cookie goes along with
the forged POST. Only a token bound to the member's session stops it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import NewPage
from tests.browser.pages import log_in
from tests.browser.site import Site, new_volunteer
from watchroster.auth.models import User

pytestmark = pytest.mark.slow

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _attack_page(target: str, token: str) -> bytes:
    """The attacker's page: submits the form as soon as it loads."""
    fields = {"csrf_token": token, "name": "Pwned", "channel": "sms"}
    inputs = "".join(
        f'<input type="hidden" name="{name}" value="{value}">' for name, value in fields.items()
    )
    return f"""<!doctype html><html><body>
<form id="f" method="post" action="{target}/profile">{inputs}</form>
<script>document.getElementById("f").submit();</script>
</body></html>""".encode()


@contextmanager
def other_origin(body: bytes, cookie: str) -> Iterator[str]:
    """A tiny server on another port of 127.0.0.1 serving `body` at every path, with a
    Set-Cookie for the whole host (a script's `document.cookie` could not replace the
    HttpOnly cookie already there; a response from any port of the host can)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Set-Cookie", f"{cookie}; Path=/; HttpOnly; SameSite=Lax")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _pair_from_login_page(site: Site) -> tuple[str, str]:
    """What any visitor gets from /login: the pre-login cookie (as `name=value`) and its token."""
    response = httpx.get(f"{site.url}/login")
    match = _TOKEN.search(response.text)
    assert match, "the login page has a form token"
    [(name, value)] = [
        (cookie.name, cookie.value) for cookie in response.cookies.jar if "csrf" in cookie.name
    ]
    return f"{name}={value}", match.group(1)


def _name_of(site: Site, phone: str) -> str | None:
    with site.database.read() as session:
        return session.scalar(select(User.name).where(User.phone == phone))


def test_a_pair_planted_from_another_port_cannot_change_the_profile(
    site: Site, new_page: NewPage
) -> None:
    volunteer = new_volunteer("Nomsa")
    page = new_page()
    log_in(page, site, volunteer)
    assert _name_of(site, volunteer.e164) == "Nomsa"
    cookie, token = _pair_from_login_page(site)

    with other_origin(_attack_page(site.url, token), cookie) as attacker:
        assert attacker != site.url and attacker.startswith("http://127.0.0.1:")
        page.goto(f"{attacker}/prize")
        expect(page).to_have_url(f"{site.url}/profile")  # the forged form did go out
        expect(page.get_by_text("This form has expired")).to_be_visible()

    assert _name_of(site, volunteer.e164) == "Nomsa"
    planted = [c for c in page.context.cookies() if c["value"] == cookie.split("=", 1)[1]]
    assert planted, "the attacker's cookie was planted: the refusal is not for a missing cookie"
    # The member's own form still works afterwards.
    page.goto(f"{site.url}/profile")
    page.get_by_label("Your first name").fill("Nomsa K")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    assert _name_of(site, volunteer.e164) == "Nomsa K"
