"""CSRF and the coordinator check are router-level guards (issue #22 §6), so a new page cannot
forget them.

The routes are not written out here: they are every page route of the app's route table (the
routes of `watchroster.web`), so a page added later is walked without touching this file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select

from tests.integration.web.conftest import FRIDAY, SIPHO, THANDI, Site, second_browser
from tests.support.factories import add_user
from watchroster.db.engine import Base
from watchroster.web import csrf
from watchroster.web.admin import access

ADMIN = "+27821230000"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PARAM = re.compile(r"\{([^}]+)\}")
_POST_FORM = re.compile(r"<form[^>]*method=\"post\".*?</form>", re.S | re.I)
# Path parameters are filled with the ids of the rows the test seeds (all 1); a parameter that
# is not an id gets a value the handler acts on.
_SAMPLES = {"what": "active"}
# Fields a handler would act on, had the guard let the post through.
_FIELDS = {
    "phone": SIPHO,
    "name": "Changed",
    "code": "000000",
    "schedule_id": "1",
    "start": FRIDAY,
    "reason": "forged",
    "active": "0",
    "channel": "sms",
    "severity": "2",
    "what_happened": "forged",
    "message": "forged",
}


@dataclass(frozen=True)
class PageRoute:
    method: str
    path: str
    guards: frozenset[Callable[..., Any]]

    @property
    def url(self) -> str:
        return _PARAM.sub(lambda match: _SAMPLES.get(match.group(1), "1"), self.path)


def _page_routes(app: FastAPI) -> Iterator[PageRoute]:
    """Every page route as served: FastAPI (0.16x) builds each included route's effective form
    (with the including router's dependencies) on its route context."""
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.route, APIRoute):
            continue
        route: Any = getattr(context, "_effective_route", None) or context.route
        if not route.endpoint.__module__.startswith("watchroster.web"):
            continue
        guards = frozenset(dep.call for dep in route.dependant.dependencies)
        for method in sorted(set(route.methods or ()) - {"HEAD"}):
            yield PageRoute(method, route.path, guards)


def _unsafe(app: FastAPI) -> list[PageRoute]:
    return [route for route in _page_routes(app) if route.method in _UNSAFE]


def _admin(app: FastAPI) -> list[PageRoute]:
    return [route for route in _page_routes(app) if route.path.startswith("/admin")]


def _snapshot(site: Site) -> dict[str, list[str]]:
    """Every row of every table: what "changes nothing" compares."""
    with site.db.read() as session:
        return {
            table.name: sorted(repr(tuple(row)) for row in session.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


def _seeded(site: Site) -> tuple[Site, Site, Site]:
    """A volunteer with booking 1, a logged-in coordinator and a visitor who has the login
    page's pre-login cookie: each posts where their forms are."""
    site.log_in(THANDI, "Thandi Mokoena")
    assert site.book().status_code == 303 and site.booking_ids() == [1]
    add_user(site.db, ADMIN, "Anna Admin", role="admin")
    admin = second_browser(site)
    admin.log_in(ADMIN, "Anna Admin")
    visitor = second_browser(site)
    assert visitor.client.get("/login").status_code == 200
    return site, admin, visitor


def _refused_as_expired(response: httpx.Response) -> bool:
    return response.status_code == 403 and "This form has expired" in response.text


def test_every_unsafe_page_route_has_the_csrf_guard(app: FastAPI) -> None:
    routes = _unsafe(app)
    posts = {(route.method, route.path) for route in routes}
    # A sanity check of the walk, not the list.
    assert {("POST", "/shifts/book"), ("POST", "/login"), ("POST", "/admin/roster/call")} <= posts
    for route in routes:
        login_form = route.path.startswith("/login")
        expected = csrf.require_login_token if login_form else csrf.require_token
        assert expected in route.guards, f"{route.method} {route.path} has no CSRF guard"
        wrong = csrf.require_token if login_form else csrf.require_login_token
        assert wrong not in route.guards, f"{route.method} {route.path}: the wrong token"


def test_every_admin_route_has_the_coordinator_guard(app: FastAPI) -> None:
    routes = _admin(app)
    assert {"/admin", "/admin/people", "/admin/messages"} <= {route.path for route in routes}
    for route in routes:
        assert access.require_coordinator in route.guards, f"{route.method} {route.path}"


def test_a_post_without_a_token_is_refused_and_changes_nothing(site: Site, app: FastAPI) -> None:
    volunteer, admin, visitor = _seeded(site)
    for route in _unsafe(app):
        if route.path.startswith("/admin"):
            browser = admin  # the role would let it through: only the token is missing
        elif route.path.startswith("/login"):
            browser = visitor
        else:
            browser = volunteer
        before = _snapshot(site)
        answer = browser.client.request(
            route.method, route.url, data=_FIELDS, follow_redirects=False
        )
        assert _refused_as_expired(answer), f"{route.method} {route.url} → {answer.status_code}"
        assert _snapshot(site) == before, f"{route.method} {route.url} changed the database"


def test_a_visitor_is_sent_to_log_in_and_a_volunteer_refused_on_every_admin_route(
    site: Site, app: FastAPI
) -> None:
    volunteer, _admin_browser, visitor = _seeded(site)
    visitor_token = visitor.token("/login")
    volunteer_token = volunteer.token("/profile")
    for route in _admin(app):
        before = _snapshot(site)
        unsafe = route.method in _UNSAFE
        # The visitor's form carries a (pre-login) token, as a form left open after the
        # session ended does: the answer is the login page, not "expired".
        anonymous = visitor.client.request(
            route.method,
            route.url,
            data={**_FIELDS, "csrf_token": visitor_token} if unsafe else None,
            follow_redirects=False,
        )
        assert anonymous.status_code == 303, f"{route.method} {route.url}"
        assert anonymous.headers["location"].startswith("/login?next=/admin")
        refused = volunteer.client.request(
            route.method,
            route.url,
            data={**_FIELDS, "csrf_token": volunteer_token} if unsafe else None,
            follow_redirects=False,
        )
        assert refused.status_code == 403, f"{route.method} {route.url} → {refused.status_code}"
        assert "For coordinators only" in refused.text, f"{route.method} {route.url}"
        assert _snapshot(site) == before, f"{route.method} {route.url} changed the database"


def test_every_post_form_carries_the_token_through_the_macro() -> None:
    templates = Path(csrf.__file__).parent / "templates"
    macro = templates / "macros" / "forms.html"
    forms = 0
    for path in sorted(templates.rglob("*.html")):
        if path == macro:
            continue
        text = path.read_text()
        assert 'name="csrf_token"' not in text, f"{path.name}: a hand-written CSRF field"
        for form in _POST_FORM.findall(text):
            forms += 1
            assert "csrf_field(csrf_token)" in form, f"{path.name}: a post form without it"
    assert forms >= 20  # a sanity check of the walk
