"""The outbox: every message the service sends, written in the transaction of the change it
announces."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from watchroster.db.engine import Base, UTCDateTime, utcnow

STATUS_PENDING = "pending"
STATUS_SENT = "sent"
STATUS_FAILED = "failed"
STATUS_EXPIRED = "expired"
STATUSES = (STATUS_PENDING, STATUS_SENT, STATUS_FAILED, STATUS_EXPIRED)


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        # Keeps the dispatcher's "what is due" query cheap however many sent rows pile up.
        Index(
            "ix_outbox_due",
            "next_attempt_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_outbox_status_created", "status", "created_at"),
    )

    outbox_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_type: Mapped[str] = mapped_column(String(32))
    # Preferred channel ("sms" | "whatsapp"); NULL means the configured backend's own.
    channel: Mapped[str | None] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=STATUS_PENDING)
    # The same logical message is queued once; queueing it again is a no-op.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_message_id: Mapped[str | None] = mapped_column(String(120))


class JobRun(Base):
    """One row per run of a periodic job; the unique key makes each run happen once across
    workers."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job_name", "run_key"),)

    job_run_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_name: Mapped[str] = mapped_column(String(64))
    run_key: Mapped[str] = mapped_column(String(64))
    worker: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
