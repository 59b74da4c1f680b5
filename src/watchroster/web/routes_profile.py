"""Profile: name, reminders, language, SMS or WhatsApp (what `PATCH /me` offers); log out is in
`routes_login`; deleting the account does exactly what `DELETE /me` does
(the use case `auth.actions.erase_my_account`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from watchroster.auth import actions, service
from watchroster.auth.deps import Principal
from watchroster.auth.schemas import MePatch
from watchroster.calendar import service as calendar
from watchroster.calendar.router import calendar_url_of
from watchroster.core import i18n
from watchroster.http.deps import context_of
from watchroster.runtime.context import AppContext
from watchroster.web.forms import field
from watchroster.web.render import language_of, redirect, render
from watchroster.web.sessions import SESSION_COOKIE, forget_cookie, page_user

router = APIRouter(include_in_schema=False)

# How messages reach the volunteer (`MePatch.channel`); brand names, shown as they are.
CHANNELS = {"sms": "SMS", "whatsapp": "WhatsApp"}


async def _profile(context: AppContext, caller: Principal) -> dict[str, Any]:
    user = await context.db.run_read(service.get_user, caller.user_id)
    return {
        "name": user.name or "",
        "reminders": user.reminders,
        "volunteer_calls": user.volunteer_calls,
        "language": i18n.supported(user.language) or "",
        "channel": user.channel,
    }


async def _profile_page(request: Request, caller: Principal, extra: dict[str, Any]) -> Response:
    context = context_of(request)
    values = await _profile(context, caller)
    # Made on first view (a write, once): off the event loop like any write.
    calendar_url = await run_in_threadpool(calendar_url_of, context, caller.user_id)
    page = {**values, **extra, "section": "profile", "logged_in": True, "channels": CHANNELS}
    # webcal:// makes phones offer to subscribe rather than download the file once.
    page["calendar_url"] = calendar_url
    page["webcal_url"] = "webcal://" + calendar_url.split("://", 1)[1]
    return render(request, "profile/profile.html", page, status=400 if extra else 200)


@router.get("/profile")
async def profile_page(request: Request) -> Response:
    caller, _saved = await page_user(request)
    return await _profile_page(request, caller, {})


@router.post("/profile")
async def save_profile(request: Request) -> Response:
    form = await request.form()
    caller, _saved = await page_user(request)
    name = field(form, "name", 100).strip()
    language = field(form, "language", 8)
    channel = field(form, "channel", 16)
    # An unknown channel (a stale or forged form) leaves the saved one as it is.
    channels = {"channel": channel} if channel in CHANNELS else {}
    try:
        patch = MePatch(
            name=name or None,
            reminders=field(form, "reminders") == "on",
            volunteer_calls=field(form, "volunteer_calls") == "on",
            language=i18n.supported(language),
            **channels,
        )
    except ValidationError:
        _ = i18n.gettext_for(language_of(request))
        error = _("Your name can be at most 100 characters.")
        return await _profile_page(request, caller, {"name_error": error})

    context = context_of(request)
    await context.db.run_write(service.update_me, caller.user_id, patch)
    return redirect(request, "/profile?notice=saved")


@router.post("/profile/calendar-link")
async def reset_calendar_link(request: Request) -> Response:
    """What `POST /me/calendar-link` does: a new link, the old one answers 404 at once."""
    caller, _saved = await page_user(request)

    context = context_of(request)
    await context.db.run_write(
        calendar.reset_token, context.settings, caller.user_id, context.clock()
    )
    return redirect(request, "/profile?notice=calendar_reset")


@router.get("/profile/delete")
async def delete_page(request: Request) -> Response:
    await page_user(request)
    return render(request, "profile/delete.html", {"section": "profile", "logged_in": True})


@router.post("/profile/delete")
async def delete_account(request: Request) -> Response:
    caller, _saved = await page_user(request)

    context = context_of(request)
    await context.db.run_write(actions.erase_my_account, context, caller)
    request.state.user_language = None
    response = redirect(request, "/login?notice=deleted")
    forget_cookie(response, request, SESSION_COOKIE)
    return response
