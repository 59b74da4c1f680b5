"""Every page runs under its Content-Security-Policy with nothing refused (issue #21 §4).

Chromium enforces the policy the server sends; every refusal fires a `securitypolicyviolation`
event in the page and logs a console error. A listener installed before any page script (an
init script, which the policy does not govern) reports each event to the test, and the console
is watched too. The first test proves that this watch catches a refusal: the same page with an
inline script and style injected is reported, and runs them once the policy is taken away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Response, Route, expect

from tests.browser.conftest import NewPage
from tests.browser.pages import LAPTOP, first_open_slot, log_in
from tests.browser.site import Site, Volunteer, new_coordinator, new_volunteer
from watchroster.app import create_app
from watchroster.bookings.models import Booking, Report
from watchroster.core.config import Settings

pytestmark = pytest.mark.slow

EVERY_EVENING = "0 18 * * *"
_LISTENER = """
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolation({
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    sample: event.sample,
    page: event.documentURI,
  });
});
"""
_INJECTED = (
    "<script>window.ran = true;</script>"
    '<p id="injected" style="color: red" onclick="window.clicked = true">injected</p>'
)


@dataclass
class CspWatch:
    """What the browser refused, and the policy of every page (HTML document) it loaded."""

    violations: list[dict[str, Any]] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    documents: dict[str, str | None] = field(default_factory=dict)  # path → policy

    @classmethod
    def on(cls, context: BrowserContext) -> CspWatch:
        watch = cls()
        context.expose_binding(
            "__cspViolation", lambda _source, found: watch.violations.append(found)
        )
        context.add_init_script(_LISTENER)
        context.on("console", watch._console)
        context.on("response", watch._response)
        return watch

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.console.append(message.text)

    def _response(self, response: Response) -> None:
        kind = response.headers.get("content-type", "")
        if response.request.resource_type == "document" and kind.startswith("text/html"):
            self.documents[urlsplit(response.url).path] = response.headers.get(
                "content-security-policy"
            )

    @staticmethod
    def settle(page: Page) -> None:
        """Let queued violation events reach the test before it looks."""
        page.wait_for_load_state("load")
        page.evaluate("() => new Promise((done) => setTimeout(done, 150))")

    def refusals(self) -> list[str]:
        return [str(v) for v in self.violations] + self.console


def test_the_watch_catches_what_the_policy_blocks(site: Site, new_page: NewPage) -> None:
    page = new_page()
    watch = CspWatch.on(page.context)
    keep_policy = True

    def inject(route: Route) -> None:
        response = route.fetch()
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in ("content-encoding", "content-length")
            and (keep_policy or name != "content-security-policy")
        }
        body = response.text().replace("</main>", _INJECTED + "</main>")
        route.fulfill(status=response.status, headers=headers, body=body)

    page.route(f"{site.url}/login", inject)
    page.goto(f"{site.url}/login")
    page.locator("#injected").click()
    watch.settle(page)
    assert watch.documents["/login"], "the page came with its policy"
    assert page.evaluate("[window.ran, window.clicked]") == [None, None], "nothing inline ran"
    refused = {v["directive"] for v in watch.violations}
    assert {"script-src-elem", "script-src-attr", "style-src-attr"} <= refused, watch.violations
    assert watch.console, "Chromium's console names the refusals too"

    # The same page without the policy: the same code runs and nothing is reported.
    keep_policy = False
    watch.violations.clear()
    watch.console.clear()
    page.goto(f"{site.url}/login")
    page.locator("#injected").click()
    watch.settle(page)
    assert page.evaluate("[window.ran, window.clicked]") == [True, True]
    assert watch.refusals() == []


def _page_routes(site: Site) -> dict[str, re.Pattern[str]]:
    """Every page of the app (GET routes outside the API schema, but files, docs and CSV), as
    a pattern of its paths: pages added later are covered without touching this test."""
    app = create_app(Settings(_env_file=None, database_url=site.database.url), db=site.database)
    routes: dict[str, re.Pattern[str]] = {}
    for context in iter_route_contexts(app.routes):
        route: Any = getattr(context, "_effective_route", None) or context.route
        if not isinstance(context.route, APIRoute) or route.include_in_schema:
            continue
        path: str = route.path
        if "GET" in route.methods and not re.match(r"/(static|docs|redoc)\b|.*\.csv$", path):
            routes[path] = re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)))
    return routes


def _visit(page: Page, watch: CspWatch, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status < 500, url
    watch.settle(page)


def _volunteer_pages(
    page: Page, watch: CspWatch, site: Site, schedule_id: int, buddy: Volunteer
) -> int:
    """Book through the open-shifts list in place (htmx) with a buddy, then every page of it."""
    page.goto(f"{site.url}/shifts?schedule_id={schedule_id}")
    page.get_by_role("link", name=re.compile(r"^Book\b")).first.click()
    page.get_by_label("Buddy's name").fill(buddy.name)
    page.get_by_label("Buddy's phone").fill(buddy.national)
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_text(re.compile(r"Your shift is booked"))).to_be_visible()
    watch.settle(page)
    [booking] = site.active_bookings(schedule_id)
    later = first_open_slot(site, schedule_id).local_start.isoformat()
    paths = [f"/shifts/book?schedule_id={schedule_id}&start={quote(later)}", "/my"]
    paths += [f"/my/{booking.booking_id}{tail}" for tail in ("", "/cancel", "/buddy")]
    paths += ["/profile", "/profile/delete", "/my/99999999"]  # the last: the not-found page
    for path in paths:
        _visit(page, watch, site.url + path)
    return booking.booking_id


def _report_on(site: Site, booking_id: int) -> int:
    """An incident report on the booking, written as the app stores one (for its own page)."""
    with site.database.write() as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None
        report = Report(booking_id=booking_id, user_id=booking.user_id, severity=1, message="Gate")
        session.add(report)
        session.flush()
        return report.report_id


def _console_pages(
    page: Page, watch: CspWatch, site: Site, schedule_id: int, booking_id: int
) -> None:
    slot = first_open_slot(site, schedule_id)
    paths = ["/admin", "/admin/schedules", f"/admin/schedules/{schedule_id}", "/admin/roster"]
    paths += ["/admin/attendance", "/admin/incidents", "/admin/messages"]
    paths += [f"/admin/incidents/{_report_on(site, booking_id)}"]
    paths += [f"/admin/schedules/{schedule_id}/exceptions"]
    paths += [f"/admin/schedules/{schedule_id}/cancel?start={quote(slot.local_start.isoformat())}"]
    for path in paths:
        _visit(page, watch, site.url + path)
    _visit(page, watch, f"{site.url}/admin/schedules/new")
    with page.expect_response(re.compile(r"/admin/schedules/preview$")) as preview:
        page.get_by_label("Name").press_sequentially("Dawn")  # htmx redraws the preview
    assert preview.value.ok
    _visit(page, watch, f"{site.url}/admin/people")
    show = page.get_by_role("button", name=re.compile(r"^Show number"))
    shown_before = show.count()
    show.first.click()  # htmx swaps the number in
    expect(show).to_have_count(shown_before - 1)
    watch.settle(page)


def test_every_page_runs_under_the_policy_with_nothing_refused(
    site: Site, new_page: NewPage
) -> None:
    routes = _page_routes(site)
    assert {"/login", "/login/code", "/my/{booking_text}", "/admin/people"} <= set(routes)
    schedule_id = site.add_schedule("Policy patrol", EVERY_EVENING)
    zodwa = new_volunteer("Zodwa")
    buddy = new_page()
    buddy_watch = CspWatch.on(buddy.context)
    log_in(buddy, site, zodwa)  # registered, so the booking below names them

    page = new_page(**LAPTOP)
    watch = CspWatch.on(page.context)
    _visit(page, watch, f"{site.url}/")
    log_in(page, site, new_coordinator(site, "Ayanda"))  # /login, /login/code, /shifts
    booking_id = _volunteer_pages(page, watch, site, schedule_id, zodwa)
    _console_pages(page, watch, site, schedule_id, booking_id)
    _visit(buddy, buddy_watch, f"{site.url}/my/{booking_id}/decline")
    page.goto(f"{site.url}/profile")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    watch.settle(page)

    documents = {**buddy_watch.documents, **watch.documents}
    missing = [
        route
        for route, pattern in routes.items()
        if not any(pattern.fullmatch(path) for path in documents)
    ]
    assert missing == [], f"pages this test never loaded: {missing}"
    unprotected = [path for path, policy in documents.items() if not policy]
    assert unprotected == [], f"pages without a policy: {unprotected}"
    assert watch.refusals() + buddy_watch.refusals() == []


def test_the_api_docs_render_under_their_own_policy(site: Site, new_page: NewPage) -> None:
    page = new_page(**LAPTOP)
    watch = CspWatch.on(page.context)
    page.goto(f"{site.url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("watchroster")
    expect(page.locator(".opblock-summary-path", has_text="/bookings").first).to_be_visible()
    watch.settle(page)
    assert watch.documents["/docs"]
    assert watch.refusals() == []

    page.goto(f"{site.url}/redoc")
    expect(page.get_by_role("heading", name=re.compile(r"^watchroster"))).to_be_visible()
    expect(page.get_by_text("/shifts/available").first).to_be_attached()
    watch.settle(page)
    assert watch.documents["/redoc"]
    # ReDoc's sidebar always fetches Redocly's logo from their CDN; the policy keeps that one
    # request from leaving (the docs stay offline and unseen), and the logo hides itself.
    assert [(v["directive"], v["blocked"]) for v in watch.violations] == [
        ("img-src", "https://cdn.redoc.ly/redoc/logo-mini.svg")
    ]
    assert all("cdn.redoc.ly" in line for line in watch.console), watch.console
