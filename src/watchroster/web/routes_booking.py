"""One booking (`/my/<id>`): cancel it, record attendance, file incident reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from watchroster.bookings import idempotency, usecases
from watchroster.bookings.report_alerts import report_window_open
from watchroster.bookings.schemas import AttendanceUpdate, ReportCreate
from watchroster.core import i18n
from watchroster.core.errors import Conflict
from watchroster.core.i18n import N_
from watchroster.web.forms import field, parse_id
from watchroster.web.render import language_of, redirect, render
from watchroster.web.routes_my import Shift, not_found_page, run_on_booking

router = APIRouter(include_in_schema=False)

SEVERITY_LABELS = {
    0: N_("All quiet / nothing serious"),
    1: N_("Something to follow up"),
    2: N_("Serious — alert the coordinators now"),
}
MAX_REPORT = 4000


def _detail_values(view: usecases.BookingView, lang: str) -> dict[str, Any]:
    caller, booking, schedule, now = view.caller, view.booking, view.schedule, view.now
    reports = view.reports
    _ = i18n.gettext_for(lang)
    as_buddy = booking.buddy_user_id == caller.user_id
    # The registered buddy sees who booked (by first name, as everywhere).
    shift = Shift.of(booking, schedule, lang, now, view.booker_name, as_buddy=as_buddy)
    zone = ZoneInfo(schedule.timezone)
    owner = caller.is_admin or booking.user_id == caller.user_id
    active = not shift.canceled
    before, after = active and not shift.started, active and shift.started
    return {
        "shift": shift,
        "can_cancel": owner and before,
        "can_record": owner and after,
        # Issue #12: the registered buddy takes part; the one who booked names the buddy.
        "can_record_own": as_buddy and not owner and after,
        # Until 24 h after the end (issue #21 §2); later a coordinator is told directly.
        "can_report": (owner or as_buddy) and after and report_window_open(booking, now),
        "can_decline": as_buddy and before,
        "can_change_buddy": booking.user_id == caller.user_id and before,
        "can_mark_safe": shift.needs_safe,
        "safe_when": _safe_when(booking.safe_at, zone, lang),
        "severities": [(level, _(label)) for level, label in SEVERITY_LABELS.items()],
        "idempotency_key": idempotency.new_form_key(),  # a resubmitted report files once
        "reports": [
            {
                "severity": _(SEVERITY_LABELS[r.severity]),
                "when": i18n.format_datetime_words(r.created_at.astimezone(zone), lang),
                "message": r.message,
            }
            for r in reports
        ],
        "section": "my",
        "logged_in": True,
    }


def _safe_when(safe_at: datetime | None, zone: ZoneInfo, lang: str) -> str | None:
    return None if safe_at is None else i18n.format_datetime_words(safe_at.astimezone(zone), lang)


async def load_detail(request: Request, booking_text: str) -> dict[str, Any] | Response:
    """The values of a booking's pages, or the page to answer instead (404, login...)."""
    booking_id = parse_id(booking_text)
    if booking_id is None:
        return not_found_page(request)
    view = await run_on_booking(request, usecases.view_booking, booking_id, write=False)
    if isinstance(view, Response):
        return view
    return _detail_values(view, language_of(request))


async def _detail(
    request: Request, booking_text: str, extra: dict[str, Any], status: int = 200
) -> Response:
    values = await load_detail(request, booking_text)
    if isinstance(values, Response):
        return values
    return render(request, "my/detail.html", {**values, **extra}, status=status)


@router.get("/my/{booking_text}")
async def booking_page(request: Request, booking_text: str) -> Response:
    return await _detail(request, booking_text, {})


async def gated_page(
    request: Request,
    booking_text: str,
    template: str,
    gate: tuple[str, str],
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    """A booking's page that only makes sense while a `can_…` value holds: `gate` is that
    value's name and the notice to send the volunteer back to the booking with otherwise."""
    values = await load_detail(request, booking_text)
    if isinstance(values, Response):
        return values
    can, refused = gate
    if not values[can]:
        return redirect(request, f"/my/{parse_id(booking_text)}?notice={refused}")
    return render(request, template, {**values, **(extra or {})}, status=status)


# A use case of `bookings.usecases`: (session, context, caller, booking_id, *input).
BookingAction = Callable[..., object]


async def act_on_booking(
    request: Request,
    booking_text: str,
    action: BookingAction,
    refused: str,
    done: str,
    *args: Any,
) -> Response:
    """Run one booking use case, `action(session, context, caller, booking_id, *args)`.

    A `Conflict` means the shift moved on meanwhile (started, ended or cancelled): back to the
    booking with the notice `refused`. Otherwise to `done`, in which `{booking_id}` is filled.
    """
    booking_id = parse_id(booking_text)
    if booking_id is None:
        return not_found_page(request)
    try:
        result = await run_on_booking(request, action, booking_id, *args, write=True)
    except Conflict:
        return redirect(request, f"/my/{booking_id}?notice={refused}")
    if isinstance(result, Response):
        return result
    return redirect(request, done.format(booking_id=booking_id))


@router.get("/my/{booking_text}/cancel")
async def cancel_page(request: Request, booking_text: str) -> Response:
    return await gated_page(
        request, booking_text, "my/cancel.html", ("can_cancel", "cannot_cancel")
    )


@router.post("/my/{booking_text}/cancel")
async def cancel(request: Request, booking_text: str) -> Response:
    # refused: started meanwhile
    done = "/my?notice=canceled"
    return await act_on_booking(request, booking_text, usecases.cancel, "cannot_cancel", done)


@router.post("/my/{booking_text}/attendance")
async def attendance(request: Request, booking_text: str) -> Response:
    form = await request.form()
    if field(form, "as_buddy"):  # the registered buddy's own (issue #12 §3)
        data = AttendanceUpdate(buddy_attended=field(form, "attended") == "yes")
    else:
        buddy = (field(form, "buddy_attended") == "yes") if field(form, "has_buddy") else None
        data = AttendanceUpdate(attended=field(form, "attended") == "yes", buddy_attended=buddy)

    # refused: not started yet, or cancelled
    done = "/my/{booking_id}?notice=attendance"
    action = usecases.record_attendance
    return await act_on_booking(request, booking_text, action, "not_started", done, data)


def _report_error(lang: str, severity: int | None, message: str) -> str | None:
    _ = i18n.gettext_for(lang)
    if severity is None:
        return _("Choose how serious it was.")
    if not message.strip():
        return _("Write what happened.")
    if len(message) > MAX_REPORT:
        return _("Please keep it to 4000 characters or fewer.")
    return None


@router.post("/my/{booking_text}/report")
async def report(request: Request, booking_text: str) -> Response:
    form = await request.form()
    severity = {"0": 0, "1": 1, "2": 2}.get(field(form, "severity"))
    message = field(form, "message", MAX_REPORT)
    error = _report_error(language_of(request), severity, message)
    typed = {"report_severity": severity, "report_message": message}
    if error is not None or severity is None:
        return await _detail(request, booking_text, {**typed, "report_error": error}, 400)
    booking_id = parse_id(booking_text)
    if booking_id is None:
        return not_found_page(request)
    try:
        data = ReportCreate(severity=severity, message=message)
    except ValidationError:
        return await _detail(request, booking_text, {**typed, "report_error": error}, 400)

    key = idempotency.form_request_key(
        field(form, idempotency.FORM_FIELD, 64), f"/my/{booking_id}/report", data
    )

    try:
        reply = await run_on_booking(
            request, usecases.file_report, booking_id, data, key, write=True
        )
    except Conflict as refused:
        notice = "report_closed" if refused.code == "report_window_closed" else "not_started"
        return redirect(request, f"/my/{booking_id}?notice={notice}")
    if isinstance(reply, Response):
        return reply
    notice = _report_notice(severity, reply.body)  # a replay tells what the first did
    return redirect(request, f"/my/{booking_id}?notice={notice}")


def _report_notice(severity: int, reply_body: str) -> str:
    """What the volunteer is told: whether the coordinators' phones rang (not past a cap).
    A reply stored for replay before the caps existed has no flag: it did alert."""
    if severity != 2:
        return "report"
    held = json.loads(reply_body).get("alert_suppressed", False)
    return "alert_held" if held else "alerted"
