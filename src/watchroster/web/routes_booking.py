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

from watchroster.auth.deps import Principal
from watchroster.auth.models import User
from watchroster.bookings import idempotency, service
from watchroster.bookings.report_alerts import report_window_open
from watchroster.bookings.schemas import AttendanceUpdate, ReportCreate, ReportOut
from watchroster.core import i18n
from watchroster.core.errors import Conflict
from watchroster.core.i18n import N_
from watchroster.runtime.context import AppContext
from watchroster.web import csrf
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


def _detail_values(
    context: AppContext, caller: Principal, booking_id: int, lang: str
) -> dict[str, Any]:
    now = context.clock()
    _ = i18n.gettext_for(lang)
    with context.db.read() as session:
        booking, schedule, reports = service.get_booking(session, caller, booking_id)
        # The registered buddy sees who booked (by first name, as everywhere).
        booker = None if booking.user_id == caller.user_id else session.get(User, booking.user_id)
        as_buddy = booking.buddy_user_id == caller.user_id
        name = booker.name if booker else None
        shift = Shift.of(booking, schedule, lang, now, name, as_buddy=as_buddy)
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
    lang = language_of(request)

    def work(context: AppContext, caller: Principal) -> dict[str, Any]:
        return _detail_values(context, caller, booking_id, lang)

    return await run_on_booking(request, work, write=False)


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


BookingAction = Callable[[AppContext, Principal, int], None]


async def act_on_booking(
    request: Request, booking_text: str, action: BookingAction, refused: str, done: str
) -> Response:
    """Run one booking action of a form whose CSRF token the handler has checked.

    A `Conflict` means the shift moved on meanwhile (started, ended or cancelled): back to the
    booking with the notice `refused`. Otherwise to `done`, in which `{booking_id}` is filled.
    """
    booking_id = parse_id(booking_text)
    if booking_id is None:
        return not_found_page(request)

    def work(context: AppContext, caller: Principal) -> None:
        action(context, caller, booking_id)

    try:
        result = await run_on_booking(request, work, write=True)
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
    await csrf.checked_form(request)

    def work(context: AppContext, caller: Principal, booking_id: int) -> None:
        with context.db.write() as session:
            now, rules = context.clock(), context.rules.buddy
            service.cancel_booking(session, caller, booking_id, now, rules)

    # refused: started meanwhile
    return await act_on_booking(request, booking_text, work, "cannot_cancel", "/my?notice=canceled")


@router.post("/my/{booking_text}/attendance")
async def attendance(request: Request, booking_text: str) -> Response:
    form = await csrf.checked_form(request)
    if field(form, "as_buddy"):  # the registered buddy's own (issue #12 §3)
        data = AttendanceUpdate(buddy_attended=field(form, "attended") == "yes")
    else:
        buddy = (field(form, "buddy_attended") == "yes") if field(form, "has_buddy") else None
        data = AttendanceUpdate(attended=field(form, "attended") == "yes", buddy_attended=buddy)

    def work(context: AppContext, caller: Principal, booking_id: int) -> None:
        with context.db.write() as session:
            service.record_attendance(session, caller, booking_id, data, context.clock())

    # refused: not started yet, or cancelled
    done = "/my/{booking_id}?notice=attendance"
    return await act_on_booking(request, booking_text, work, "not_started", done)


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
    form = await csrf.checked_form(request)
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

    def work(context: AppContext, caller: Principal) -> str:
        now, rules = context.clock(), context.rules.alerts
        with context.db.write() as session:

            def filed() -> idempotency.Reply:
                report = service.file_report(session, caller, booking_id, data, now, rules)
                return idempotency.Reply(201, ReportOut.of(report).model_dump_json())

            reply = idempotency.once_in_session(session, caller.user_id, key, now, filed)
            return _report_notice(severity, reply.body)  # a replay tells what the first did

    try:
        result = await run_on_booking(request, work, write=True)
    except Conflict as refused:
        notice = "report_closed" if refused.code == "report_window_closed" else "not_started"
        return redirect(request, f"/my/{booking_id}?notice={notice}")
    if isinstance(result, Response):
        return result
    return redirect(request, f"/my/{booking_id}?notice={result}")


def _report_notice(severity: int, reply_body: str) -> str:
    """What the volunteer is told: whether the coordinators' phones rang (not past a cap).
    A reply stored for replay before the caps existed has no flag: it did alert."""
    if severity != 2:
        return "report"
    held = json.loads(reply_body).get("alert_suppressed", False)
    return "alert_held" if held else "alerted"
