"""HTTP endpoints of the incident inbox (admins only); thin over `service`.

`GET /reports` stays as it was (volunteers see their own there); the inbox is the coordinators'
view with its own order, the shift and people beside each report, and the review marks.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from watchroster.auth.deps import AdminUser
from watchroster.core.csvexport import documented, download
from watchroster.core.fields import PathId, QueryId, bound_query
from watchroster.http.deps import ClockDep, DbDep, SettingsDep
from watchroster.incidents import export, service
from watchroster.incidents.schemas import IncidentOut, IncidentPage, ReviewIn

router = APIRouter(tags=["incidents"])

MAX_PAGE = 200
Severity = Annotated[int | None, Query(ge=0, le=2, description="0, 1 or 2.")]
FromBound = Annotated[
    str | None,
    bound_query(
        "Filed from: a date (YYYY-MM-DD, group zone) or RFC 3339, inclusive.", alias="from"
    ),
]
ToBound = Annotated[
    str | None, bound_query("Filed until: a date (inclusive) or RFC 3339 (exclusive).")
]
Unreviewed = Annotated[bool, Query(description="Only reports nobody has reviewed yet.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size, 1..200.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]

_LIST_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "a malformed filter, or from after to"},
    403: {"description": "admins only"},
}
_CSV = {**documented("The inbox as CSV, in inbox order (header line first)."), **_LIST_ERRORS}
_ONE_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "admins only"},
    404: {"description": "no such report"},
}
_REVIEW_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "a note over 1000 characters or with control characters"},
    403: {"description": "admins only"},
    404: {"description": "no such report"},
    409: {"description": "already reviewed (the first review stands)"},
}


def _requested_filter(
    _admin: AdminUser,
    settings: SettingsDep,
    severity: Severity = None,
    schedule_id: QueryId = None,
    from_: FromBound = None,
    to: ToBound = None,
    unreviewed: Unreviewed = False,
) -> service.InboxFilter:
    """The filters the inbox and its CSV share (admins only)."""
    return service.inbox_filter(settings.zone, severity, schedule_id, from_, to, unreviewed)


RequestedFilter = Annotated[service.InboxFilter, Depends(_requested_filter)]


@router.get("/incidents", response_model=IncidentPage, responses=_LIST_ERRORS)
def incidents(
    where: RequestedFilter, db: DbDep, limit: Limit = 50, offset: Offset = 0
) -> IncidentPage:
    """Incident reports in inbox order: unreviewed serious ones first, then newest first."""
    with db.read() as session:
        items, next_offset = service.inbox(session, where, limit, offset)
        return IncidentPage(items=[IncidentOut.of(i) for i in items], next_offset=next_offset)


@router.get("/incidents.csv", response_class=Response, responses=_CSV)
def incidents_csv(
    where: RequestedFilter, db: DbDep, settings: SettingsDep, clock: ClockDep
) -> Response:
    """The reports `GET /incidents` lists with the same filters (up to 10,000), as CSV."""
    with db.read() as session:
        items, _more = service.inbox(session, where, service.EXPORT_LIMIT)
        body = export.incidents_csv(items)
    return download(body, export.filename(clock().astimezone(settings.zone).date()))


@router.get("/incidents/{report_id}", response_model=IncidentOut, responses=_ONE_ERRORS)
def incident(report_id: PathId, _admin: AdminUser, db: DbDep) -> IncidentOut:
    """One report as the inbox shows it (an urgent alert links to its console page)."""
    with db.read() as session:
        return IncidentOut.of(service.get_item(session, report_id))


@router.post("/incidents/{report_id}/review", response_model=IncidentOut, responses=_REVIEW_ERRORS)
def review(
    report_id: PathId, body: ReviewIn, admin: AdminUser, db: DbDep, clock: ClockDep
) -> IncidentOut:
    """Mark a report as reviewed by the caller, now, with an optional note."""
    with db.write() as session:
        item = service.mark_reviewed(session, admin, report_id, body.note, clock())
        return IncidentOut.of(item)
