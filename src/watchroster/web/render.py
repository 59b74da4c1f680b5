"""Rendering pages: one Jinja environment, the page's language, CSRF cookie, htmx fragments."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2_fragments import render_block
from markupsafe import Markup

from watchroster.core import i18n
from watchroster.core.i18n import N_
from watchroster.http.deps import context_of
from watchroster.web import compress, csrf
from watchroster.web.present import SlotLine
from watchroster.web.sessions import set_cookie
from watchroster.web.static import static_url

TEMPLATES_DIR = Path(__file__).parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
i18n.install_jinja(_env)
_env.globals["static_url"] = static_url
_env.globals["language_names"] = i18n.LANGUAGE_NAMES
# Every form's hidden CSRF field: one macro, callable from any template, block or macro.
_env.globals["csrf_field"] = _env.get_template("macros/forms.html").module.csrf_field  # type: ignore[attr-defined]

# One-word keys in a redirect's query (`/my?notice=booked`) and the sentence each stands for.
NOTICES = {
    "booked": N_("Your shift is booked."),
    "booked_buddy_told": N_("Your shift is booked. We have told your buddy."),
    "canceled": N_("Your booking is cancelled. The shift is open again for others."),
    "taken": N_("Sorry, someone has just taken this shift."),
    "gone": N_("Sorry, this shift is no longer offered."),
    "started": N_("Sorry, this shift has already started."),
    "cannot_cancel": N_("This shift has already started, so it can no longer be cancelled."),
    "not_started": N_("This shift has not started yet (or was cancelled): nothing was recorded."),
    "attendance": N_("Thank you, your attendance is recorded."),
    "report": N_("Thank you, your report is sent."),
    "alerted": N_("Thank you, your report is sent and the coordinators have been alerted."),
    # Issue #21 §2: a serious report past the alert caps; reports close a day after the shift.
    "alert_held": N_(
        "Thank you, your report is sent. The coordinators were alerted recently, so no new "
        "alert went out: they will find it in their inbox. In an emergency, phone them."
    ),
    "report_closed": N_(
        "Reports are taken until 24 hours after the shift ends: nothing was filed. Please tell "
        "a coordinator directly."
    ),
    # Issue #12: buddies taking part, home safe.
    "declined": N_("Done: you are no longer the buddy on that shift. We have told the volunteer."),
    "cannot_change": N_("This shift has already started (or was cancelled): nothing changed."),
    "buddy_changed": N_("Your buddy is changed."),
    "buddy_changed_told": N_("Your buddy is changed. We have told your new buddy."),
    "safe": N_("Thank you. Glad you are home safe."),
    "not_ended": N_("This shift has not ended yet (or was cancelled): nothing was recorded."),
    "saved": N_("Your profile is saved."),
    "calendar_reset": N_("Your calendar link is replaced: the old one no longer works."),
    "logged_out": N_("You are logged out."),
    "deleted": N_("Your account is deleted. Thank you for patrolling with us."),
    # The roster's "Ask for volunteers" (`web/admin/routes_calls.py`).
    "asked": N_("Volunteers have been asked. The roster shows when the shift is taken."),
    "already_asked": N_("Volunteers were already asked for this shift."),
    "not_open": N_("This shift is no longer open: nobody was asked."),
}
# Notices that report a refusal: announced at once (role="alert"), the others politely.
ALERTS = frozenset(
    {"taken", "gone", "started", "cannot_cancel", "not_started", "already_asked", "not_open"}
    | {"cannot_change", "not_ended"}  # issue #12 §3, §5
    | {"alert_held", "report_closed"}  # issue #21 §2
)


@lru_cache(maxsize=50_000)
def slot_html(line: SlotLine, lang: str) -> Markup:
    """One open slot's `<li>` (shifts/slot.html), rendered once per process and language.

    The open-shifts page lists up to 50 of them and must render at half the speed of the JSON
    list or better; like the API's pre-rendered JSON, a slot's markup never changes (only
    whether it is still open), so the per-slot escaping and gettext calls are paid once.
    """
    context = {**i18n.jinja_context(lang), "lang": lang, "line": line}
    return Markup(_env.get_template("shifts/slot.html").render(context))  # noqa: S704 - autoescaped


def slots_html(lines: Iterable[SlotLine], lang: str) -> Markup:
    """A day's slots, joined here rather than in a template loop (a Jinja call per slot was
    the largest cost left in rendering the page)."""
    return Markup("".join([slot_html(line, lang) for line in lines]))  # noqa: S704 - escaped


def render_fragment(template: str, lang: str, values: dict[str, Any]) -> Markup:
    """A piece of a page that depends on nothing of the request but its language."""
    context = {**i18n.jinja_context(lang), "lang": lang, **values}
    return Markup(_env.get_template(template).render(context))  # noqa: S704 - autoescaped


@lru_cache(maxsize=256)
def chrome(lang: str, section: str | None, logged_in: bool, is_admin: bool = False) -> Markup:
    """The skip link and the header with its menu: the same for every page of a section, so
    rendered once per language (part of keeping the open-shifts page cheap)."""
    values = {"section": section, "logged_in": logged_in, "is_admin": is_admin}
    return render_fragment("chrome.html", lang, values)


@lru_cache(maxsize=1024)
def schedule_filter(
    lang: str, schedules: tuple[tuple[int, str], ...], schedule_id: int | None
) -> Markup:
    """The open-shifts page's "Show shifts of" form (schedules: (id, name) pairs)."""
    values = {"schedules": schedules, "schedule_id": schedule_id}
    return render_fragment("shifts/filter.html", lang, values)


_env.globals["chrome"] = chrome
_env.globals["schedule_filter"] = schedule_filter


def language_of(request: Request) -> str:
    """The page's language: the user's saved choice (read with the session), else the
    browser's Accept-Language, else WATCHROSTER_DEFAULT_LANGUAGE."""
    settings = context_of(request).settings
    default = str(getattr(settings, "default_language", i18n.SOURCE_LANGUAGE))
    saved = getattr(request.state, "user_language", None)
    return i18n.negotiate(saved, request.headers.get("accept-language"), default)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def notice_values(key: str | None, lang: str) -> dict[str, Any]:
    """`notice` (the sentence) and `notice_role` for the page's notice area."""
    message = NOTICES.get(key or "")
    if message is None:
        return {"notice": None}
    role = "alert" if key in ALERTS else "status"
    return {"notice": i18n.gettext_for(lang)(message), "notice_role": role}


def render(
    request: Request,
    template: str,
    values: dict[str, Any],
    *,
    status: int = 200,
    block: str | None = None,
) -> HTMLResponse:
    """A page (or, with `block`, one block of it, for htmx) in the request's language."""
    lang = language_of(request)
    context = {
        **i18n.jinja_context(lang),
        "lang": lang,
        "csrf_token": csrf.token_for(request),
        "is_admin": getattr(request.state, "is_admin", False),
        **notice_values(request.query_params.get("notice"), lang),
        **values,
    }
    if block is None:
        html = _env.get_template(template).render(context)
    else:
        html = render_block(_env, template, block, context)
    response = _html_response(request, html, status)
    new_value = getattr(request.state, "new_csrf_value", None)
    if new_value is not None:
        set_cookie(response, request, csrf.CSRF_COOKIE, new_value, csrf.COOKIE_MAX_AGE)
    return response


def _html_response(request: Request, html: str, status: int) -> HTMLResponse:
    body = html.encode()
    # Pages show personal data: never kept by a shared cache or the browser's disk.
    headers = {"Cache-Control": "no-store", "Vary": "Accept-Encoding"}
    if len(body) >= compress.MINIMUM_BYTES and compress.accepts_gzip(request):
        body = compress.gzipped(body)
        headers["Content-Encoding"] = "gzip"
    return HTMLResponse(body, status_code=status, headers=headers)


def redirect(request: Request, url: str) -> Response:
    """Post/redirect/get; an htmx request is told to load the page itself (a 303 would be
    followed inside the XHR and its page swapped into a fragment's place)."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    """A readable page for a refused request (`title`/`message` already translated)."""
    values = {"title": title, "message": message, "logged_in": False}
    return render(request, "errors/error.html", values, status=status)
