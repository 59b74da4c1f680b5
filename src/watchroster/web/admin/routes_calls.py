""" "Ask for volunteers" on a roster gap (`POST /admin/roster/call`): the form beside each gap of
the roster (`admin/roster/gap_actions.html`) posts here; `calls.service` does what
`POST /roster/calls` does (the use case `call_for_volunteers`), and the coordinator is sent
back to the roster with a notice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from watchroster.calls import service
from watchroster.core import i18n
from watchroster.core.errors import AppError, BadRequest, Conflict, NotFound
from watchroster.core.timefmt import parse_instant
from watchroster.http.deps import context_of
from watchroster.web.admin.access import coordinator_of
from watchroster.web.forms import field, parse_id, safe_next
from watchroster.web.render import redirect

router = APIRouter(include_in_schema=False)

ROSTER = "/admin/roster"


@router.post("/admin/roster/call")
async def ask_for_volunteers(request: Request) -> Response:
    form = await request.form()
    caller = coordinator_of(request)
    back = field(form, "next", 300)
    back = safe_next(back) if back.startswith(ROSTER) else ROSTER
    schedule_text, start_text = _slot_of(form)
    schedule_id = parse_id(schedule_text)
    try:
        start = parse_instant(start_text, "start")
    except BadRequest:
        start = None

    context, notice = context_of(request), "asked"
    try:
        if schedule_id is None or start is None:
            raise NotFound
        await context.db.run_write(service.call_for_volunteers, context, caller, schedule_id, start)
    except Conflict:
        notice = "already_asked"
    except AppError:  # not an open slot (any more), or no such schedule
        notice = "not_open"
    separator = "&" if "?" in back else "?"
    return redirect(request, f"{back}{separator}notice={notice}")


def _slot_of(form: FormData) -> tuple[str, str]:
    """The slot asked about: the roster's buttons send `slot` ("<schedule_id> <start>") and share
    one form a day, so the token is not repeated on each of up to 672 rows; `schedule_id` and
    `start` as two fields are as good (the API's shape, scripts)."""
    slot = field(form, "slot", 80)
    if slot:
        schedule_text, _, start_text = slot.partition(" ")
        return schedule_text, start_text
    return field(form, "schedule_id", 12), field(form, "start", 64)


@dataclass(frozen=True)
class CallStatus:
    """What a gap of the roster says about its call: "Asked at 18:02: 12 people"."""

    asked: str
    filled: bool


def call_status(view: service.CallView, zone: ZoneInfo, lang: str) -> CallStatus:
    """The status line of one call, in the page's language (the asking time in `zone`)."""
    ngettext = i18n.ngettext_for(lang)
    when = view.call.asked_at.astimezone(zone)
    text = ngettext(
        "Asked %(when)s: %(num)d person", "Asked %(when)s: %(num)d people", view.call.recipients
    )
    return CallStatus(
        text % {"when": i18n.format_datetime_words(when, lang), "num": view.call.recipients},
        view.filled,
    )


async def calls_for(
    request: Request, first: date, days: int, lang: str
) -> dict[tuple[int, datetime], CallStatus]:
    """The calls of the roster's days by (schedule_id, start): the roster page passes them to
    `admin/roster/gap_actions.html` as `calls` (aware datetimes compare and hash by instant, so
    the slot's local start finds the call's UTC one)."""
    context = context_of(request)
    zone = context.settings.zone
    # A day more on each side: schedules in another zone than the group's still fall inside.
    start = datetime.combine(first - timedelta(days=1), time(0), zone)
    end = datetime.combine(first + timedelta(days=days + 1), time(0), zone)
    views = await context.db.run_read(service.calls_by_slot, start, end)
    return {key: call_status(view, zone, lang) for key, view in views.items()}
