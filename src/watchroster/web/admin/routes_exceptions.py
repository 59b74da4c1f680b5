"""Cancel one shift, and the list of a schedule's cancelled shifts with "Undo" (`/admin/...`).

`/admin/schedules/{id}/cancel?start=<RFC 3339>` is a confirmation page (the roster and the
schedule pages link to it): it shows who is booked and that they will be told, and asks for the
reason; its POST does what `POST /schedules/{id}/exceptions` does (the use case
`bookings.shift_cancel.cancel_one_shift`; "Undo": `undo_shift_cancel`).
`/admin/schedules/{id}/exceptions` lists the cancelled shifts (undo until they start), the next
shifts (each with a "Cancel" link) and the public holidays the schedule skips.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from watchroster.bookings import shift_cancel
from watchroster.core import i18n
from watchroster.core.errors import AppError, NotFound
from watchroster.core.timefmt import parse_instant, to_rfc3339
from watchroster.http.deps import context_of
from watchroster.schedules import availability, exclusions
from watchroster.schedules.exception_schemas import ExceptionCreate
from watchroster.schedules.models import Schedule, ScheduleException
from watchroster.schedules.recurrence import occurrences
from watchroster.web.admin.access import coordinator_of
from watchroster.web.forms import field, parse_id, query_number
from watchroster.web.present import first_name, shift_text
from watchroster.web.render import error_page, language_of, redirect, render

router = APIRouter(include_in_schema=False)

NEXT_SHIFTS = 10
HOLIDAYS_AHEAD = timedelta(days=366)
HOLIDAYS_LISTED = 20


def _not_found(request: Request) -> Response:
    _ = i18n.gettext_for(language_of(request))
    return error_page(
        request, 404, _("Shift not found"), _("This schedule or shift does not exist.")
    )


def _refusal(error: AppError, schedule: Schedule, start: datetime, lang: str) -> str:
    """Why this shift cannot be cancelled, in words."""
    _ = i18n.gettext_for(lang)
    if error.code == "public_holiday":
        name = exclusions.holiday_of(schedule, start, lang) or ""
        text = _("This shift falls on a public holiday (%(name)s): it is not offered anyway.")
        return text % {"name": name}
    if error.code == "shift_started":
        return _("This shift has already started, so it can no longer be cancelled.")
    if error.code == "shift_already_cancelled":
        return _("This shift is already cancelled.")
    return _("This is not one of the schedule's shifts.")


# --- "Cancel this shift" ------------------------------------------------------------------


def _cancel_values(found: shift_cancel.CancelPreview, start: datetime, lang: str) -> dict[str, Any]:
    """What the confirmation page shows; `refusal` when the shift cannot be cancelled."""
    schedule = found.schedule
    refusal = None if found.refusal is None else _refusal(found.refusal, schedule, start, lang)
    end = start + timedelta(minutes=schedule.duration_minutes)
    return {
        "schedule_id": schedule.schedule_id,
        "schedule_name": schedule.name,
        "when": shift_text(start, end, schedule.timezone, lang).when,
        "start": to_rfc3339(start, ZoneInfo(schedule.timezone)),
        "people": [
            {
                "name": first_name(p.volunteer),
                "buddy": first_name(p.buddy),
                "told": p.buddy_told,
            }
            for p in found.people
        ],
        "refusal": refusal,
        "section": "admin",
        "area": "schedules",
    }


async def _cancel_page(
    request: Request, schedule_id: int | None, start_text: str, extra: dict[str, Any]
) -> Response:
    context, lang = context_of(request), language_of(request)
    try:
        start = parse_instant(start_text, "start")
        if schedule_id is None:
            raise NotFound("no such schedule")
        found = await context.db.run_read(shift_cancel.preview_cancel, context, schedule_id, start)
    except AppError:
        return _not_found(request)
    values = _cancel_values(found, start, lang) | extra
    status = 409 if values["refusal"] else 400 if extra.get("reason_error") else 200
    return render(request, "admin/exceptions/cancel.html", values, status=status)


@router.get("/admin/schedules/{schedule_text}/cancel")
async def cancel_page(request: Request, schedule_text: str) -> Response:
    start = request.query_params.get("start", "")
    return await _cancel_page(request, parse_id(schedule_text), start, {})


@router.post("/admin/schedules/{schedule_text}/cancel")
async def cancel(request: Request, schedule_text: str) -> Response:
    form = await request.form()
    caller = coordinator_of(request)
    schedule_id, start_text = parse_id(schedule_text), field(form, "start", 64)
    reason = " ".join(field(form, "reason", 300).split())
    try:
        ExceptionCreate(start=start_text, reason=reason)
    except ValidationError:  # empty, too long, control characters
        _ = i18n.gettext_for(language_of(request))
        error = _("Write a reason (at most 300 characters): everyone on the shift will read it.")
        return await _cancel_page(
            request, schedule_id, start_text, {"reason": reason, "reason_error": error}
        )
    if schedule_id is None:
        return _not_found(request)
    context = context_of(request)
    try:
        start = parse_instant(start_text, "start")
        done = await context.db.run_write(
            shift_cancel.cancel_one_shift, context, caller, schedule_id, start, reason
        )
    except NotFound:
        return _not_found(request)
    except AppError:  # started, or cancelled meanwhile: the page says which
        return await _cancel_page(request, schedule_id, start_text, {"reason": reason})
    # How many bookings were cancelled (their people were told).
    query = urlencode({"done": "cancelled", "told": len(done.bookings)})
    return redirect(request, f"/admin/schedules/{schedule_id}/exceptions?{query}")


# --- the list, with "Undo" ------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    exception_id: int
    when: str
    reason: str
    by: str | None
    at: str
    upcoming: bool


def _row(
    e: ScheduleException,
    schedule: Schedule,
    by: str | None,
    zone: ZoneInfo,
    now: datetime,
    lang: str,
) -> Row:
    end = e.shift_start + timedelta(minutes=schedule.duration_minutes)
    return Row(
        exception_id=e.exception_id,
        when=shift_text(e.shift_start, end, schedule.timezone, lang).when,
        reason=e.reason,
        by=first_name(by),
        at=i18n.format_datetime_words(e.created_at.astimezone(zone), lang),
        upcoming=e.shift_start > now,
    )


def _next_shifts(
    found: list[availability.FoundSlot], schedule: Schedule, lang: str
) -> list[dict[str, Any]]:
    """The next shifts as offered, each with its "Cancel" link."""
    shifts = []
    for item in found:
        slot = item.slot
        end = slot.start + timedelta(minutes=schedule.duration_minutes)
        when = shift_text(slot.start, end, schedule.timezone, lang).when
        link = "/admin/schedules/{}/cancel?{}".format(
            schedule.schedule_id, urlencode({"start": slot.start_time})
        )
        shifts.append({"when": when, "booked_by": item.booked_by, "cancel_link": link})
    return shifts


def _skipped_holidays(schedule: Schedule, now: datetime, lang: str) -> list[dict[str, str]]:
    """The shifts of the coming year that fall on a public holiday, with its name."""
    if not schedule.skip_holidays:
        return []
    skipped = []
    for occ in occurrences(schedule.rule, now, now + HOLIDAYS_AHEAD):
        name = exclusions.holiday_of(schedule, occ.start, lang)
        if name is not None:
            when = shift_text(occ.start, occ.end, schedule.timezone, lang).when
            skipped.append({"when": when, "name": name})
            if len(skipped) == HOLIDAYS_LISTED:
                break
    return skipped


def _list_values(found: shift_cancel.CancelledShifts, lang: str) -> dict[str, Any]:
    schedule, now = found.schedule, found.now
    zone = ZoneInfo(schedule.timezone)
    rows = [_row(e, schedule, by, zone, now, lang) for e, by in found.cancelled]
    return {
        "schedule_id": schedule.schedule_id,
        "schedule_name": schedule.name,
        "upcoming": [row for row in rows if row.upcoming],
        "past": [row for row in rows if not row.upcoming][-20:],
        "next_shifts": _next_shifts(found.next_shifts, schedule, lang),
        "active": schedule.active,
        "skip_holidays": schedule.skip_holidays,
        "holidays": _skipped_holidays(schedule, now, lang),
        "section": "admin",
        "area": "schedules",
    }


@router.get("/admin/schedules/{schedule_text}/exceptions")
async def exceptions_page(request: Request, schedule_text: str) -> Response:
    schedule_id = parse_id(schedule_text)
    context, lang = context_of(request), language_of(request)
    if schedule_id is None:
        return _not_found(request)
    try:
        found = await context.db.run_read(
            shift_cancel.cancelled_shifts, context, schedule_id, NEXT_SHIFTS
        )
    except NotFound:
        return _not_found(request)
    values = _list_values(found, lang)
    told = query_number(request.query_params, "told", 0) or 0
    values |= {"done": request.query_params.get("done"), "told": told}
    return render(request, "admin/exceptions/list.html", values)


@router.post("/admin/schedules/{schedule_text}/exceptions/{exception_text}/undo")
async def undo(request: Request, schedule_text: str, exception_text: str) -> Response:
    schedule_id, exception_id = parse_id(schedule_text), parse_id(exception_text)
    if schedule_id is None or exception_id is None:
        return _not_found(request)
    context, caller = context_of(request), coordinator_of(request)
    try:
        await context.db.run_write(
            shift_cancel.undo_shift_cancel, context, caller, schedule_id, exception_id
        )
    except NotFound:
        return _not_found(request)
    except AppError:  # the shift has started meanwhile
        return redirect(request, f"/admin/schedules/{schedule_id}/exceptions?done=too_late")
    return redirect(request, f"/admin/schedules/{schedule_id}/exceptions?done=restored")
