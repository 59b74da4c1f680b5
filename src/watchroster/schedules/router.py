"""HTTP endpoints for schedules and open shifts; thin over `service` and `availability`."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from watchroster.auth.deps import AdminUser, authenticate
from watchroster.core import i18n
from watchroster.core.fields import PathId, QueryId, bound_query
from watchroster.db.engine import Database
from watchroster.http.deps import ClockDep, ContextDep, DbDep, SettingsDep, context_of
from watchroster.schedules import availability, preview, service
from watchroster.schedules.drafts import ScheduleDraft, SchedulePreviewOut
from watchroster.schedules.schemas import ScheduleCreate, ScheduleOut, ScheduleUpdate, SlotOut

router = APIRouter(tags=["schedules"])


@router.get("/schedules", response_model=list[ScheduleOut])
def list_schedules(db: DbDep) -> list[ScheduleOut]:
    with db.read() as session:
        return [ScheduleOut.model_validate(s) for s in service.list_schedules(session)]


@router.get(
    "/schedules/{schedule_id}",
    response_model=ScheduleOut,
    responses={404: {"description": "No such schedule"}},
)
def get_schedule(schedule_id: PathId, db: DbDep) -> ScheduleOut:
    with db.read() as session:
        return ScheduleOut.model_validate(service.get_schedule(session, schedule_id))


@router.get(
    "/shifts/available",
    response_model=list[SlotOut],
    responses={
        401: {"description": "include_booked without a valid token"},
        404: {"description": "No such schedule (schedule_id)"},
    },
)
async def available_shifts(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    clock: ClockDep,
    from_: Annotated[
        str | None,
        bound_query("Date (YYYY-MM-DD, group zone) or RFC 3339; default now.", alias="from"),
    ] = None,
    to: availability.WindowEnd = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    schedule_id: QueryId = None,
    include_booked: Annotated[
        bool,
        Query(description="Roster view (needs a login): booked slots too, with available=false."),
    ] = False,
) -> Response:
    if include_booked:
        # The roster view shows volunteers' first names: members only.
        await authenticate(request, context_of(request))
    now = clock()
    window_start, window_end = availability.requested_window(from_, to, settings.zone, now)
    query = availability.SlotQuery(window_start, window_end, limit, schedule_id, include_booked)
    work = availability.BoundedWork(_open_slots_json(db, query, now))
    # The hot path. A typical request (~2 ms) runs inline on SQLite, where a thread hop costs
    # more than the work (see `Database.offload_read`); what outlasts INLINE_SECONDS finishes in a
    # thread of its own, so no request holds the event loop longer than that plus one step.
    if db.is_memory:  # one connection per thread: the work must stay where it started
        work.run()
    elif not await db.offload_read(work.run, INLINE_SECONDS):
        await asyncio.get_running_loop().run_in_executor(_LONG_READS, work.run)
    # Rendered JSON already: skip FastAPI's response-model pass over up to 1,000 items.
    return Response(work.result, media_type="application/json")


# Chosen from bench/bench_stall.py and bench/bench_availability.py runs.
INLINE_SECONDS = 0.003
# Requests that outlast it get one thread of their own: they never take the pool that serves
# bookings, and only one of them competes for the GIL with the event loop. Measured on a quiet
# machine (bench_stall, median of 3): two threads gave /healthz p99 55 ms and booking p99 63 ms;
# one thread 43 ms and 51 ms, at the same availability throughput (64-65 req/s).
_LONG_READS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="availability")


def _open_slots_json(
    db: Database, query: availability.SlotQuery, now: datetime
) -> availability.Steps[str]:
    with db.read() as session:
        return (yield from availability.open_slots_json_steps(session, query, now))


# --- admin: create, change, delete ---------------------------------------------------------------

_ADMIN_RESPONSES: dict[int | str, dict[str, str]] = {
    400: {"description": "Invalid field (the message names it)"},
    401: {"description": "Not logged in"},
    403: {"description": "Admins only"},
}
ScheduleId = PathId


_NAME_TAKEN: dict[int | str, dict[str, str]] = {
    409: {"description": "name_taken: another active schedule has this name"}
}


@router.post(
    "/schedules",
    status_code=201,
    response_model=ScheduleOut,
    responses={**_ADMIN_RESPONSES, **_NAME_TAKEN},
)
def create_schedule(body: ScheduleCreate, admin: AdminUser, context: ContextDep) -> ScheduleOut:
    with context.db.write() as session:
        schedule = service.add_schedule(session, context, admin, body)
        return ScheduleOut.model_validate(schedule)


@router.post("/schedule-preview", response_model=SchedulePreviewOut, responses=_ADMIN_RESPONSES)
def preview_schedule(
    request: Request,
    body: ScheduleDraft,
    admin: AdminUser,
    db: DbDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> SchedulePreviewOut:
    """What the schedule would be, before saving it: the cron expression the form's fields make,
    one sentence in the caller's language, the next 10 shifts and any warnings."""
    lang = i18n.negotiate(
        admin.language, request.headers.get("accept-language"), settings.default_language
    )
    with db.read() as session:
        draft = body.draft(settings.timezone, settings.holiday_country)
        result = preview.preview(session, draft, clock(), lang)
    return SchedulePreviewOut.of(result)


@router.patch(
    "/schedules/{schedule_id}",
    response_model=ScheduleOut,
    responses={
        **_ADMIN_RESPONSES,
        404: {"description": "No such schedule"},
        409: {
            "description": (
                "name_taken: another active schedule has this name; seats_in_use: upcoming "
                "shifts (named in the message and details) have bookings on seats above the new "
                "number; bookings_affected: the change drops booked upcoming shifts (named in "
                'the message and details) and on_booked is not "cancel"'
            )
        },
    },
)
def update_schedule(
    schedule_id: ScheduleId, body: ScheduleUpdate, admin: AdminUser, context: ContextDep
) -> ScheduleOut:
    """Only the fields given change; deactivate with `{"active": false}`. No booking is ever
    left behind: lowering `seats` below what an upcoming shift holds is refused (409), and so
    is a change that stops a booked upcoming shift being a shift, unless `on_booked` is
    "cancel" (those bookings are cancelled and everyone on them told). Bookings that stay move
    with a new length; their calendar events update."""
    with context.db.write() as session:
        schedule = service.change_schedule(session, context, admin, schedule_id, body)
        return ScheduleOut.model_validate(schedule)


@router.delete(
    "/schedules/{schedule_id}",
    status_code=204,
    responses={
        **_ADMIN_RESPONSES,
        404: {"description": "No such schedule"},
        409: {
            "description": "schedule_has_bookings (any, cancelled or past ones too) or "
            "schedule_in_use (calls for volunteers, cancelled shifts): kept for the records, "
            "deactivate it instead"
        },
    },
)
def delete_schedule(schedule_id: ScheduleId, admin: AdminUser, context: ContextDep) -> Response:
    with context.db.write() as session:
        service.remove_schedule(session, context, admin, schedule_id)
    return Response(status_code=204)
