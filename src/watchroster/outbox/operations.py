"""Operator actions on the outbox: list messages, put failed or expired ones back in line, and
forget a recipient whose account was erased."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from watchroster.core.errors import BadRequest, Conflict, NotFound
from watchroster.core.logs import mask_phone
from watchroster.outbox import wakeup
from watchroster.outbox.models import (
    STATUS_EXPIRED,
    STATUS_FAILED,
    STATUS_PENDING,
    STATUSES,
    OutboxMessage,
)
from watchroster.outbox.stats import OutboxStats, outbox_stats

RETRYABLE = (STATUS_FAILED, STATUS_EXPIRED)


def list_messages(session: Session, status: str | None, limit: int) -> Sequence[OutboxMessage]:
    """Newest first, optionally of one status."""
    if status is not None and status not in STATUSES:
        raise BadRequest(
            f"unknown status {status!r}; expected one of {', '.join(STATUSES)}",
            code="unknown_status",
        )
    query = select(OutboxMessage).order_by(
        OutboxMessage.created_at.desc(), OutboxMessage.outbox_id.desc()
    )
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return session.scalars(query.limit(limit)).all()


def needing_attention(
    session: Session, now: datetime, limit: int
) -> tuple[OutboxStats, list[OutboxMessage]]:
    """The backlog's figures and the failed and expired messages (up to `limit` of each),
    newest first, read in one transaction: the console's messages page."""
    stats = outbox_stats(session, now)
    rows = [row for status in RETRYABLE for row in list_messages(session, status, limit)]
    return stats, sorted(rows, key=lambda row: row.created_at, reverse=True)


def retry_message(session: Session, outbox_id: int, now: datetime) -> OutboxMessage:
    """Put one failed or expired message back to pending, due now, with a fresh attempt budget.

    Its expiry is kept: a login code that expired stays useless, and the dispatcher expires it
    again rather than sending it."""
    message = session.get(OutboxMessage, outbox_id, with_for_update=True)
    if message is None:
        raise NotFound(f"no message #{outbox_id}", code="message_not_found")
    if message.status not in RETRYABLE:
        raise Conflict(
            f"message #{outbox_id} is {message.status}; only failed or expired messages "
            "can be retried",
            code="message_not_retryable",
        )
    _reset(message, now)
    session.flush()
    wakeup.ring_after_commit(session)  # an embedded dispatcher sends it right after the commit
    return message


def retry_failed(session: Session, now: datetime) -> int:
    """Put every failed or expired message back to pending; returns how many."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status.in_(RETRYABLE))
        .values(
            status=STATUS_PENDING,
            attempts=0,
            next_attempt_at=now,
            claimed_until=None,
            claimed_by=None,
        )
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        wakeup.ring_after_commit(session)
    return count


def _reset(message: OutboxMessage, now: datetime) -> None:
    message.status = STATUS_PENDING
    message.attempts = 0
    message.next_attempt_at = now
    message.claimed_until = None
    message.claimed_by = None


def forget_recipient(session: Session, phone: str, now: datetime) -> int:
    """Erase a phone number from the outbox (account erasure); returns the rows touched.

    Messages not yet sent are expired (the person asked to hear nothing more); every row keeps
    only a masked number and loses its text, so history counts stay without personal data.
    Clearing the claim also stops a worker that holds one of them from recording a result.
    """
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == phone)).all()
    for message in rows:
        if message.status == STATUS_PENDING:
            message.status = STATUS_EXPIRED
            message.last_error = "recipient erased their account"
        message.recipient = mask_phone(phone)
        message.payload = {"body": "", "params": {}, "erased": True}
        message.claimed_by = None
        message.claimed_until = None
    session.flush()
    return len(rows)
