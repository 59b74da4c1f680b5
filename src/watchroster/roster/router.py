"""HTTP endpoints of the roster (admins only); thin over `service` and `export`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from watchroster.auth.deps import AdminUser
from watchroster.core.timefmt import DATE_PATTERN, parse_day
from watchroster.http.deps import ClockDep, DbDep, SettingsDep
from watchroster.roster import export, service
from watchroster.roster.schemas import RosterOut

router = APIRouter(tags=["roster"])

_RESPONSES: dict[int | str, dict[str, str]] = {
    400: {"description": "start is not a date, or days is not 1..31"},
    401: {"description": "Missing, unknown, expired or revoked token"},
    403: {"description": "Admins only"},
}
Start = Annotated[
    str | None,
    Query(
        description="First local date (WATCHROSTER_TIMEZONE); default today.",
        json_schema_extra={"pattern": DATE_PATTERN},
    ),
]
Days = Annotated[int, Query(ge=1, le=service.MAX_DAYS, description="How many days (1..31).")]


def _requested_roster(
    _admin: AdminUser,
    db: DbDep,
    settings: SettingsDep,
    clock: ClockDep,
    start: Start = None,
    days: Days = service.DEFAULT_DAYS,
) -> service.Roster:
    """The roster both endpoints answer with (admins only): the same query, the same days."""
    zone = settings.zone
    today = clock().astimezone(zone).date()
    first = today if start is None else parse_day(start, "start")
    with db.read() as session:
        return service.roster(session, first, days, zone)


RequestedRoster = Annotated[service.Roster, Depends(_requested_roster)]


@router.get("/roster", response_model=RosterOut, responses=_RESPONSES)
def get_roster(roster: RequestedRoster) -> RosterOut:
    """Day by day: each slot with its volunteers' and buddies' first names, or a gap; per day
    and per schedule how many places are filled. Cancelled shifts are listed with the reason."""
    return RosterOut.of(roster)


@router.get(
    "/roster.csv",
    response_class=Response,
    responses={
        **_RESPONSES,
        200: {"content": {"text/csv": {}}, "description": "One row per place of each slot."},
    },
)
def get_roster_csv(roster: RequestedRoster) -> Response:
    """The roster as CSV: date, schedule, start, end, start_time, place, volunteer, buddy,
    status (filled, gap, cancelled), note."""
    return export.csv_response(roster)
