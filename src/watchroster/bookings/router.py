"""HTTP endpoints of bookings and incident reports: the actions are `usecases` (the pages call
the same), the lists and reads `service`.

Each endpoint owns its transaction: the commit has happened before the response is built, so a
201 means the booking and its messages are durable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from watchroster.auth.deps import CurrentUser, Principal, TokenHash
from watchroster.bookings import idempotency, service, usecases
from watchroster.bookings.idempotency import IdempotencyKeyHeader, RequestKey
from watchroster.bookings.schemas import (
    DEFAULT_PAGE,
    MAX_OFFSET,
    MAX_PAGE,
    AttendanceUpdate,
    BookingChanged,
    BookingCreate,
    BookingCreated,
    BookingDetail,
    BookingOut,
    BookingPage,
    BookingUpdate,
    ReportCreate,
    ReportOut,
    ReportPage,
)
from watchroster.core.config import Settings
from watchroster.core.fields import PathId, QueryId, bound_query
from watchroster.core.timefmt import parse_bound
from watchroster.http.deps import ContextDep, DbDep, SettingsDep, context_of
from watchroster.runtime.context import AppContext

router = APIRouter(tags=["bookings"])

BookingId = PathId
IdFilter = QueryId
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size, 1..200.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
FromBound = Annotated[
    str | None,
    bound_query("Date (YYYY-MM-DD, group zone) or RFC 3339, inclusive.", alias="from"),
]
ToBound = Annotated[str | None, bound_query("Date (inclusive) or RFC 3339 (exclusive).")]

Bound = datetime | None

# Documented so clients (and schema checkers) know every status these endpoints answer with;
# the body is always {"error", "code", "details"?}.
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "invalid body or query (code names the rule)"},
    401: {"description": "missing or invalid token"},
    403: {"description": "not your booking"},
    404: {"description": "no such booking or schedule"},
}
_CONFLICTS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    409: {"description": "slot taken, overlap, or the shift's state forbids it"},
}
_LIST_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _ERRORS[400],
    401: _ERRORS[401],
    403: {"description": "user_id is for admins"},
}
_REPORT_ERRORS: dict[int | str, dict[str, Any]] = {400: _ERRORS[400], 401: _ERRORS[401]}
# The endpoints that take an Idempotency-Key (see `idempotency`).
_KEYED: dict[int | str, dict[str, Any]] = {
    **_CONFLICTS,
    201: {"headers": idempotency.REPLAYED_RESPONSE_HEADER},
    409: {"description": f"{_CONFLICTS[409]['description']}; {idempotency.CONFLICT_DESCRIPTION}"},
    422: {"description": idempotency.REUSED_DESCRIPTION},
}


@router.post("/bookings", status_code=201, response_model=BookingCreated, responses=_KEYED)
async def create_booking(
    body: BookingCreate,
    token_hash: TokenHash,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Book one shift occurrence (optionally with a buddy) for the caller. The booking takes
    the shift's lowest free seat (`seat`); with none left: 409 `slot_taken`, "this shift is
    full"."""
    # The hot path (see `bookings.create`): the token is checked inside the booking's own
    # transaction, and the response is the reply's body as serialised once, not validated again.
    key = None
    if idempotency_key is not None:
        key = RequestKey.of(idempotency_key, "POST", request.url.path, body)
    reply = await usecases.book(context_of(request), token_hash, body, key)
    return reply.response()


def _bounds(settings: Settings, from_: str | None, to: str | None) -> tuple[Bound, Bound]:
    """`from`/`to` query values as instants; bare dates are days in the group's zone."""
    zone = settings.zone
    # `is not None`: an empty `from=` or `to=` is a malformed bound (400), not a missing one.
    start = parse_bound(from_, "from", zone, end_of_day=False) if from_ is not None else None
    end = parse_bound(to, "to", zone, end_of_day=True) if to is not None else None
    return start, end


@router.get("/bookings", response_model=BookingPage, responses=_LIST_ERRORS)
def list_bookings(
    caller: CurrentUser,
    db: DbDep,
    settings: SettingsDep,
    limit: Limit = DEFAULT_PAGE,
    offset: Offset = 0,
    user_id: Annotated[IdFilter, Query(description="Admins only.")] = None,
    schedule_id: IdFilter = None,
    from_: FromBound = None,
    to: ToBound = None,
    include_canceled: bool = False,
    role: Annotated[
        Literal["owner", "buddy"],
        Query(
            description="owner: bookings made by the caller (admins: everybody's). buddy: "
            "bookings naming the caller (admins: user_id, else the caller) as registered buddy."
        ),
    ] = "owner",
) -> BookingPage:
    """The caller's bookings (admins: everybody's), newest shift first; `role=buddy`: the
    shifts where the caller is the registered buddy."""
    start, end = _bounds(settings, from_, to)
    where = service.BookingFilter(user_id, schedule_id, start, end, include_canceled, role)
    with db.read() as session:
        rows, next_offset = service.list_bookings(
            session, caller, where, service.Page(limit, offset)
        )
        items = [BookingOut.of(booking, schedule) for booking, schedule in rows]
    return BookingPage(items=items, next_offset=next_offset)


@router.get("/bookings/{booking_id}", response_model=BookingDetail, responses=_ERRORS)
def get_booking(booking_id: BookingId, caller: CurrentUser, db: DbDep) -> BookingDetail:
    """One booking with its reports: its volunteer, its registered buddy, or an admin."""
    with db.read() as session:
        booking, schedule, reports = service.get_booking(session, caller, booking_id)
        base = BookingOut.of(booking, schedule)
        return BookingDetail(**base.model_dump(), reports=[ReportOut.of(r) for r in reports])


@router.delete("/bookings/{booking_id}", status_code=204, responses=_CONFLICTS)
def cancel_booking(booking_id: BookingId, caller: CurrentUser, context: ContextDep) -> Response:
    """Cancel before the shift starts; the slot is free again at once."""
    with context.db.write() as session:
        usecases.cancel(session, context, caller, booking_id)
    return Response(status_code=204)


def _record_attendance(
    booking_id: int, body: AttendanceUpdate, caller: Principal, context: AppContext
) -> BookingOut:
    with context.db.write() as session:
        booking, schedule = usecases.record_attendance(session, context, caller, booking_id, body)
        return BookingOut.of(booking, schedule)


@router.patch("/bookings/{booking_id}", response_model=BookingChanged, responses=_CONFLICTS)
def patch_booking(
    booking_id: BookingId,
    body: BookingUpdate,
    caller: CurrentUser,
    context: ContextDep,
) -> BookingChanged:
    """Record or correct attendance once the shift has started (the registered buddy: only
    `buddy_attended`), or, before it starts, name another buddy (the volunteer who booked; any
    buddy field replaces the buddy, none at all removes it; 409 `buddy_busy` when they are on
    an overlapping shift)."""
    if not body.changes_buddy:
        done = _record_attendance(booking_id, body.attendance(), caller, context)
        return BookingChanged(**done.model_dump())
    with context.db.write() as session:
        booking, schedule, told = usecases.change_buddy(
            session, context, caller, booking_id, body.buddy_change()
        )
        changed = BookingChanged.of(booking, schedule)
    changed.buddy_notified = told
    return changed


@router.post(
    "/bookings/{booking_id}/decline",
    status_code=204,
    responses={**_CONFLICTS, 403: {"description": "you are not this booking's registered buddy"}},
)
def decline_booking(booking_id: BookingId, caller: CurrentUser, context: ContextDep) -> Response:
    """The registered buddy says "I can't come" before the shift starts: the buddy link is
    removed and the volunteer told by message."""
    with context.db.write() as session:
        usecases.decline(session, context, caller, booking_id)
    return Response(status_code=204)


@router.post("/bookings/{booking_id}/safe", response_model=BookingOut, responses=_CONFLICTS)
def mark_safe(booking_id: BookingId, caller: CurrentUser, context: ContextDep) -> BookingOut:
    """Home safe: the volunteer, the registered buddy or an admin says everyone on the shift
    got home. Only once the shift has ended (409 `shift_not_ended`); again changes nothing."""
    with context.db.write() as session:
        booking, schedule = usecases.mark_safe(session, context, caller, booking_id)
        return BookingOut.of(booking, schedule)


@router.post("/bookings/{booking_id}/attendance", response_model=BookingOut, responses=_CONFLICTS)
def post_attendance(
    booking_id: BookingId, body: AttendanceUpdate, caller: CurrentUser, context: ContextDep
) -> BookingOut:
    """Same as PATCH /bookings/{booking_id}."""
    return _record_attendance(booking_id, body, caller, context)


@router.post(
    "/bookings/{booking_id}/report", status_code=201, response_model=ReportOut, responses=_KEYED
)
def file_report(
    booking_id: BookingId,
    body: ReportCreate,
    caller: CurrentUser,
    context: ContextDep,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """File an incident report on a started shift, until 24 h after its end; severity 2
    alerts the admins, within the alert caps."""
    key = None
    if idempotency_key is not None:
        key = RequestKey.of(idempotency_key, "POST", request.url.path, body)
    with context.db.write() as session:
        reply = usecases.file_report(session, context, caller, booking_id, body, key)
    return reply.response()


@router.get("/reports", response_model=ReportPage, responses=_REPORT_ERRORS)
def list_reports(
    caller: CurrentUser,
    db: DbDep,
    settings: SettingsDep,
    limit: Limit = DEFAULT_PAGE,
    offset: Offset = 0,
    severity: Annotated[int | None, Query(ge=0, le=2)] = None,
    schedule_id: IdFilter = None,
    from_: FromBound = None,
    to: ToBound = None,
) -> ReportPage:
    """Admins: every report, newest first. Volunteers: their own."""
    start, end = _bounds(settings, from_, to)
    where = service.ReportFilter(severity, schedule_id, start, end)
    with db.read() as session:
        reports, next_offset = service.list_reports(
            session, caller, where, service.Page(limit, offset)
        )
        return ReportPage(items=[ReportOut.of(r) for r in reports], next_offset=next_offset)
