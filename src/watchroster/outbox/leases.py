"""The SQL of leasing outbox rows and of recording what became of them.

A lease is `claimed_by` (a token unique to one claim) plus `claimed_until`. Every write that
ends a lease is conditional on the token, so a worker whose lease ran out and was taken over
changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.orm import Session

from watchroster.outbox.models import STATUS_EXPIRED, STATUS_FAILED, STATUS_PENDING, OutboxMessage

_CLAIMED_COLUMNS = (
    OutboxMessage.outbox_id,
    OutboxMessage.message_type,
    OutboxMessage.channel,
    OutboxMessage.recipient,
    OutboxMessage.payload,
    OutboxMessage.attempts,
    OutboxMessage.next_attempt_at,
    OutboxMessage.last_error,
    OutboxMessage.expires_at,
    OutboxMessage.claimed_until,
    OutboxMessage.claimed_by,
)


@dataclass(frozen=True)
class Claimed:
    """One leased row, as plain data (the claim transaction is over when it is used)."""

    outbox_id: int
    message_type: str
    channel: str | None
    recipient: str
    payload: dict[str, Any]
    attempts: int  # including the attempt this lease is for
    next_attempt_at: datetime
    last_error: str | None
    expires_at: datetime | None
    claimed_until: datetime
    claimed_by: str


@dataclass(frozen=True)
class Outcome:
    """The new state of one claimed row; written only while the row is still leased to us."""

    outbox_id: int
    claim_token: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    channel: str | None
    sent_at: datetime | None = None
    provider_message_id: str | None = None

    @classmethod
    def unchanged(cls, message: Claimed) -> Outcome:
        return cls(
            outbox_id=message.outbox_id,
            claim_token=message.claimed_by,
            status=STATUS_PENDING,
            attempts=message.attempts,
            next_attempt_at=message.next_attempt_at,
            last_error=message.last_error,
            channel=message.channel,
        )

    def bind(self) -> dict[str, Any]:
        return {
            "b_id": self.outbox_id,
            "b_token": self.claim_token,
            "b_status": self.status,
            "b_attempts": self.attempts,
            "b_next": self.next_attempt_at,
            "b_error": self.last_error,
            "b_channel": self.channel,
            "b_sent_at": self.sent_at,
            "b_provider_id": self.provider_message_id,
        }


def claim_statement(
    now: datetime, until: datetime, token: str, *, limit: int, skip_locked: bool
) -> Any:
    """UPDATE … WHERE outbox_id IN (due rows) RETURNING …: leases up to `limit` due rows.

    On PostgreSQL the subquery locks with SKIP LOCKED, so concurrent workers take different rows
    instead of queueing behind each other. SQLite needs nothing more: the caller's BEGIN
    IMMEDIATE already makes its transaction the only writer."""
    due = (
        select(OutboxMessage.outbox_id)
        .where(
            OutboxMessage.status == STATUS_PENDING,
            OutboxMessage.next_attempt_at <= now,
            lease_free(now),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.outbox_id)
        .limit(limit)
    )
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    return (
        update(OutboxMessage)
        .where(OutboxMessage.outbox_id.in_(due.scalar_subquery()))
        .values(claimed_by=token, claimed_until=until, attempts=OutboxMessage.attempts + 1)
        .returning(*_CLAIMED_COLUMNS)
        .execution_options(synchronize_session=False)
    )


def release(message: Claimed) -> Outcome:
    """Give a claimed row back untouched: not attempted, so the attempt is not counted."""
    return replace(Outcome.unchanged(message), attempts=message.attempts - 1)


def failed(message: Claimed, error: str) -> Outcome:
    return replace(Outcome.unchanged(message), status=STATUS_FAILED, last_error=error)


def lease_free(now: datetime) -> Any:
    return or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now)


def expire_stale(session: Session, now: datetime) -> int:
    """Mark pending messages past their expiry `expired` (unless a live lease holds them)."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == STATUS_PENDING,
            OutboxMessage.expires_at <= now,
            lease_free(now),
        )
        .values(status=STATUS_EXPIRED, claimed_until=None, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def record_statement() -> Any:
    """One executemany UPDATE for a whole batch of outcomes (the bookkeeping is per batch)."""
    table = cast(Table, OutboxMessage.__table__)
    columns = table.c
    return (
        table.update()
        .where(
            columns.outbox_id == bindparam("b_id"),
            columns.claimed_by == bindparam("b_token"),
            columns.status == STATUS_PENDING,
        )
        .values(
            status=bindparam("b_status"),
            attempts=bindparam("b_attempts"),
            next_attempt_at=bindparam("b_next"),
            last_error=bindparam("b_error"),
            channel=bindparam("b_channel"),
            sent_at=bindparam("b_sent_at"),
            provider_message_id=bindparam("b_provider_id"),
            claimed_until=None,
            claimed_by=None,
        )
    )
