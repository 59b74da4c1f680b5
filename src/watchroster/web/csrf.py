"""CSRF defence for the pages: a form token bound to the session (issue #21 §3).

Logged in, every form carries HMAC(secret key, the session token's stored hash) in a hidden
`csrf_token` field (htmx sends it as the `X-CSRF-Token` header). It follows from the session
cookie, which is HttpOnly and, over HTTPS, `__Host-` prefixed: another origin can neither read it
nor compute the token, and a pair of cookie and token it got for itself is another session's,
so it is refused. A login is a new session, so a new token; the old one dies with its session at
logout.

Before login there is no session: the login forms (phone, code, resend) carry HMAC(secret key,
a random value in the `wr_csrf` cookie) instead. That pre-login token passes those forms only:
anyone can get one from /login, so a pair planted in a member's browser (by a page on another
port of the host, or a sibling subdomain) can post no other form. The cookie is dropped at login
and at logout, so each login starts from a fresh value.
"""

from __future__ import annotations

import secrets

from fastapi import Request
from starlette.datastructures import FormData

from watchroster.core.security import hashes_match, keyed_hash
from watchroster.http.deps import context_of
from watchroster.web.sessions import LoginRequired, next_path_of, read_cookie, session_token_hash

CSRF_COOKIE = "wr_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_SESSION_PURPOSE = "web-csrf-session"
_LOGIN_PURPOSE = "web-csrf-login"
# A login form left open on a phone for a day must still submit; the value is worth nothing
# but a login form.
COOKIE_MAX_AGE = 24 * 3600
_VALUE_BYTES = 24
_MAX_VALUE_LENGTH = 64


class CsrfFailed(Exception):
    """A state-changing form arrived without a valid token; nothing was changed."""


def for_login_forms(request: Request) -> None:
    """This page's forms are login forms: they carry the pre-login token, even where a (dead)
    session cookie is still around."""
    request.state.csrf_login_forms = True


def _sign(request: Request, purpose: str, value: str) -> str:
    return keyed_hash(context_of(request).settings.secret_key.get_secret_value(), purpose, value)


def _login_value(request: Request) -> str | None:
    value = read_cookie(request, CSRF_COOKIE)
    return value if 0 < len(value) <= _MAX_VALUE_LENGTH else None


def token_for(request: Request) -> str:
    """The token to put in this page's forms: the session's, or for the login forms (and pages
    seen without a session) the pre-login one. A browser without the pre-login cookie gets a
    new value, which `render` sets on the response (`request.state.new_csrf_value`)."""
    session_hash = session_token_hash(request)
    if session_hash is not None and not getattr(request.state, "csrf_login_forms", False):
        return _sign(request, _SESSION_PURPOSE, session_hash)
    value = _login_value(request) or getattr(request.state, "new_csrf_value", None)
    if value is None:
        value = secrets.token_urlsafe(_VALUE_BYTES)
        request.state.new_csrf_value = value
    return _sign(request, _LOGIN_PURPOSE, value)


def _sent(request: Request, form: FormData) -> str:
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    return sent if isinstance(sent, str) else ""


def _matches(expected: str, sent: str) -> bool:
    # compare_digest raises on a non-ASCII str: such a token is simply wrong, not a crash.
    return sent.isascii() and hashes_match(expected, sent)


def check(request: Request, form: FormData) -> None:
    """Raise `CsrfFailed` unless the form carries the token of the caller's session.

    Without a session cookie nothing can be changed anyway. A form with a token was left open
    until the session ended (the browser dropped the cookie): `LoginRequired` brings the member
    back to its page after logging in. A form without one is not ours: `CsrfFailed`."""
    sent = _sent(request, form)
    session_hash = session_token_hash(request)
    if session_hash is None:
        if sent:
            raise LoginRequired(next_path_of(request))
        raise CsrfFailed()
    if not _matches(_sign(request, _SESSION_PURPOSE, session_hash), sent):
        raise CsrfFailed()


def check_login_form(request: Request, form: FormData) -> None:
    """Raise `CsrfFailed` unless the form carries the pre-login token of this browser."""
    value = _login_value(request)
    if value is None or not _matches(_sign(request, _LOGIN_PURPOSE, value), _sent(request, form)):
        raise CsrfFailed()


# Methods that change nothing: their routes need no token.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def require_token(request: Request) -> None:
    """Router guard of the pages and the console (`web.install`, `web.admin.install`): an unsafe
    method carries the session's token, so a new page cannot forget the check. The handler then
    reads the same form with `await request.form()` (Starlette keeps it on the request)."""
    if request.method not in _SAFE_METHODS:
        check(request, await request.form())


async def require_login_token(request: Request) -> None:
    """Router guard of the login forms (phone, code, resend): the pre-login token."""
    if request.method not in _SAFE_METHODS:
        check_login_form(request, await request.form())
