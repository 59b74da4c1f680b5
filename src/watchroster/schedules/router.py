"""HTTP endpoints for schedules and open shifts; thin over `service` and `availability`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from watchroster.auth.deps import AdminUser, authenticate
from watchroster.db import Database
from watchroster.deps import ClockDep, DbDep, SettingsDep, context_of
from watchroster.schedules import availability, service
from watchroster.schedules.schemas import ScheduleCreate, ScheduleOut, ScheduleUpdate, SlotOut
from watchroster.timefmt import parse_bound

router = APIRouter(tags=["schedules"])


@router.get("/schedules", response_model=list[ScheduleOut])
def list_schedules(db: DbDep) -> list[ScheduleOut]:
    with db.read() as session:
        return [ScheduleOut.model_validate(s) for s in service.list_schedules(session)]


@router.get("/schedules/{schedule_id}", response_model=ScheduleOut)
def get_schedule(schedule_id: int, db: DbDep) -> ScheduleOut:
    with db.read() as session:
        return ScheduleOut.model_validate(service.get_schedule(session, schedule_id))


@router.get("/shifts/available", response_model=list[SlotOut])
async def available_shifts(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    clock: ClockDep,
    from_: Annotated[
        str | None,
        Query(alias="from", description="Date (YYYY-MM-DD, group zone) or RFC 3339; default now."),
    ] = None,
    to: Annotated[
        str | None,
        Query(description="Date (inclusive) or RFC 3339 (exclusive); default from + 14 days."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    schedule_id: int | None = None,
    include_booked: Annotated[
        bool,
        Query(description="Roster view (needs a login): booked slots too, with available=false."),
    ] = False,
) -> Response:
    if include_booked:
        # The roster view shows volunteers' first names: members only.
        await authenticate(request, context_of(request))
    now = clock()
    zone = settings.zone
    window_start = parse_bound(from_, "from", zone, end_of_day=False) if from_ else now
    window_end = (
        parse_bound(to, "to", zone, end_of_day=True)
        if to
        else window_start + availability.DEFAULT_WINDOW
    )
    query = availability.SlotQuery(window_start, window_end, limit, schedule_id, include_booked)
    # The hot path: async, its read inline on SQLite (see `Database.run_read`).
    body = await db.run_read(_open_slots_json, db, query, now)
    # Rendered JSON already: skip FastAPI's response-model pass over up to 1,000 items.
    return Response(body, media_type="application/json")


def _open_slots_json(db: Database, query: availability.SlotQuery, now: datetime) -> str:
    with db.read() as session:
        return availability.open_slots_json(session, query, now)


# --- admin: create, change, delete ---------------------------------------------------------------

_ADMIN_RESPONSES: dict[int | str, dict[str, str]] = {
    400: {"description": "Invalid field (the message names it)"},
    401: {"description": "Not logged in"},
    403: {"description": "Admins only"},
}
# No id exceeds a 32-bit integer column; refusing bigger ones spares PostgreSQL an overflow.
ScheduleId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("/schedules", status_code=201, response_model=ScheduleOut, responses=_ADMIN_RESPONSES)
def create_schedule(
    body: ScheduleCreate, _admin: AdminUser, db: DbDep, settings: SettingsDep
) -> ScheduleOut:
    with db.write() as session:
        return ScheduleOut.model_validate(service.create_schedule(session, body, settings.timezone))


@router.patch(
    "/schedules/{schedule_id}",
    response_model=ScheduleOut,
    responses={**_ADMIN_RESPONSES, 404: {"description": "No such schedule"}},
)
def update_schedule(
    schedule_id: ScheduleId, body: ScheduleUpdate, _admin: AdminUser, db: DbDep
) -> ScheduleOut:
    """Only the fields given change; deactivate with `{"active": false}`."""
    with db.write() as session:
        return ScheduleOut.model_validate(service.update_schedule(session, schedule_id, body))


@router.delete(
    "/schedules/{schedule_id}",
    status_code=204,
    responses={
        **_ADMIN_RESPONSES,
        404: {"description": "No such schedule"},
        409: {"description": "The schedule has bookings; deactivate it instead"},
    },
)
def delete_schedule(
    schedule_id: ScheduleId, _admin: AdminUser, db: DbDep, clock: ClockDep
) -> Response:
    with db.write() as session:
        service.delete_schedule(session, schedule_id, clock())
    return Response(status_code=204)
