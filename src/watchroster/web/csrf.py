"""CSRF defence for the pages: a signed double-submit token.

A random value lives in the `wr_csrf` cookie; every form carries HMAC(secret key, value) in a hidden
`csrf_token` field (htmx sends it as the `X-CSRF-Token` header). Another site can make the browser
send the cookie but can neither read it nor compute the HMAC, so its forged POST fails. The login
forms are protected too: they run before any session exists, which is why the token is not tied
to the session.
"""

from __future__ import annotations

import secrets

from fastapi import Request
from starlette.datastructures import FormData

from watchroster.deps import context_of
from watchroster.security import hashes_match, keyed_hash

CSRF_COOKIE = "wr_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_PURPOSE = "web-csrf"
# A year: a form left open on a phone overnight must still submit.
COOKIE_MAX_AGE = 365 * 24 * 3600
_VALUE_BYTES = 24
_MAX_VALUE_LENGTH = 64


class CsrfFailed(Exception):
    """A state-changing form arrived without a valid token; nothing was changed."""


def _sign(request: Request, value: str) -> str:
    return keyed_hash(context_of(request).settings.secret_key.get_secret_value(), _PURPOSE, value)


def _cookie_value(request: Request) -> str | None:
    value = request.cookies.get(CSRF_COOKIE, "")
    return value if 0 < len(value) <= _MAX_VALUE_LENGTH else None


def token_for(request: Request) -> str:
    """The token to put in this page's forms. A browser without the cookie gets a new value,
    which `render` sets on the response (`request.state.new_csrf_value`)."""
    value = _cookie_value(request) or getattr(request.state, "new_csrf_value", None)
    if value is None:
        value = secrets.token_urlsafe(_VALUE_BYTES)
        request.state.new_csrf_value = value
    return _sign(request, value)


def check(request: Request, form: FormData) -> None:
    """Raise `CsrfFailed` unless the form (or the htmx header) carries the cookie's token."""
    value = _cookie_value(request)
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if value is None or not isinstance(sent, str) or not hashes_match(_sign(request, value), sent):
        raise CsrfFailed()


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token has been checked."""
    form = await request.form()
    check(request, form)
    return form
