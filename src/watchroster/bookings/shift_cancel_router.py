"""HTTP endpoints of cancelled shifts: list, cancel one shift, undo (admins only).

Thin over the use cases `shift_cancel.cancel_one_shift` and `undo_shift_cancel` (which cancel
bookings, hence this package); the console pages (`web.admin.routes_exceptions`) call the same.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from watchroster.auth.deps import AdminUser
from watchroster.bookings import shift_cancel
from watchroster.core.fields import PathId
from watchroster.core.timefmt import parse_instant
from watchroster.http.deps import ContextDep, DbDep
from watchroster.schedules import exclusions
from watchroster.schedules.exception_schemas import ExceptionCreate, ExceptionOut, ShiftCancelOut
from watchroster.schedules.service import get_schedule

router = APIRouter(tags=["schedules"])

_ADMIN: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid field (the message names it)"},
    401: {"description": "Not logged in"},
    403: {"description": "Admins only"},
    404: {"description": "No such schedule (or cancelled shift)"},
}


@router.get(
    "/schedules/{schedule_id}/exceptions",
    response_model=list[ExceptionOut],
    responses=_ADMIN,
)
def list_exceptions(schedule_id: PathId, _admin: AdminUser, db: DbDep) -> list[ExceptionOut]:
    """The schedule's cancelled shifts, soonest first (past ones too, for history)."""
    with db.read() as session:
        schedule = get_schedule(session, schedule_id)
        found = exclusions.list_exceptions(session, schedule_id)
        return [ExceptionOut.of(exception, schedule) for exception in found]


@router.post(
    "/schedules/{schedule_id}/exceptions",
    status_code=201,
    response_model=ShiftCancelOut,
    responses={
        **_ADMIN,
        400: {
            "description": "start is not a shift of the schedule (not_an_occurrence), or a"
            " public holiday it already skips (public_holiday); or an invalid field"
        },
        409: {"description": "The shift has started, or is cancelled already"},
    },
)
def cancel_shift(
    schedule_id: PathId,
    body: ExceptionCreate,
    admin: AdminUser,
    context: ContextDep,
) -> ShiftCancelOut:
    """Cancel one shift with a reason: it is no longer offered or bookable; its bookings are
    cancelled and each volunteer and registered buddy is told the reason by message."""
    start = parse_instant(body.start, "start")
    with context.db.write() as session:
        done = shift_cancel.cancel_one_shift(
            session, context, admin, schedule_id, start, body.reason
        )
        out = ExceptionOut.of(done.exception, done.schedule)
        ids = [booking.booking_id for booking in done.bookings]
        return ShiftCancelOut(**out.model_dump(), canceled_booking_ids=ids)


@router.delete(
    "/schedules/{schedule_id}/exceptions/{exception_id}",
    status_code=204,
    responses={**_ADMIN, 409: {"description": "The shift has started: too late to undo"}},
)
def restore_shift(
    schedule_id: PathId, exception_id: PathId, admin: AdminUser, context: ContextDep
) -> Response:
    """Undo a cancellation before the shift starts: the slot is offered again. Bookings it
    cancelled stay cancelled."""
    with context.db.write() as session:
        shift_cancel.undo_shift_cancel(session, context, admin, schedule_id, exception_id)
    return Response(status_code=204)
