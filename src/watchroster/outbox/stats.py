"""Outbox counts for operators: `watchroster outbox stats` and the `/readyz` details."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchroster.outbox.models import STATUS_PENDING, STATUSES, OutboxMessage


@dataclass(frozen=True)
class OutboxStats:
    counts: dict[str, int]  # every status, zeros included
    # Age of the oldest pending message (None when nothing is pending): the number to alert on,
    # since a growing age means messages are not leaving.
    oldest_pending_age_seconds: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "oldest_pending_age_seconds": self.oldest_pending_age_seconds,
        }


def outbox_stats(session: Session, now: datetime) -> OutboxStats:
    counts = dict.fromkeys(STATUSES, 0)
    rows = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    for status, count in rows:
        counts[str(status)] = int(count)
    # ORDER BY + LIMIT instead of MIN(): it reads through the UTC column type on both databases
    # and uses the (status, created_at) index.
    oldest = session.scalar(
        select(OutboxMessage.created_at)
        .where(OutboxMessage.status == STATUS_PENDING)
        .order_by(OutboxMessage.created_at)
        .limit(1)
    )
    age = None if oldest is None else round(max((now - oldest).total_seconds(), 0.0), 3)
    return OutboxStats(counts=counts, oldest_pending_age_seconds=age)
