"""The web session: the same opaque token the API issues, carried in a cookie.

The cookie authenticates the pages only. The JSON API reads `Authorization: Bearer` and nothing
else, so a form on another site can never make a volunteer's browser book through the API.

Over HTTPS every cookie of the pages is named with the `__Host-` prefix: a browser accepts such a
cookie only from this host itself, Secure, for Path=/ and without a Domain, so a sibling
subdomain cannot plant one (issue #21 §3). The cookies are always read under the name this
request's scheme gives, so a plain-named cookie planted beside them is never read.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from watchroster.auth.deps import TOKEN_PURPOSE, Principal, find_principal
from watchroster.core.errors import Unauthorized
from watchroster.core.security import keyed_hash
from watchroster.http.deps import context_of
from watchroster.http.security_headers import served_over_https
from watchroster.runtime.context import AppContext

SESSION_COOKIE = "wr_session"
_MAX_TOKEN_LENGTH = 256


class LoginRequired(Exception):
    """No live session on a page: the handler in `web.install` redirects to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


HOST_PREFIX = "__Host-"


def wants_secure_cookies(request: Request, context: AppContext) -> bool:
    """`Secure` whenever the browser reaches us over HTTPS (`served_over_https`: the request's
    scheme, an https public address, or production behind a TLS proxy that speaks http)."""
    return served_over_https(request.url.scheme, context.settings)


def cookie_name(request: Request, name: str) -> str:
    """The name a cookie of the pages has on this request: `__Host-wr_session` over HTTPS."""
    secure = wants_secure_cookies(request, context_of(request))
    return HOST_PREFIX + name if secure else name


def read_cookie(request: Request, name: str) -> str:
    return request.cookies.get(cookie_name(request, name), "")


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None
) -> None:
    """Set a cookie of the pages (`name` without its prefix); Path=/ and no Domain, as the
    `__Host-` prefix demands."""
    response.set_cookie(
        cookie_name(request, name),
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=wants_secure_cookies(request, context_of(request)),
    )


def forget_cookie(response: Response, request: Request, name: str) -> None:
    secure = wants_secure_cookies(request, context_of(request))
    response.delete_cookie(
        cookie_name(request, name), path="/", httponly=True, samesite="lax", secure=secure
    )


def start_session(response: Response, request: Request, token: str, expires_at: datetime) -> None:
    """Set the session cookie after a verified code; it lives exactly as long as the session."""
    now = context_of(request).clock()
    max_age = max(0, int((expires_at - now).total_seconds()))
    set_cookie(response, request, SESSION_COOKIE, token, max_age)


def session_token_hash(request: Request) -> str | None:
    """The stored form (keyed hash) of the cookie's token, or None without a plausible cookie."""
    token = read_cookie(request, SESSION_COOKIE)
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    secret = context_of(request).settings.secret_key.get_secret_value()
    return keyed_hash(secret, TOKEN_PURPOSE, token)


# A form posted after the session ended comes back to the page that shows it.
_FORM_PAGES = (("/attendance", ""), ("/report", ""), ("/profile/delete", "/profile/delete"))


def next_path_of(request: Request) -> str:
    """Where to come back after logging in: this page with its query, or for a posted form
    the page the form is on (its action may have no page of its own)."""
    path = request.url.path
    if request.method != "GET":
        for suffix, page in _FORM_PAGES:
            if path.endswith(suffix):
                return page or path.removesuffix(suffix)
        return path
    query = request.url.query
    return path + (f"?{query}" if query else "")


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")


async def optional_user(request: Request) -> tuple[Principal, str | None] | None:
    """The caller behind the session cookie and their saved language, or None. The session
    lookup already reads the language (`Principal.language`): no query of the pages' own."""
    token_hash = session_token_hash(request)
    if token_hash is None:
        return None
    try:
        principal = await find_principal(context_of(request), token_hash)
    except Unauthorized:
        return None
    return principal, principal.language


async def page_user(request: Request) -> tuple[Principal, str | None]:
    """For a page that needs a login: the caller, or `LoginRequired` (→ the login page)."""
    found = await optional_user(request)
    if found is None:
        raise LoginRequired(next_path_of(request))
    request.state.user_language = found[1]
    request.state.is_admin = found[0].is_admin  # the menu shows "Coordinator" to admins
    return found
