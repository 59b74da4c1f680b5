"""The coordinator console: pages under `/admin`, for admins only.

Each area of the console is one `routes_<area>.py` module with its own `router`; `install`
adds them. Like the volunteer pages they call the same service functions as the JSON API,
and every form carries the CSRF token. Both checks are guards of the whole console (`GUARDS`,
applied in `install`), so a new area cannot forget them: a visitor goes to the login page, a
logged-in volunteer gets a readable 403 page (`access.AdminOnly`), not JSON.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from watchroster.core import i18n
from watchroster.web import csrf
from watchroster.web.admin import (
    access,
    routes_attendance,
    routes_calls,
    routes_exceptions,
    routes_home,
    routes_incidents,
    routes_messages,
    routes_people,
    routes_roster,
    routes_schedules,
)
from watchroster.web.render import error_page, language_of

# One entry per area; a new area adds its module here.
AREAS = (
    routes_home,
    routes_schedules,
    routes_roster,
    routes_attendance,
    routes_incidents,
    routes_people,
    routes_messages,
    routes_calls,
    routes_exceptions,
)

# Every console route: the session's CSRF token on unsafe methods (checked first: a forged post
# costs no session lookup), then a logged-in coordinator.
GUARDS = [Depends(csrf.require_token), Depends(access.require_coordinator)]


async def _admin_only(request: Request, _exc: Exception) -> Response:
    _ = i18n.gettext_for(language_of(request))
    return error_page(
        request,
        403,
        _("For coordinators only"),
        _("This page is for the group's coordinators. Ask one if you need something here."),
    )


def install(app: FastAPI) -> None:
    for module in AREAS:
        app.include_router(module.router, include_in_schema=False, dependencies=GUARDS)
    app.add_exception_handler(access.AdminOnly, _admin_only)
