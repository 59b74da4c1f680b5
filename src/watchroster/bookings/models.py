"""Bookings (a shift occurrence someone took) and the incident reports filed on them."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from watchroster.db.booking_table import Booking
from watchroster.db.engine import Base, UTCDateTime, utcnow

__all__ = ["Booking", "BookingFields", "IdempotencyKey", "Report", "ShiftSchedule"]


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint("severity BETWEEN 0 AND 2", name="severity"),
        # The alert caps count one reporter's recent serious reports (`report_alerts`).
        Index("ix_reports_user_id_created_at", "user_id", "created_at"),
    )

    report_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.booking_id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"))
    severity: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # A coordinator read it (`incidents.service.mark_reviewed`): who, when, an optional note.
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.user_id"))
    review_note: Mapped[str | None] = mapped_column(Text)
    # A serious report past the alert caps (issue #21 §2): stored, shown in the inbox, unsent.
    alert_suppressed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class IdempotencyKey(Base):
    """A request that may be retried (`bookings.idempotency`): what it answered, for 24 hours.

    Written in the transaction of the change it answers for, so a committed change always has
    its replay and a rolled-back one has none."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "request_key"),)

    idempotency_key_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"))
    request_key: Mapped[str] = mapped_column(String(64))
    # sha256 (hex) of method, path and canonical body: the same key with another body is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class BookingFields(Protocol):
    """What a booking response and its notices read: a `Booking` row, or the plain record the
    booking hot path (`bookings.create`) builds without the ORM."""

    @property
    def booking_id(self) -> int: ...
    @property
    def user_id(self) -> int: ...
    @property
    def schedule_id(self) -> int: ...
    @property
    def shift_start(self) -> datetime: ...
    @property
    def shift_end(self) -> datetime: ...
    @property
    def buddy_user_id(self) -> int | None: ...
    @property
    def buddy_name(self) -> str | None: ...
    @property
    def buddy_phone(self) -> str | None: ...
    @property
    def attended(self) -> bool: ...
    @property
    def buddy_attended(self) -> bool | None: ...
    @property
    def attendance_recorded_at(self) -> datetime | None: ...
    @property
    def canceled_at(self) -> datetime | None: ...
    @property
    def canceled_by_user_id(self) -> int | None: ...
    @property
    def cancel_reason(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def safe_at(self) -> datetime | None: ...
    @property
    def safe_by(self) -> int | None: ...
    @property
    def seat(self) -> int: ...


class ShiftSchedule(Protocol):
    """The parts of a schedule a booking response and its notices show."""

    @property
    def name(self) -> str: ...
    @property
    def timezone(self) -> str: ...
