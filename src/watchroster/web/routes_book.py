"""Booking one shift: the page (or in-place panel), and the form that books it.

The booking itself is `bookings.usecases.book`, the function `POST /bookings` calls: through
`context.writes`, with the session checked inside the booking's transaction. A lost race
is "Sorry, someone has just taken this shift", never an error page; a double tap or resubmitted
form finds the person already holding the slot and answers "booked".
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from watchroster.bookings import idempotency, service, usecases
from watchroster.bookings.schemas import BookingCreate, BookingCreated
from watchroster.core import i18n
from watchroster.core.errors import AppError, Conflict, NotFound, Unauthorized, ValidationFailed
from watchroster.core.timefmt import parse_instant
from watchroster.http.deps import context_of
from watchroster.schedules import availability, slot_listing
from watchroster.web.forms import field, parse_id, query_number
from watchroster.web.present import slot_line
from watchroster.web.render import (
    error_page,
    is_htmx,
    language_of,
    notice_values,
    redirect,
    render,
)
from watchroster.web.routes_shifts import shifts_values
from watchroster.web.sessions import LoginRequired, optional_user, page_user, session_token_hash

router = APIRouter(include_in_schema=False)

_BUDDY_ERRORS = {"invalid_phone", "invalid_buddy", "buddy_is_self"}


def _book_url(schedule_id: object, start_time: str) -> str:
    return f"/shifts/book?schedule_id={schedule_id}&start={quote(start_time, safe='')}"


async def _slot_or_notice(
    request: Request, schedule_text: str, start_text: str
) -> tuple[availability.FoundSlot, str] | str:
    """The open slot the form names, or the notice key saying why it cannot be booked."""
    schedule_id = parse_id(schedule_text)
    try:
        start = parse_instant(start_text, "start")
    except ValidationFailed:
        return "gone"
    if schedule_id is None:
        return "gone"
    context = context_of(request)
    found = await context.db.run_read(slot_listing.one_slot, schedule_id, start, context.clock())
    if found is None:
        return "gone"
    return "taken" if found[0].booked else found


def _book_values(
    request: Request, slot: tuple[availability.FoundSlot, str], extra: dict[str, Any]
) -> dict[str, Any]:
    found, name = slot
    line = slot_line(
        found.slot.schedule_id,
        name,
        found.slot.start_time,
        found.slot.end_time,
        language_of(request),
        found.slot.seats,
        found.seats_left,
    )
    values = {
        "line": line,
        "schedule_id": found.slot.schedule_id,
        "start": found.slot.start_time,
        # Several panels may be open in place on the list: ids must stay unique on the page.
        "form_id": f"{found.slot.schedule_id}-{int(found.slot.start.timestamp())}",
        "buddy_name": "",
        "buddy_phone": "",
        "in_place": is_htmx(request),
        "idempotency_key": idempotency.new_form_key(),  # a double tap books once
        "section": "shifts",
        "logged_in": True,
    }
    return {**values, **extra}


@router.get("/shifts/book")
async def book_page(request: Request) -> Response:
    await page_user(request)
    query = request.query_params
    query_number(query, "schedule_id", 1)  # a changed link: 400, not "this shift is gone"
    slot = await _slot_or_notice(request, query.get("schedule_id", ""), query.get("start", ""))
    schedule_id = parse_id(query.get("schedule_id", ""))
    if slot == "taken" and schedule_id is not None:
        mine = await _already_mine(request, schedule_id, query.get("start", ""))
        if mine is not None:  # e.g. the back button after booking: not "someone else"
            return redirect(request, f"/my/{mine}")
    if isinstance(slot, str):
        return await _refused(request, slot)
    block = "book_form" if is_htmx(request) else None
    return render(request, "shifts/book.html", _book_values(request, slot, {}), block=block)


async def _refused(request: Request, notice: str) -> Response:
    """Back to the refreshed list with a notice: in place for htmx, else post/redirect/get."""
    if not is_htmx(request):
        return redirect(request, f"/shifts?notice={notice}")
    values = await shifts_values(request, None, context_of(request).clock())
    text = notice_values(notice, language_of(request))["notice"]
    response = render(request, "shifts/list.html", {**values, "slots_notice": text}, block="slots")
    response.headers["HX-Retarget"] = "#slots"
    response.headers["HX-Reswap"] = "outerHTML"
    return response


async def _already_mine(request: Request, schedule_id: int, start_text: str) -> int | None:
    """The caller's booking of this very slot (a double tap, a resubmitted form, the back
    button after booking), if they hold it."""
    found = await optional_user(request)
    if found is None:
        return None
    try:
        start = parse_instant(start_text, "start")
    except ValidationFailed:
        return None
    user_id = found[0].user_id
    return await context_of(request).db.run_read(service.held_slot, user_id, schedule_id, start)


async def _book(request: Request, token_hash: str, data: BookingCreate, form_key: str) -> bool:
    """Book with the use case of POST /bookings; True when a notice was queued for the buddy."""
    key = idempotency.form_request_key(form_key, "/shifts/book", data)
    reply = await usecases.book(context_of(request), token_hash, data, key)
    return BookingCreated.model_validate_json(reply.body).buddy_notified is True


def _booking_request(form: FormData) -> BookingCreate | None:
    schedule_id = parse_id(field(form, "schedule_id"))
    if schedule_id is None:
        return None
    return BookingCreate(
        schedule_id=schedule_id,
        start_time=field(form, "start", 64),
        buddy_name=field(form, "buddy_name", 100) or None,
        buddy_phone=field(form, "buddy_phone", 32) or None,
    )


@router.post("/shifts/book")
async def book(request: Request) -> Response:
    form = await request.form()
    back = _book_url(field(form, "schedule_id", 12), field(form, "start", 64))
    token_hash = session_token_hash(request)
    if token_hash is None:
        raise LoginRequired(back)
    try:
        data = _booking_request(form)
    except ValidationError:
        return await _form_error(request, form, "buddy_name_error")
    if data is None:
        return await _refused(request, "gone")
    try:
        form_key = field(form, idempotency.FORM_FIELD, 64)
        buddy_told = await _book(request, token_hash, data, form_key)
    except Unauthorized:
        raise LoginRequired(back) from None
    except AppError as exc:
        return await _booking_refused(request, form, data, exc)
    return _booked(request, "booked_buddy_told" if buddy_told else "booked")


def _booked(request: Request, notice: str) -> Response:
    if is_htmx(request):
        return render(request, "shifts/booked.html", {"notice_key": notice, "logged_in": True})
    return redirect(request, f"/my?notice={notice}")


async def _booking_refused(
    request: Request, form: FormData, data: BookingCreate, exc: AppError
) -> Response:
    """A refused booking in the volunteer's words (never an error page for a lost race)."""
    if isinstance(exc, Conflict) and exc.code in ("slot_taken", "overlap"):
        if await _already_mine(request, data.schedule_id, data.start_time) is not None:
            return _booked(request, "booked")
        if exc.code == "slot_taken":
            return await _refused(request, "taken")
        return await _form_error(request, form, "overlap_error")
    if isinstance(exc, ValidationFailed) and exc.code in _BUDDY_ERRORS:
        return await _form_error(request, form, "buddy_phone_error", exc.code)
    if isinstance(exc, Conflict) and exc.code == "buddy_busy":  # issue #12 §3 (helper C)
        return await _form_error(request, form, "buddy_phone_error", exc.code)
    if isinstance(exc, ValidationFailed) and exc.code == "slot_started":
        return await _refused(request, "started")
    if isinstance(exc, NotFound | ValidationFailed):
        return await _refused(request, "gone")
    _ = i18n.gettext_for(language_of(request))
    return error_page(request, exc.status_code, _("Not booked"), _("This account cannot book."))


def _error_text(lang: str, key: str, code: str | None) -> str:
    _ = i18n.gettext_for(lang)
    if key == "overlap_error":
        return _("You already have a shift at this time. See My shifts.")
    if key == "buddy_name_error":
        return _("Your buddy's name can be at most 100 characters.")
    if code == "buddy_is_self":
        return _("You cannot be your own buddy: leave the buddy's phone empty or give theirs.")
    if code == "buddy_busy":
        return _("Your buddy is already on another shift at this time.")
    return _("Enter your buddy's mobile number like 071 123 4567, or leave it empty.")


async def _form_error(
    request: Request, form: FormData, key: str, code: str | None = None
) -> Response:
    """The booking form again, with what was typed and the problem next to its field."""
    slot = await _slot_or_notice(request, field(form, "schedule_id", 12), field(form, "start", 64))
    if isinstance(slot, str):
        return await _refused(request, slot)
    error = _error_text(language_of(request), key, code)
    typed = {
        "buddy_name": field(form, "buddy_name", 100),
        "buddy_phone": field(form, "buddy_phone", 32),
    }
    values = _book_values(request, slot, {**typed, key: error})
    if is_htmx(request):  # htmx swaps 2xx only
        return render(request, "shifts/book.html", values, block="book_form")
    return render(
        request,
        "shifts/book.html",
        values,
        status=409 if key == "overlap_error" or code == "buddy_busy" else 400,
    )
