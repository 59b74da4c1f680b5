"""A booking's people and their safety (issue #12 §3, §5): the buddy's "I can't come" (with a
confirmation page), the volunteer naming another buddy, and "Home safe" after the shift.

The actions are `bookings.usecases`, the same functions the JSON API calls; a refusal
the page can explain is a notice or the form again with the error, never an error page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from watchroster.bookings import usecases
from watchroster.bookings.schemas import BuddyChange
from watchroster.core import i18n
from watchroster.core.errors import AppError, Conflict
from watchroster.web.forms import field, parse_id
from watchroster.web.render import language_of, redirect
from watchroster.web.routes_booking import act_on_booking, gated_page
from watchroster.web.routes_my import not_found_page, run_on_booking

router = APIRouter(include_in_schema=False)


# --- the buddy declines ------------------------------------------------------------------------


@router.get("/my/{booking_text}/decline")
async def decline_page(request: Request, booking_text: str) -> Response:
    return await gated_page(
        request, booking_text, "my/decline.html", ("can_decline", "cannot_change")
    )


@router.post("/my/{booking_text}/decline")
async def decline(request: Request, booking_text: str) -> Response:
    # refused: started (or cancelled) meanwhile
    done = "/my?notice=declined"
    return await act_on_booking(request, booking_text, usecases.decline, "cannot_change", done)


# --- the volunteer names another buddy -------------------------------------------------------


@router.get("/my/{booking_text}/buddy")
async def buddy_page(request: Request, booking_text: str) -> Response:
    return await _buddy_form(request, booking_text, {})


_CAN_CHANGE = ("can_change_buddy", "cannot_change")


async def _buddy_form(
    request: Request, booking_text: str, extra: dict[str, Any], status: int = 200
) -> Response:
    return await gated_page(request, booking_text, "my/buddy.html", _CAN_CHANGE, extra, status)


def _buddy_error(lang: str, error: AppError) -> dict[str, str]:
    """The form field to mark and the sentence to show for a refused buddy."""
    _ = i18n.gettext_for(lang)
    if error.code == "buddy_busy":
        return {"form_error": _("Your buddy is already on another shift at this time.")}
    if error.code == "buddy_is_self":
        return {"buddy_phone_error": _("You cannot be your own buddy.")}
    return {"buddy_phone_error": _("Enter a valid phone number, or leave it empty.")}


@router.post("/my/{booking_text}/buddy")
async def change_buddy(request: Request, booking_text: str) -> Response:
    form = await request.form()
    booking_id = parse_id(booking_text)
    if booking_id is None:
        return not_found_page(request)
    lang = language_of(request)
    typed = {
        "buddy_name": field(form, "buddy_name", 100),
        "buddy_phone": field(form, "buddy_phone", 32),
    }
    try:
        change = BuddyChange(
            buddy_name=typed["buddy_name"] or None, buddy_phone=typed["buddy_phone"] or None
        )
    except ValidationError:
        _ = i18n.gettext_for(lang)
        error = {"buddy_name_error": _("Please keep the name to 100 characters or fewer.")}
        return await _buddy_form(request, booking_text, {**typed, **error}, 400)

    try:
        result = await run_on_booking(
            request, usecases.change_buddy, booking_id, change, write=True
        )
    except Conflict as error:
        if error.code != "buddy_busy":  # started or cancelled meanwhile
            return redirect(request, f"/my/{booking_id}?notice=cannot_change")
        return await _buddy_form(request, booking_text, {**typed, **_buddy_error(lang, error)}, 409)
    except AppError as error:  # 400: the phone or the person named
        return await _buddy_form(request, booking_text, {**typed, **_buddy_error(lang, error)}, 400)
    if isinstance(result, Response):
        return result
    *_, told = result
    notice = "buddy_changed_told" if told else "buddy_changed"
    return redirect(request, f"/my/{booking_id}?notice={notice}")


# --- home safe -----------------------------------------------------------------------------


@router.post("/my/{booking_text}/safe")
async def mark_safe(request: Request, booking_text: str) -> Response:
    # refused: not ended yet, or cancelled
    done = "/my/{booking_id}?notice=safe"
    return await act_on_booking(request, booking_text, usecases.mark_safe, "not_ended", done)
