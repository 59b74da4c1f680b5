"""HTTP endpoints of calls for volunteers (admins only); thin over `service`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from watchroster.auth.deps import AdminUser
from watchroster.calls import service
from watchroster.calls.schemas import CallCreate, CallOut
from watchroster.core.fields import bound_query
from watchroster.core.timefmt import parse_instant
from watchroster.http.deps import ClockDep, ContextDep, DbDep, SettingsDep
from watchroster.schedules.availability import WindowEnd, check_window, requested_window

router = APIRouter(tags=["calls"])

_ADMIN: dict[int | str, dict[str, str]] = {
    401: {"description": "Missing, unknown, expired or revoked token"},
    403: {"description": "Admins only"},
}


@router.post(
    "/roster/calls",
    status_code=201,
    response_model=CallOut,
    responses={
        **_ADMIN,
        400: {"description": "Invalid field, or not an open slot of the schedule"},
        404: {"description": "No such schedule"},
        409: {"description": "Volunteers were already asked for this slot"},
    },
)
def ask_for_volunteers(body: CallCreate, admin: AdminUser, context: ContextDep) -> CallOut:
    """Ask for volunteers on an open slot: one message (each recipient's channel and language,
    with a link to book it) to the active volunteers who have not opted out and are free then.
    One call per slot; each volunteer gets at most WATCHROSTER_VOLUNTEER_CALLS_PER_DAY a day."""
    start = parse_instant(body.start, "start")
    with context.db.write() as session:
        call = service.call_for_volunteers(session, context, admin, body.schedule_id, start)
        return CallOut.of(service.view_of(session, call))


@router.get(
    "/roster/calls",
    response_model=list[CallOut],
    responses={**_ADMIN, 400: {"description": "Malformed from/to, or a window over 366 days"}},
)
def list_calls(
    _admin: AdminUser,
    db: DbDep,
    settings: SettingsDep,
    clock: ClockDep,
    from_: Annotated[
        str | None,
        bound_query(
            "Slots starting from: a date (YYYY-MM-DD, group zone) or RFC 3339; default now.",
            alias="from",
        ),
    ] = None,
    to: WindowEnd = None,
) -> list[CallOut]:
    """Calls for slots in the window: when, by whom, how many were asked, and whether the slot
    has been filled since."""
    start, end = requested_window(from_, to, settings.zone, clock())
    check_window(start, end)
    with db.read() as session:
        return [CallOut.of(view) for view in service.list_calls(session, start, end)]
