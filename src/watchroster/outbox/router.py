"""HTTP endpoints of the outbox feature: admins inspect messages and retry failed ones.

Payloads never leave through here (a login code sits in one, sealed or not), and recipients
are masked: the page shows enough to tell messages apart and see why one failed.

Every endpoint is for admins. The admin check belongs to `auth`, which sits above the outbox, so
the entry point hands it in: `app.include_router(build_router(require_admin))`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from watchroster.core.fields import PathId
from watchroster.core.logs import mask_phone
from watchroster.http.deps import ClockDep, DbDep
from watchroster.outbox import operations
from watchroster.outbox.models import STATUSES, OutboxMessage


class OutboxMessageOut(BaseModel):
    outbox_id: int
    message_type: str
    channel: str | None
    recipient: str  # masked
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None
    expires_at: datetime | None

    @classmethod
    def of(cls, row: OutboxMessage) -> OutboxMessageOut:
        return cls(
            outbox_id=row.outbox_id,
            message_type=row.message_type,
            channel=row.channel,
            recipient=mask_phone(row.recipient),
            status=row.status,
            attempts=row.attempts,
            last_error=row.last_error,
            next_attempt_at=row.next_attempt_at,
            created_at=row.created_at,
            sent_at=row.sent_at,
            expires_at=row.expires_at,
        )


def list_outbox(
    db: DbDep,
    status: Annotated[
        str | None,
        Query(
            description="pending, sent, failed or expired; default all.",
            json_schema_extra={"enum": list(STATUSES)},
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[OutboxMessageOut]:
    """Queued messages, newest first."""
    with db.read() as session:
        return [
            OutboxMessageOut.of(row) for row in operations.list_messages(session, status, limit)
        ]


def retry_outbox_message(outbox_id: PathId, db: DbDep, clock: ClockDep) -> OutboxMessageOut:
    """Send a failed or expired message again (due now, attempts reset)."""
    with db.write() as session:
        return OutboxMessageOut.of(operations.retry_message(session, outbox_id, clock()))


def build_router(admin_check: Callable[..., Any]) -> APIRouter:
    """The outbox endpoints, each behind `admin_check` (a FastAPI dependency that refuses anyone
    but an admin). On the routes themselves, not on an enclosing router, so the OpenAPI document
    sees the login they need."""
    router = APIRouter(tags=["outbox"], dependencies=[Depends(admin_check)])
    router.get(
        "/admin/outbox",
        response_model=list[OutboxMessageOut],
        responses={
            400: {"description": "unknown status or limit out of range"},
            403: {"description": "admins only"},
        },
    )(list_outbox)
    router.post(
        "/admin/outbox/{outbox_id}/retry",
        response_model=OutboxMessageOut,
        responses={
            403: {"description": "admins only"},
            404: {"description": "no such message"},
            409: {"description": "the message is pending or already sent"},
        },
    )(retry_outbox_message)
    return router
