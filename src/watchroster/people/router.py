"""HTTP endpoints of the console's people and messages (admins only).

Role and active changes stay `PATCH /users/{id}`, messages one by one `/admin/outbox`; these add
what the console shows beside them: the people list, the deliberate look at one number (a POST,
because it is logged and must never be fetched by a prefetch or a link preview), the backlog
counts and retrying every failed message, as `watchroster outbox stats` / `retry --failed` do.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from watchroster.auth.deps import AdminUser
from watchroster.core.fields import PathId
from watchroster.http.deps import ClockDep, ContextDep, DbDep
from watchroster.outbox import operations
from watchroster.outbox.stats import outbox_stats
from watchroster.people import service
from watchroster.people.schemas import OutboxStatsOut, PersonOut, PhoneOut, RetriedOut

router = APIRouter()

_ADMIN: dict[int | str, dict[str, str]] = {
    401: {"description": "Missing, unknown, expired or revoked token"},
    403: {"description": "Admins only"},
}


@router.get(
    "/people",
    tags=["people"],
    response_model=list[PersonOut],
    responses={**_ADMIN, 400: {"description": "limit or offset out of range"}},
)
def list_people(
    _admin: AdminUser,
    db: DbDep,
    clock: ClockDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[PersonOut]:
    """Members by name: masked number, role, last login, no-shows."""
    with db.read() as session:
        people = service.list_people(session, clock(), limit=limit, offset=offset)
        return [PersonOut.of(person) for person in people]


@router.post(
    "/users/{user_id}/phone",
    tags=["people"],
    response_model=PhoneOut,
    responses={**_ADMIN, 404: {"description": "No such user, or the account was erased"}},
)
def show_phone(user_id: PathId, admin: AdminUser, context: ContextDep) -> PhoneOut:
    """A member's full number. Logged: which admin looked at whose number."""
    with context.db.read() as session:
        phone = service.show_number(session, context, admin, user_id)
    return PhoneOut(user_id=user_id, phone=phone)


@router.get("/admin/outbox/stats", tags=["outbox"], response_model=OutboxStatsOut, responses=_ADMIN)
def backlog(_admin: AdminUser, db: DbDep, clock: ClockDep) -> OutboxStatsOut:
    """Messages per status and the age of the oldest pending one (`watchroster outbox stats`)."""
    with db.read() as session:
        stats = outbox_stats(session, clock())
    return OutboxStatsOut(
        counts=stats.counts, oldest_pending_age_seconds=stats.oldest_pending_age_seconds
    )


@router.post(
    "/admin/outbox/retry-failed", tags=["outbox"], response_model=RetriedOut, responses=_ADMIN
)
def retry_failed(_admin: AdminUser, db: DbDep, clock: ClockDep) -> RetriedOut:
    """Put every failed or expired message back in line (`watchroster outbox retry --failed`)."""
    with db.write() as session:
        return RetriedOut(retried=operations.retry_failed(session, clock()))
