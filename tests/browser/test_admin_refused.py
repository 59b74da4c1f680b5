"""A logged-in volunteer is refused everywhere in the coordinator console and the admin API.

The lists are not written out here: the console's pages are every route of the app under
`/admin` (so pages added later are covered without touching this file), and the admin API is
every operation of the OpenAPI document whose route depends on `require_admin`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from playwright.sync_api import Page

from tests.browser.conftest import NewPage
from tests.browser.pages import log_in
from tests.browser.site import Site, new_volunteer
from watchroster.app import create_app
from watchroster.auth.deps import require_admin
from watchroster.core.config import Settings

_PARAM = re.compile(r"\{[^}]+\}")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _app(site: Site) -> FastAPI:
    """The same application the server runs (its routes only: nothing is started)."""
    settings = Settings(_env_file=None, database_url=site.database.url)
    return create_app(settings, db=site.database)


@dataclass(frozen=True)
class Served:
    path: str
    methods: frozenset[str]
    include_in_schema: bool
    dependant: Dependant


def _routes(app: FastAPI) -> Iterator[Served]:
    """Every route as served. FastAPI (0.16x) wraps included routers and builds each route's
    effective form (with the including router's dependencies, e.g. the outbox router's admin
    check) on the route context; the route alone would miss those dependencies."""
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.route, APIRoute):
            continue  # the OpenAPI document itself, static mounts
        route: Any = getattr(context, "_effective_route", None) or context.route
        methods = frozenset(route.methods or ()) - {"HEAD"}
        yield Served(route.path, methods, bool(route.include_in_schema), route.dependant)


def _admin_pages(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path with ids filled in) of every console route."""
    found = []
    for route in _routes(app):
        if route.path.startswith("/admin") and not route.include_in_schema:
            for method in sorted(route.methods):
                found.append((method, _PARAM.sub("1", route.path)))
    return found


def _needs_admin(dependant: Dependant) -> bool:
    return any(dep.call is require_admin or _needs_admin(dep) for dep in dependant.dependencies)


def _admin_operations(app: FastAPI) -> Iterator[tuple[str, str]]:
    for route in _routes(app):
        if route.include_in_schema and _needs_admin(route.dependant):
            for method in sorted(route.methods):
                yield method, route.path


def test_a_volunteer_gets_the_friendly_403_page_on_every_admin_page(
    site: Site, new_page: NewPage
) -> None:
    pages = _admin_pages(_app(site))
    paths = {path for _method, path in pages}
    # The console's own areas are among them (a sanity check of the walk, not the list).
    assert {"/admin", "/admin/people", "/admin/messages"} <= paths
    assert ("POST", "/admin/roster/call") in pages
    page = new_page()
    log_in(page, site, new_volunteer("Refilwe"))
    token = _csrf_token(page, site)
    for method, path in pages:
        if method == "GET":
            response = page.goto(f"{site.url}{path}")
            assert response is not None
            status, content_type = response.status, response.headers["content-type"]
            text = page.content()
            if status == 403:
                assert page.get_by_role("heading", name="For coordinators only").is_visible()
        else:
            # A real form post from the volunteer's browser, with a valid CSRF token: only
            # the role stands in the way.
            answer = page.request.fetch(
                f"{site.url}{path}", method=method, form={"csrf_token": token}, max_redirects=0
            )
            status, content_type, text = (
                answer.status,
                answer.headers["content-type"],
                answer.text(),
            )
        assert status == 403, f"{method} {path} → {status}"
        assert content_type.startswith("text/html"), f"{method} {path}: {content_type}"
        assert "For coordinators only" in text, f"{method} {path}"
        assert 'href="/admin/' not in text, f"{method} {path} shows the console's menu"


def _csrf_token(page: Page, site: Site) -> str:
    page.goto(f"{site.url}/profile")
    match = _CSRF.search(page.content())
    assert match, "no CSRF token on the profile page"
    return match.group(1)


def test_a_volunteer_token_gets_403_json_from_every_admin_endpoint(site: Site) -> None:
    app = _app(site)
    document = httpx.get(f"{site.url}/openapi.json").json()
    operations = list(_admin_operations(app))
    paths = {path for _m, path in operations}
    assert {"/people", "/roster/calls", "/users/{user_id}/phone", "/admin/outbox"} <= paths
    headers = {"Authorization": f"Bearer {_api_token(site)}"}
    with httpx.Client(base_url=site.url, headers=headers) as client:
        assert client.get("/me").status_code == 200, "the token works for a volunteer"
        for method, path in operations:
            operation = document["paths"][path][method.lower()]
            assert "403" in operation["responses"], f"{method} {path} does not declare 403"
            answer = client.request(
                method, _PARAM.sub("1", path), json=_example(document, operation)
            )
            assert answer.status_code == 403, f"{method} {path} → {answer.status_code}"
            assert answer.headers["content-type"].startswith("application/json")
            assert answer.json()["code"] == "admin_required", f"{method} {path}"


def _example(document: dict[str, Any], operation: dict[str, Any]) -> Any:
    """The body's documented example (a valid request, so only the role can refuse it)."""
    body = operation.get("requestBody")
    if body is None:
        return None
    reference = body["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][reference.rsplit("/", 1)[1]]
    return schema["examples"][0]


def _api_token(site: Site) -> str:
    volunteer = new_volunteer("Kagiso")
    before = site.codes_sent(volunteer)
    sent = httpx.post(f"{site.url}/auth/register", json={"phone": volunteer.e164, "name": "K"})
    assert sent.status_code == 200
    code = site.wait_for_code(volunteer, before)
    verified = httpx.post(f"{site.url}/auth/verify", json={"phone": volunteer.e164, "code": code})
    assert verified.status_code == 200
    token: str = verified.json()["token"]
    return token
