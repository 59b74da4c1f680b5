"""Outbox counts for operators: `watchroster outbox stats`, the `/readyz` details and the gauges of
`/metrics` (`outbox_gauges`, handed to the metrics middleware by `app.create_app`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
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


def outbox_gauges(session: Session, now: datetime) -> Iterator[Metric]:
    """The backlog by status and the age of the oldest pending message (`metrics.GaugeReader`)."""
    stats = outbox_stats(session, now)
    backlog = GaugeMetricFamily(
        "watchroster_outbox_rows", "Outbox rows by status.", labels=["status"]
    )
    for status, count in stats.counts.items():
        backlog.add_metric([status], count)
    yield backlog
    yield GaugeMetricFamily(
        "watchroster_outbox_oldest_pending_age_seconds",
        "Age of the oldest pending message (0 when none is pending).",
        value=stats.oldest_pending_age_seconds or 0.0,
    )
