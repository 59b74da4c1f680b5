"""Security headers (issue #21 §4): a Content-Security-Policy the pages satisfy, nosniff,
Referrer-Policy on every answer, and Strict-Transport-Security in production.

The browser test (`tests/browser/test_csp.py`) shows the pages really run under the policy; these
check the headers are on every kind of answer, quickly.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from tests.integration.auth.helpers import client_with
from tests.integration.web.conftest import Site, book_links
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.web.render import TEMPLATES_DIR


def policy_of(response: httpx.Response) -> dict[str, list[str]]:
    """The Content-Security-Policy as {directive: sources}; exactly one header."""
    headers = response.headers.get_list("content-security-policy")
    assert len(headers) == 1, f"{response.request.url}: {headers}"
    directives = (part.split() for part in headers[0].split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def assert_page_policy(response: httpx.Response) -> None:
    policy = policy_of(response)
    assert policy["default-src"] == ["'self'"]
    for directive in ("script-src", "style-src"):
        # Whatever else a directive allows, never inline code (nor eval).
        sources = policy.get(directive, policy["default-src"])
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:"} & set(sources), directive
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]


def assert_common_headers(response: httpx.Response) -> None:
    url = response.request.url
    assert response.headers.get("x-content-type-options") == "nosniff", url
    assert response.headers.get("referrer-policy") == "same-origin", url
    assert "strict-transport-security" not in response.headers, f"{url}: not in development"


def test_every_kind_of_page_carries_the_policy(site: Site) -> None:
    logged_out = [site.client.get(path) for path in ("/", "/login")]
    refused = site.client.post("/shifts/book", data={}, follow_redirects=False)  # 403 page
    site.log_in()
    shifts = site.client.get("/shifts")
    book = site.client.get(book_links(shifts.text)[0])
    fragment = site.client.get(book_links(shifts.text)[0], headers={"HX-Request": "true"})
    pages = [*logged_out, refused, shifts, book, fragment]
    pages += [site.client.get(path) for path in ("/my", "/profile", "/profile/delete", "/admin")]
    for page in pages:
        assert page.headers["content-type"].startswith("text/html"), page.request.url
        assert_page_policy(page)
        assert_common_headers(page)
    assert refused.status_code == 403 and pages[-1].status_code == 403  # not a coordinator


def test_redirects_json_and_static_files_get_nosniff_and_the_referrer_policy(site: Site) -> None:
    redirect = site.client.get("/my", follow_redirects=False)
    assert redirect.status_code == 303
    api = site.client.get("/shifts/available")
    missing = site.client.get("/no-such-path")
    shifts = site.client.get("/login").text
    css = site.client.get(re.findall(r'href="(/static/[^"]+\.css)"', shifts)[0])
    js = site.client.get(re.findall(r'src="(/static/[^"]+\.js)"', shifts)[0])
    for response in (redirect, api, missing, css, js):
        assert_common_headers(response)
    assert (api.status_code, missing.status_code, css.status_code, js.status_code) == (
        200,
        404,
        200,
        200,
    )


def test_the_docs_pages_run_no_inline_script(site: Site) -> None:
    swagger, redoc = site.client.get("/docs"), site.client.get("/redoc")
    for page in (swagger, redoc):
        assert page.status_code == 200
        assert_common_headers(page)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text), "no inline script"
    assert_page_policy(swagger)  # Swagger UI runs under the pages' own policy
    # ReDoc's has to allow inline styles and a blob: worker; its scripts are still ours only.
    policy = policy_of(redoc)
    assert policy["default-src"] == ["'self'"] and policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["object-src"] == ["'none'"] and policy["form-action"] == ["'self'"]


def _production(db: Database, settings: Settings, clock: FrozenClock, **more: Any) -> Any:
    overrides: dict[str, Any] = {
        "env": "production",
        "secret_key": SecretStr("p" * 40),
        "allow_dev_message_backend": True,
        **more,
    }
    return client_with(db, settings, clock, **overrides)


def test_strict_transport_security_in_production_only(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    with _production(db, settings, clock) as client:
        # Behind the TLS proxy the app itself is spoken to in plain http.
        for response in (client.get("/login"), client.get("/healthz")):
            hsts = response.headers.get("strict-transport-security", "")
            match = re.fullmatch(r"max-age=(\d+)", hsts)
            assert match and int(match.group(1)) >= 365 * 24 * 3600, hsts
    with client_with(db, settings, clock) as client:
        client.base_url = httpx.URL("https://testserver")
        # Development over https (a laptop's own certificate): never pin the host to https.
        assert "strict-transport-security" not in client.get("/login").headers


_INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)", re.IGNORECASE), "an inline <script>"),
    (re.compile(r"<style\b", re.IGNORECASE), "a <style> block"),
    (re.compile(r"\sstyle\s*=", re.IGNORECASE), "a style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), "an inline event handler"),
    (re.compile(r"javascript:", re.IGNORECASE), "a javascript: URL"),
    (re.compile(r"hx-on|hx-vals\s*=\s*['\"]js:", re.IGNORECASE), "htmx code in markup"),
]


def test_no_template_holds_inline_code_or_style() -> None:
    """What the policy refuses, none of the templates may need (the browser test then proves
    the pages as rendered)."""
    found = [
        f"{path.relative_to(TEMPLATES_DIR)}: {what}"
        for path in sorted(Path(TEMPLATES_DIR).rglob("*.html"))
        for pattern, what in _INLINE
        if pattern.search(path.read_text())
    ]
    assert found == []


def test_htmx_adds_no_style_of_its_own(site: Site) -> None:
    """htmx 2 inserts a <style> for its indicators unless told not to; the policy would block it."""
    page = site.client.get("/login").text
    match = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page)
    assert match, "no htmx-config on the page"
    assert json.loads(html.unescape(match.group(1)))["includeIndicatorStyles"] is False
