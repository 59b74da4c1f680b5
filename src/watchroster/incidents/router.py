"""HTTP endpoints of the incident inbox (admins only); thin over `service`.

`GET /reports` stays as it was (volunteers see their own there); the inbox is the coordinators'
view with its own order, the shift and people beside each report, and the review marks.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from watchroster.auth.deps import AdminUser
from watchroster.csvexport import MEDIA_TYPE, attachment
from watchroster.deps import ClockDep, DbDep, SettingsDep
from watchroster.fields import PathId, QueryId
from watchroster.incidents import export, service
from watchroster.incidents.schemas import IncidentOut, IncidentPage, ReviewIn
from watchroster.timefmt import BOUND_PATTERN

router = APIRouter(tags=["incidents"])

MAX_PAGE = 200
Severity = Annotated[int | None, Query(ge=0, le=2, description="0, 1 or 2.")]
FromBound = Annotated[
    str | None,
    Query(
        alias="from",
        description="Filed from: a date (YYYY-MM-DD, group zone) or RFC 3339, inclusive.",
        json_schema_extra={"pattern": BOUND_PATTERN},
    ),
]
ToBound = Annotated[
    str | None,
    Query(
        description="Filed until: a date (inclusive) or RFC 3339 (exclusive).",
        json_schema_extra={"pattern": BOUND_PATTERN},
    ),
]
Unreviewed = Annotated[bool, Query(description="Only reports nobody has reviewed yet.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size, 1..200.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]

_LIST_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "a malformed filter, or from after to"},
    403: {"description": "admins only"},
}
_CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The inbox as CSV, in inbox order (header line first).",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    },
    **_LIST_ERRORS,
}
_REVIEW_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "a note over 1000 characters or with control characters"},
    403: {"description": "admins only"},
    404: {"description": "no such report"},
    409: {"description": "already reviewed (the first review stands)"},
}


@router.get("/incidents", response_model=IncidentPage, responses=_LIST_ERRORS)
def incidents(
    _admin: AdminUser,
    db: DbDep,
    settings: SettingsDep,
    severity: Severity = None,
    schedule_id: QueryId = None,
    from_: FromBound = None,
    to: ToBound = None,
    unreviewed: Unreviewed = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> IncidentPage:
    """Incident reports in inbox order: unreviewed serious ones first, then newest first."""
    where = service.inbox_filter(settings.zone, severity, schedule_id, from_, to, unreviewed)
    with db.read() as session:
        items, next_offset = service.inbox(session, where, limit, offset)
        return IncidentPage(items=[IncidentOut.of(i) for i in items], next_offset=next_offset)


@router.get("/incidents.csv", response_class=Response, responses=_CSV)
def incidents_csv(
    _admin: AdminUser,
    db: DbDep,
    settings: SettingsDep,
    clock: ClockDep,
    severity: Severity = None,
    schedule_id: QueryId = None,
    from_: FromBound = None,
    to: ToBound = None,
    unreviewed: Unreviewed = False,
) -> Response:
    """The reports `GET /incidents` lists with the same filters (up to 10,000), as CSV."""
    where = service.inbox_filter(settings.zone, severity, schedule_id, from_, to, unreviewed)
    with db.read() as session:
        items, _more = service.inbox(session, where, service.EXPORT_LIMIT)
        body = export.incidents_csv(items)
    headers = attachment(export.filename(clock().astimezone(settings.zone).date()))
    return Response(body, media_type=MEDIA_TYPE, headers=headers)


@router.post("/incidents/{report_id}/review", response_model=IncidentOut, responses=_REVIEW_ERRORS)
def review(
    report_id: PathId, body: ReviewIn, admin: AdminUser, db: DbDep, clock: ClockDep
) -> IncidentOut:
    """Mark a report as reviewed by the caller, now, with an optional note."""
    with db.write() as session:
        item = service.mark_reviewed(session, admin, report_id, body.note, clock())
        return IncidentOut.of(item)
