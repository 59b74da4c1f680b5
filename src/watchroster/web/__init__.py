"""The volunteer web pages: server-rendered, mobile-first, working without JavaScript.

Pages sit on the same service functions as the JSON API. `install(app)` adds their routes (kept
out of the OpenAPI schema) behind their CSRF guard, the static files, and the answers a page
gives instead of JSON: the login redirect, the "form expired" page and the "check the address"
page (`forms.BadNumber`). Pages compress themselves (`compress`).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from watchroster.core import i18n
from watchroster.web import (
    csrf,
    routes_book,
    routes_booking,
    routes_buddy,
    routes_login,
    routes_my,
    routes_profile,
    routes_shifts,
    static,
)
from watchroster.web.csrf import CsrfFailed
from watchroster.web.forms import BadNumber
from watchroster.web.render import error_page, is_htmx, language_of, redirect
from watchroster.web.sessions import LoginRequired, login_url

# The CSRF guard of each kind of form, applied to whole routers here (one place each), so a new
# page cannot forget it: the login forms carry the pre-login token, every other page the session's.
LOGIN_FORM_GUARD = [Depends(csrf.require_login_token)]
PAGE_GUARD = [Depends(csrf.require_token)]


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    if request.method == "POST" and request.url.path == "/logout":
        # The session is gone already (its cookie too): logged out is what was asked for.
        return redirect(request, routes_login.LOGGED_OUT)
    if is_htmx(request):  # the whole page goes to the login form, not a fragment
        return Response(status_code=200, headers={"HX-Redirect": login_url(exc.next_path)})
    return redirect(request, login_url(exc.next_path))


async def _csrf_failed(request: Request, _exc: Exception) -> Response:
    _ = i18n.gettext_for(language_of(request))
    return error_page(
        request,
        403,
        _("This form has expired"),
        _("Nothing was changed. Please go back, reload the page and try again."),
    )


async def _bad_number(request: Request, _exc: Exception) -> Response:
    _ = i18n.gettext_for(language_of(request))
    return error_page(
        request,
        400,
        _("Check the address"),
        _("A number in this address is not valid. Go back and follow the link again."),
    )


def install(app: FastAPI) -> None:
    app.include_router(routes_login.router, include_in_schema=False, dependencies=LOGIN_FORM_GUARD)
    app.include_router(routes_login.logout_router, include_in_schema=False, dependencies=PAGE_GUARD)
    for module in (
        static,
        routes_shifts,
        routes_book,
        routes_my,
        routes_booking,
        routes_buddy,
        routes_profile,
    ):
        app.include_router(module.router, include_in_schema=False, dependencies=PAGE_GUARD)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfFailed, _csrf_failed)
    app.add_exception_handler(BadNumber, _bad_number)
