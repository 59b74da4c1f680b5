"""Log in by phone and code: the same service functions (and abuse limits) as the API.

Between the two steps the phone number travels in a signed, short-lived, HttpOnly cookie, never
in a URL (URLs end up in logs and browser history).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from watchroster.auth import actions
from watchroster.auth.schemas import RegisterIn, VerifyIn
from watchroster.core import i18n
from watchroster.core.errors import TooManyRequests, ValidationFailed
from watchroster.core.phones import normalise_phone
from watchroster.core.security import hashes_match, keyed_hash
from watchroster.http.client_ip import client_ip
from watchroster.http.deps import context_of
from watchroster.runtime.context import AppContext
from watchroster.web import csrf
from watchroster.web.forms import field, safe_next, wait_in_words
from watchroster.web.render import language_of, redirect, render
from watchroster.web.sessions import (
    SESSION_COOKIE,
    forget_cookie,
    optional_user,
    read_cookie,
    set_cookie,
    start_session,
)

# The login forms carry the pre-login token (`csrf.require_login_token`); logging out is a form
# of the session (`csrf.require_token`), so it sits on a router of its own (`web.install`).
router = APIRouter(include_in_schema=False)
logout_router = APIRouter(include_in_schema=False)

PENDING_COOKIE = "wr_login"
_PENDING_PURPOSE = "web-pending-login"


@dataclass(frozen=True)
class Pending:
    """A login between "Send code" and "Log in"."""

    phone: str  # E.164
    sent_at: float  # POSIX seconds
    next_path: str


def _sign(context: AppContext, payload: str) -> str:
    return keyed_hash(context.settings.secret_key.get_secret_value(), _PENDING_PURPOSE, payload)


def _remember_pending(response: Response, request: Request, pending: Pending) -> None:
    context = context_of(request)
    data = json.dumps([pending.phone, pending.sent_at, pending.next_path]).encode()
    payload = base64.urlsafe_b64encode(data).decode()
    value = f"{payload}.{_sign(context, payload)}"
    set_cookie(response, request, PENDING_COOKIE, value, context.settings.otp_ttl_seconds)


def _pending(request: Request) -> Pending | None:
    """The signed pending login, or None when absent, tampered with or older than a code."""
    context = context_of(request)
    payload, _, signature = read_cookie(request, PENDING_COOKIE).partition(".")
    if not payload or not hashes_match(_sign(context, payload), signature):
        return None
    try:
        phone, sent_at, next_path = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, TypeError):
        return None
    age = context.clock().timestamp() - float(sent_at)
    if age > context.settings.otp_ttl_seconds:
        return None
    return Pending(str(phone), float(sent_at), safe_next(str(next_path)))


# --- step 1: the phone number ------------------------------------------------------------------


def _login_page(request: Request, values: dict[str, object], status: int = 200) -> Response:
    defaults = {"phone": "", "name": "", "next": "/shifts", "logged_in": False}
    csrf.for_login_forms(request)
    return render(request, "login/login.html", {**defaults, **values}, status=status)


@router.get("/")
@router.get("/login")
async def login_page(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    if await optional_user(request) is not None:
        return RedirectResponse(next_path, status_code=303)
    return _login_page(request, {"next": next_path})


async def _send_code(request: Request, phone: str, name: str | None) -> None:
    """Queue a code exactly as POST /auth/register does (limits, region, deactivated...)."""
    context = context_of(request)
    ip = client_ip(request, context.settings.trusted_proxies)
    lang = language_of(request)  # a new number's code comes in the page's language
    await context.db.run_write(actions.send_code, context, phone, name, ip, lang)


def _code_sent(request: Request, phone: str, next_path: str) -> Response:
    response = redirect(request, "/login/code")
    now = context_of(request).clock().timestamp()
    _remember_pending(response, request, Pending(phone, now, next_path))
    return response


@router.post("/login")
async def send_code(request: Request) -> Response:
    form = await request.form()
    context, lang = context_of(request), language_of(request)
    _ = i18n.gettext_for(lang)
    values: dict[str, object] = {
        "phone": field(form, "phone", 32),
        "name": field(form, "name", 100),
        "next": safe_next(field(form, "next")),
    }
    try:
        body = RegisterIn(phone=str(values["phone"]), name=str(values["name"]) or None)
        phone = normalise_phone(body.phone, context.settings.default_region)
    except (ValidationError, ValidationFailed):
        values["phone_error"] = _("Enter a mobile number like 071 123 4567 or +27 71 123 4567.")
        return _login_page(request, values, status=400)
    try:
        await _send_code(request, phone, body.name)
    except TooManyRequests as exc:
        values["error"] = _wait(request, exc, lang, new_code=True)
        return _login_page(request, values, status=429)
    return _code_sent(request, phone, str(values["next"]))


def _wait(request: Request, exc: TooManyRequests, lang: str, *, new_code: bool) -> str:
    context = context_of(request)
    seconds = int(exc.details["retry_after_seconds"])
    zone = context.settings.zone
    return wait_in_words(seconds, context.clock(), zone, lang, new_code=new_code)


# --- step 2: the code ----------------------------------------------------------------------------


def _code_page(
    request: Request, pending: Pending, values: dict[str, object], status: int = 200
) -> Response:
    context, lang = context_of(request), language_of(request)
    resend_at = pending.sent_at + context.settings.otp_resend_seconds
    now = context.clock()
    resend_time = datetime.fromtimestamp(resend_at, context.settings.zone)
    page = {
        "phone": _national(pending.phone),
        "can_resend": now.timestamp() >= resend_at,
        "resend_time": i18n.format_time(resend_time, lang),
        "minutes": context.settings.otp_ttl_seconds // 60,
        "logged_in": False,
        **values,
    }
    csrf.for_login_forms(request)
    return render(request, "login/code.html", page, status=status)


def _national(phone: str) -> str:
    """The volunteer's own number as they would write it (it is their own, so not masked)."""
    number = phonenumbers.parse(phone, None)
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))


@router.get("/login/code")
async def code_page(request: Request) -> Response:
    pending = _pending(request)
    if pending is None:
        return RedirectResponse("/login", status_code=303)
    return _code_page(request, pending, {})


@router.post("/login/resend")
async def resend_code(request: Request) -> Response:
    pending = _pending(request)
    if pending is None:
        return RedirectResponse("/login", status_code=303)
    try:
        await _send_code(request, pending.phone, None)
    except TooManyRequests as exc:
        error = _wait(request, exc, language_of(request), new_code=True)
        return _code_page(request, pending, {"error": error}, status=429)
    return _code_sent(request, pending.phone, pending.next_path)


@router.post("/login/code")
async def check_code(request: Request) -> Response:
    form = await request.form()
    pending = _pending(request)
    if pending is None:
        return RedirectResponse("/login", status_code=303)
    context, lang = context_of(request), language_of(request)
    _ = i18n.gettext_for(lang)
    try:
        # "123 456" pasted from a message is the same code.
        typed = "".join(field(form, "code", 32).split())
        code = VerifyIn(phone=pending.phone, code=typed).code
        ip = client_ip(request, context.settings.trusted_proxies)
        login = await context.db.run_write(actions.log_in, context, pending.phone, code, ip)
    except ValidationError:
        login = None
    except TooManyRequests as exc:
        error = _wait(request, exc, lang, new_code=False)
        return _code_page(request, pending, {"error": error}, status=429)
    if login is None:
        error = _(
            "That code is not right or has expired. Check the message, or ask for a new code."
        )
        return _code_page(request, pending, {"code_error": error}, status=400)
    response = redirect(request, pending.next_path)
    start_session(response, request, *login)
    forget_cookie(response, request, PENDING_COOKIE)
    # From here the forms carry the new session's token; the pre-login value is spent.
    forget_cookie(response, request, csrf.CSRF_COOKIE)
    return response


# --- log out -------------------------------------------------------------------------------------


LOGGED_OUT = "/login?notice=logged_out"


@logout_router.post("/logout")
async def log_out(request: Request) -> Response:
    """A post without a session left is answered `LOGGED_OUT` by `web.install`."""
    found = await optional_user(request)
    if found is not None:
        context = context_of(request)
        await context.db.run_write(actions.log_out, context, found[0].session_id)
    response = redirect(request, LOGGED_OUT)
    # The session's token dies with it; the next login page starts a new pre-login value.
    forget_cookie(response, request, SESSION_COOKIE)
    forget_cookie(response, request, csrf.CSRF_COOKIE)
    return response
