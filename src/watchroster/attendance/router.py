"""HTTP endpoints of the attendance figures (admins only); thin over `service`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from watchroster.attendance import export, service
from watchroster.attendance.schemas import AttendanceOut
from watchroster.auth.deps import AdminUser
from watchroster.core.csvexport import documented, download
from watchroster.core.timefmt import DATE_PATTERN
from watchroster.http.deps import ClockDep, DbDep, SettingsDep

router = APIRouter(tags=["attendance"])

_DAY = {"pattern": DATE_PATTERN, "format": "date"}
FromDay = Annotated[
    str | None,
    Query(
        alias="from",
        description="First local date (YYYY-MM-DD, group zone); default 12 weeks before `to`.",
        json_schema_extra=_DAY,
    ),
]
ToDay = Annotated[
    str | None,
    Query(description="Last local date, inclusive; default today.", json_schema_extra=_DAY),
]
_SORTS = [*service.SORT_KEYS, *(f"-{key}" for key in service.SORT_KEYS)]
Sort = Annotated[
    str | None,
    Query(
        description="The volunteers' order: a column, '-' first for descending.",
        json_schema_extra={"enum": _SORTS},
    ),
]
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "a malformed date, from after to, a period over 366 days, bad sort"},
    403: {"description": "admins only"},
}
_CSV = {**documented("The volunteers' figures as CSV (header line first)."), **_ERRORS}


def _requested_figures(
    _admin: AdminUser,
    db: DbDep,
    settings: SettingsDep,
    clock: ClockDep,
    from_: FromDay = None,
    to: ToDay = None,
    sort: Sort = None,
) -> service.Figures:
    """The figures both endpoints answer with (admins only): the same period, the same order."""
    now = clock()
    period = service.requested_period(from_, to, now, settings.zone)
    with db.read() as session:
        return service.attendance_figures(session, period, now, sort)


RequestedFigures = Annotated[service.Figures, Depends(_requested_figures)]


@router.get("/attendance", response_model=AttendanceOut, responses=_ERRORS)
def attendance(figures: RequestedFigures) -> AttendanceOut:
    """Per volunteer: booked, attended, absent, not recorded, cancelled late; per schedule and
    per week: the fill rate."""
    return AttendanceOut.of(figures)


@router.get("/attendance.csv", response_class=Response, responses=_CSV)
def attendance_csv(figures: RequestedFigures) -> Response:
    """The per-volunteer figures of `GET /attendance` as a CSV download."""
    return download(export.attendance_csv(figures), export.filename(figures))
